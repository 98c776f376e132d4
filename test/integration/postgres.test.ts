import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, SetupError } from '../../infra/local/dynamodb-local.js';
import { type FaultProxy, startFaultProxy } from '../../infra/local/fault-proxy.js';
import {
  createReplica,
  initPrimary,
  type PostgresServer,
  replicationLag,
} from '../../infra/local/postgres.js';
import { onFreePort } from '../support/ports.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

const hasRow = (server: PostgresServer, id: string) =>
  server
    .query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE id = $1', [id], 1000)
    .then((r) => r[0]?.n === 1)
    .catch(() => false);

/** A primary, and a replica streaming from it through a fault proxy, in a fresh directory. */
async function startPair(dir: string) {
  const t0 = Date.now();
  const primary = await onFreePort((port) =>
    initPrimary({ dir: join(dir, `primary-${port}`), port, name: 'primary' }),
  );
  const t1 = Date.now();
  const link = await startFaultProxy({ name: 'primary→replica', target: primary.endpoint });
  const replica = await onFreePort((port) =>
    createReplica({ dir: join(dir, `replica-${port}`), port, name: 'replica', upstream: link.endpoint }),
  );
  console.log(`init primary ${t1 - t0} ms, base backup + start replica ${Date.now() - t1} ms`);
  await primary.query('CREATE TABLE items (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
  return { primary, replica, link };
}

// One pair for the tests that leave it as they found it; each starts from a healthy asynchronous pair and
// writes rows of its own, so that any one of them runs alone or in any order. Killing and promoting use a
// pair of their own below.
describe('local PostgreSQL: primary, replica through a fault proxy', () => {
  let dir: string;
  let primary: PostgresServer;
  let replica: PostgresServer;
  let link: FaultProxy;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-pg-'));
    ({ primary, replica, link } = await startPair(dir));
  });

  beforeEach(async () => {
    link.heal();
    await primary.setSynchronousStandbys(null);
    await until(
      'an asynchronous streaming standby',
      () => primary.standbys(),
      (s) => s[0]?.state === 'streaming' && s[0]?.syncState === 'async',
      10_000,
    );
  });

  afterAll(async () => {
    await Promise.allSettled([primary?.stop(), replica?.stop(), link?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a primary whose transactions are read-only by default is not writable (isWritable), and is again once reset', async () => {
    expect(await primary.isWritable(1000)).toBe(true);
    await primary.query('ALTER SYSTEM SET default_transaction_read_only = on');
    await primary.query('SELECT pg_reload_conf()');
    try {
      // The reload reaches sessions already open (the idle one the server keeps too) at their next command.
      await until(
        'the read-only default',
        () => primary.isWritable(1000),
        (w) => w === false,
        5_000,
      );
      await expect(primary.query("INSERT INTO items (id) VALUES ('ro-1')")).rejects.toThrow(/read-only/);
    } finally {
      await primary.query('ALTER SYSTEM RESET default_transaction_read_only');
      await primary.query('SELECT pg_reload_conf()');
    }
    await until(
      'writable again',
      () => primary.isWritable(1000),
      (w) => w === true,
      5_000,
    );
  });

  it('streams a committed row to the replica, through the proxy', async () => {
    await primary.query("INSERT INTO items (id) VALUES ('r1')");
    await until('r1 on the replica', () => hasRow(replica, 'r1'), Boolean, 5_000);
    expect(await replica.isInRecovery()).toBe(true);
    expect(await replica.isWritable(1000)).toBe(false);
    const [standby] = await primary.standbys();
    expect(standby).toMatchObject({ applicationName: 'replica', state: 'streaming', syncState: 'async' });
    expect(link.stats().bytesDown).toBeGreaterThan(0);
  });

  it('a cut link grows the lag; healing it catches up', async () => {
    link.cut('blackhole');
    for (let i = 0; i < 20; i++) await primary.query('INSERT INTO items (id) VALUES ($1)', [`cut-${i}`]);
    // The delay grows with the time the replica has not replayed the primary's commits.
    const during = await until(
      'the replay delay to grow past 450 ms',
      () => replicationLag(primary, replica),
      (l) => (l.replayDelayMs ?? 0) >= 450,
    );
    expect(during.bytes).toBeGreaterThan(0);
    expect(await hasRow(replica, 'cut-19')).toBe(false);
    const healedAt = Date.now();
    link.heal();
    const after = await until(
      'lag 0',
      () => replicationLag(primary, replica),
      (l) => l.bytes === 0,
      15_000,
    );
    console.log(
      `lag while cut ${during.bytes} bytes / ${during.replayDelayMs} ms; caught up ${Date.now() - healedAt} ms after heal`,
    );
    expect(after.replayLsn).toBe(after.primaryLsn);
    expect(await hasRow(replica, 'cut-19')).toBe(true);
  });

  it('synchronous: a commit waits for the standby while the link is cut', async () => {
    await primary.setSynchronousStandbys(['replica']);
    await until(
      'sync standby',
      () => primary.standbys(),
      (s) => s[0]?.syncState === 'sync',
      5_000,
    );
    await primary.query("INSERT INTO items (id) VALUES ('sync-1')");
    expect(await hasRow(replica, 'sync-1')).toBe(true);

    link.cut('blackhole');
    try {
      let committed = false;
      const pending = primary.query("INSERT INTO items (id) VALUES ('sync-2')", [], 20_000).then(() => {
        committed = true;
      });
      // The commit is in, waiting for the standby's confirmation (wait event SyncRep), and not done.
      await until(
        'the commit to wait for the standby',
        () =>
          primary.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
          ),
        (r) => r[0]?.n === 1,
      );
      expect(committed).toBe(false);
      expect(await primary.isWritable(500)).toBe(false);
      link.heal();
      await pending;
      expect(await hasRow(replica, 'sync-2')).toBe(true);
      expect(await primary.isWritable(1000)).toBe(true);
    } finally {
      link.heal();
      await primary.setSynchronousStandbys(null);
    }
    await until(
      'async standby',
      () => primary.standbys(),
      (s) => s[0]?.syncState === 'async',
      5_000,
    );
  });

  it('reports the memory of each server', async () => {
    const [p, r] = await Promise.all([primary.memory(), replica.memory()]);
    console.log(`memory: primary ${JSON.stringify(p)}, replica ${JSON.stringify(r)}`);
    expect(p.processes).toBeGreaterThan(1);
    expect(p.pssKb).toBeLessThan(100 * 1024);
    expect(r.pssKb).toBeLessThan(100 * 1024);
  });
});

