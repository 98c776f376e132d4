import { createServer, type Server, type Socket } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedRequests } from '#commons/request-timeouts.js';

/** A stand-in for a partitioned endpoint: it accepts the connection and never answers. */
let server: Server;
let port = 0;
const sockets: Socket[] = [];
beforeAll(async () => {
  server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const client = (requestHandler: Record<string, unknown>) =>
  new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
    requestHandler,
  });
const read = (c: DynamoDBClient) =>
  c.send(new GetItemCommand({ TableName: 'cutover-orders-control', Key: { pk: { S: 'orders' } } }));

describe('request timeouts that Cutover relies on are enforced', () => {
  it('a bounded client gives up on a stalled endpoint with a TimeoutError', async () => {
    const started = Date.now();
    await expect(read(client(boundedRequests(300)))).rejects.toMatchObject({ name: 'TimeoutError' });
    // Generous: the point is that it ends at all (the handler's own timer fired), not how fast on a busy machine.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('requestTimeout alone only warns: the same call is still waiting long after it', async () => {
    const pending = read(client({ requestTimeout: 300, connectionTimeout: 300 }));
    const outcome = await Promise.race([
      pending.then(
        () => 'answered',
        (e: Error) => `failed: ${e.name}`,
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 1_500)),
    ]);
    expect(outcome).toBe('still waiting');
  });
});
