import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
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

export async function startDynamoDbLocal(
  opts: { port?: number; heapMb?: number } = {},
): Promise<DynamoDbLocal> {
  const dir = emulatorDir();
  const port = opts.port ?? (await freePort());
  let output = '';
  const child: ChildProcess = spawn(
    'java',
    [
      `-Xmx${opts.heapMb ?? 256}m`,
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
    if (ready === 'up') break;
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
