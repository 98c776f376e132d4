import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, listensOn, SetupError } from '../../infra/local/dynamodb-local.js';

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
  let output = '';
  // -H 127.0.0.1: never listen beyond this machine. MOTO_PORT tells moto's own Step Functions interpreter
  // where to send a state machine's service calls (settings.moto_server_port); moto_server sets it only when
  // the variable is absent, and an inherited value would point it at another server.
  const child: ChildProcess = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOTO_PORT: String(port), PYTHONUNBUFFERED: '1' },
  });
  const append = (d: Buffer) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const spawnError = new Promise<NodeJS.ErrnoException>((resolve) => child.on('error', (e) => resolve(e)));

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      ping(endpoint).then((ok) => (ok ? 'up' : 'down')),
      exited.then(() => 'exited' as const),
      spawnError.then(() => 'error' as const),
    ]);
    if (ready === 'up' && (await listensOn(child.pid, port))) break;
    if (ready === 'error') {
      const e = await spawnError;
      throw new SetupError(
        e.code === 'ENOENT'
          ? `${command} is not on the PATH: install moto's server with ${MOTO_INSTALL} (pyenv users: then pyenv rehash)`
          : `could not start ${command}: ${e.message}`,
        { cause: e },
      );
    }
    if (ready === 'exited' || /Address already in use/.test(output)) {
      child.kill('SIGKILL');
      if (/Address already in use/.test(output)) throw new SetupError(`port ${port} is in use:\n${output}`);
      throw new SetupError(`${command} exited on port ${port}:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new SetupError(`${command} did not answer on port ${port} within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    port,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
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
