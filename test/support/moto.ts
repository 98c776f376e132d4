import { spawnServer, untilServing } from '../../infra/local/child-server.js';
import { freePort, SetupError } from '../../infra/local/dynamodb-local.js';

/** A moto_server process: AWS's APIs on the real wire protocol, in memory (https://docs.getmoto.org). */
export interface MotoServer {
  endpoint: string;
  port: number;
  log(): string;
  stop(): Promise<void>;
}

export const MOTO_INSTALL = "pip install 'moto[server]'";

/**
 * Starts moto_server on a free port. freePort() is only a hint: when another process takes the port before
 * moto binds it, werkzeug exits with "Address already in use" (or, worse, the other process answers the ping),
 * so a start counts only once this very process holds the listening socket; otherwise it tries another port.
 */
export async function startMotoServer(opts: { command?: string } = {}): Promise<MotoServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startOn(opts.command ?? 'moto_server', port);
    } catch (err) {
      if (!(err instanceof SetupError && /is in use/.test(err.message)) || attempt >= 5) throw err;
    }
  }
}

async function startOn(command: string, port: number): Promise<MotoServer> {
  // -H 127.0.0.1: never listen beyond this machine. MOTO_PORT tells moto's own Step Functions interpreter
  // where to send a state machine's service calls (settings.moto_server_port); moto_server sets it only when
  // the variable is absent, and an inherited value would point it at another server.
  const server = spawnServer(command, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_PORT: String(port), PYTHONUNBUFFERED: '1' },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const serving = await untilServing(server, port, () => ping(endpoint), {
    pollMs: 100,
    bindFailed: /Address already in use/,
  });
  if (serving !== 'up') server.child.kill('SIGKILL');
  switch (serving) {
    case 'up':
      return { endpoint, port, log: server.output, stop: server.stop };
    case 'error': {
      const e = await server.spawnError;
      throw new SetupError(
        e.code === 'ENOENT'
          ? `${command} is not on the PATH: install moto's server with ${MOTO_INSTALL} (pyenv users: then pyenv rehash)`
          : `could not start ${command}: ${e.message}`,
        { cause: e },
      );
    }
    case 'bind-failed':
      throw new SetupError(`port ${port} is in use:\n${server.output()}`);
    case 'exited':
      throw new SetupError(`${command} exited on port ${port}:\n${server.output()}`);
    case 'timeout':
      throw new SetupError(`${command} did not answer on port ${port} within 30 s:\n${server.output()}`);
  }
}

async function ping(endpoint: string): Promise<boolean> {
  try {
    // moto's own API answers a GET with its dashboard; AWS's endpoints would not.
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
