import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SetupError, startDynamoDbLocal } from '../../infra/local/dynamodb-local.js';

describe('DynamoDB Local start', () => {
  it('does not take the answers of another server on its port for its own', async () => {
    // What a port taken between freePort() and the JVM's bind looks like: something else answers HTTP there.
    const other = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    const { port } = other.address() as AddressInfo;
    try {
      const err = await startDynamoDbLocal({ port, heapMb: 128 }).then(
        async (ddb) => {
          await ddb.stop();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SetupError);
      expect((err as Error).message).toMatch(new RegExp(`port ${port} is in use`));
    } finally {
      other.close();
    }
  });
});