describe('local PostgreSQL: losing the primary', () => {
  let dir: string;
  let pair: Awaited<ReturnType<typeof startPair>> | undefined;

  afterAll(async () => {
    await Promise.allSettled([pair?.primary.stop(), pair?.replica.stop(), pair?.link.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // One story on a pair of its own: each step needs the one before it.
  it('kill -9 of the primary: the replica keeps serving reads, promotes, and the primary restarts with its rows', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-pg-'));
    pair = await startPair(dir);
    const { primary, replica } = pair;
    await primary.query("INSERT INTO items (id) VALUES ('before-kill')");
    await until('before-kill on the replica', () => hasRow(replica, 'before-kill'), Boolean, 5_000);
    const t0 = Date.now();
    await primary.kill();
    console.log(`kill -9 primary ${Date.now() - t0} ms`);
    expect(primary.running()).toBe(false);
    await expect(primary.query('SELECT 1', [], 500)).rejects.toThrow();
    expect(await replica.isInRecovery()).toBe(true);
    expect(await hasRow(replica, 'before-kill')).toBe(true);
    const lag = await replicationLag(primary, replica);
    expect(lag.bytes).toBeNull();
    expect(lag.replayLsn).not.toBeNull();

    const { ms } = await replica.promote();
    console.log(`promote ${ms} ms`);
    expect(await replica.isInRecovery()).toBe(false);
    expect(await replica.isWritable()).toBe(true);
    await replica.query("INSERT INTO items (id) VALUES ('after-promote')");
    expect(await hasRow(replica, 'after-promote')).toBe(true);

    // After crash recovery, with its committed rows.
    await primary.start();
    expect(await hasRow(primary, 'before-kill')).toBe(true);
    expect(await primary.isWritable()).toBe(true);
  });
});

describe('local PostgreSQL setup errors', () => {
  it('refuses a port in use with a SetupError that says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cutover-pg-'));
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const addr = blocker.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      const err = await initPrimary({ dir: join(dir, 'p'), port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SetupError);
      expect((err as Error).message).toMatch(new RegExp(`port ${port}.*in use`));
    } finally {
      blocker.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the package to install when the binaries are missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cutover-pg-'));
    try {
      const err = await initPrimary({
        dir: join(dir, 'p'),
        port: await freePort(),
        binDir: join(dir, 'nope'),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SetupError);
      expect((err as Error).message).toMatch(/postgresql-15/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
