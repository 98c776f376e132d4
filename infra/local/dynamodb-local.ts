import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/** A DynamoDB Local process (the real jar shipped inside amplify-dynamodb-simulator), in memory. */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  log(): string;
  stop(): Promise<void>;
}

export class SetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SetupError';
  }
}

export function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('amplify-dynamodb-simulator/package.json');
  const dir = join(dirname(pkg), 'emulator');
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new SetupError(`DynamoDBLocal.jar not found in ${dir}; run npm install`);
  }
  return dir;
}

/**
 * A port that was free when it looked. Only a hint: another process may take it before the caller binds it,
 * so whatever listens on it must tell that apart and retry (startDynamoDbLocal, test/support/ports.ts).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts DynamoDB Local on `opts.port`, or on a free port. A free port is only free when freePort() looked:
 * when another process takes it before the JVM binds it (a second or so later), this start goes on to
 * another port instead of failing, or of taking the other process's answers for its own.
 */
export async function startDynamoDbLocal(
  opts: { port?: number; heapMb?: number } = {},
): Promise<DynamoDbLocal> {
  if (opts.port !== undefined) return startOn(opts.port, opts.heapMb);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), opts.heapMb);
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= 5) throw err;
    }
  }
}

class PortInUseError extends SetupError {
  constructor(port: number, output: string) {
    super(`port ${port} is in use: free it or choose another\n${output}`);
    this.name = 'PortInUseError';
  }
}

async function startOn(port: number, heapMb = 256): Promise<DynamoDbLocal> {
  const dir = emulatorDir();
  let output = '';
  const child: ChildProcess = spawn(
    'java',
    [
      `-Xmx${heapMb}m`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.on('error', (e) => resolve(e)));

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      ping(endpoint).then((ok) => (ok ? 'up' : 'down')),
      exited.then(() => 'exited' as const),
      spawnError.then(() => 'error' as const),
    ]);
    // Jetty logs the failed bind and the JVM lives on, so a process that took the port would answer the ping.
    if (/Failed to bind/.test(output)) {
      child.kill('SIGKILL');
      throw new PortInUseError(port, output);
    }
    if (ready === 'up' && (await listensOn(child.pid, port))) break;
    if (ready === 'error') {
      throw new SetupError(
        'could not start java: install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)',
      );
    }
    if (ready === 'exited') throw new SetupError(`DynamoDB Local exited on port ${port}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new SetupError(`DynamoDB Local did not answer on port ${port} within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    endpoint,
    port,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Whether process `pid` holds the listening socket on `port`: the listener's inode in /proc/net/tcp{,6} is one
 * of the process's file descriptors. Where /proc cannot tell (not Linux), it answers true.
 */
export async function listensOn(pid: number | undefined, port: number): Promise<boolean> {
  if (pid === undefined || !existsSync('/proc/net/tcp')) return true;
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const tables = await Promise.all(
    ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => '')),
  );
  const listening = new Set(
    tables
      .flatMap((t) => t.split('\n').slice(1))
      .map((line) => line.trim().split(/\s+/))
      .filter((c) => c[1]?.endsWith(hexPort) && c[3] === '0A')
      .map((c) => `socket:[${c[9]}]`),
  );
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => null);
  if (!fds) return true;
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (listening.has(target)) return true;
  }
  return false;
}

async function ping(endpoint: string): Promise<boolean> {
  try {
    // Any HTTP answer (DynamoDB Local answers 400 to a bare POST) means it is listening.
    const res = await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
