import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { spawnServer, untilServing } from './child-server.js';

/** A DynamoDB Local process (the real jar shipped inside amplify-dynamodb-simulator), in memory. */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  log(): string;
  stop(): Promise<void>;
  /** SIGKILL now, synchronously: for a process 'exit' handler, where nothing asynchronous runs any more. */
  kill(): void;
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
  const server = spawnServer(
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
    { cwd: dir },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  // Jetty logs the failed bind and the JVM lives on, so a process that took the port would answer the ping.
  const serving = await untilServing(server, port, () => ping(endpoint), {
    pollMs: 150,
    bindFailed: /Failed to bind/,
  });
  if (serving !== 'up') server.child.kill('SIGKILL');
  switch (serving) {
    case 'up':
      return {
        endpoint,
        port,
        log: server.output,
        stop: server.stop,
        kill: () => {
          if (server.child.exitCode === null) server.child.kill('SIGKILL');
        },
      };
    case 'bind-failed':
      throw new PortInUseError(port, server.output());
    case 'error':
      throw new SetupError(
        'could not start java: install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)',
      );
    case 'exited':
      throw new SetupError(`DynamoDB Local exited on port ${port}:\n${server.output()}`);
    case 'timeout':
      throw new SetupError(`DynamoDB Local did not answer on port ${port} within 30 s:\n${server.output()}`);
  }
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
