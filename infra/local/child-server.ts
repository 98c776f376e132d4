import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * A local server started as a child process (DynamoDB Local's JVM, moto_server): its output, kept bounded, its
 * exit and its spawn error, and a stop that escalates from SIGTERM to SIGKILL.
 */
export interface ChildServer {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  spawnError: Promise<NodeJS.ErrnoException>;
  stop(): Promise<void>;
}

export function spawnServer(command: string, args: string[], options: SpawnOptions): ChildServer {
  let output = '';
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const append = (d: Buffer) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const spawnError = new Promise<NodeJS.ErrnoException>((resolve) => child.on('error', (e) => resolve(e)));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    spawnError,
    stop: async () => {
      if (!running()) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (running()) child.kill('SIGKILL');
    },
  };
}

export type Serving = 'up' | 'exited' | 'error' | 'bind-failed' | 'timeout';

/**
 * Polls until the server answers `ping` on `port` and this very process holds the listening socket (another
 * process that took the port first would answer the ping too), or until it exits, fails to spawn, says in its
 * output that it could not bind, or the deadline passes. The caller turns each outcome into its own error.
 */
export async function untilServing(
  s: ChildServer,
  port: number,
  ping: () => Promise<boolean>,
  opts: { pollMs: number; deadlineMs?: number; bindFailed: RegExp },
): Promise<Serving> {
  const deadline = Date.now() + (opts.deadlineMs ?? 30_000);
  for (;;) {
    const ready = await Promise.race([
      ping().then((ok) => (ok ? 'up' : 'down')),
      s.exited.then(() => 'exited' as const),
      s.spawnError.then(() => 'error' as const),
    ]);
    if (opts.bindFailed.test(s.output())) return 'bind-failed';
    if (ready === 'up' && (await listensOn(s.child.pid, port))) return 'up';
    if (ready === 'error' || ready === 'exited') return ready;
    if (Date.now() > deadline) return 'timeout';
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
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
