import { describe, expect, it } from 'vitest';
import { SetupError } from '../../infra/local/dynamodb-local.js';
import { startMotoServer } from '../support/moto.js';

describe('the aws tier setup', () => {
  it('without moto_server on the PATH, fails saying how to install it', async () => {
    const err = await startMotoServer({ command: 'moto_server-not-installed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as Error).message).toBe(
      "moto_server-not-installed is not on the PATH: install moto's server with pip install 'moto[server]' (pyenv users: then pyenv rehash)",
    );
  });
});
