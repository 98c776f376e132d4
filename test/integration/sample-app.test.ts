import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../infra/local/fault-proxy.js';
import { createReplica, initPrimary, type PostgresServer } from '../../infra/local/postgres.js';
import {
  advanceFence,
  createOrdersSchema,
  listOrders,
  type SampleApp,
  startSampleApp,
} from '../../infra/local/sample-app.js';
import { type FakeGuard, holding } from '../support/fake-guard.js';
import { onFreePort } from '../support/ports.js';

async function call(url: string, method: 'GET' | 'POST', body?: unknown) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, json, ms: performance.now() - t0 };
}

const order = (app: SampleApp, id: string) => call(`${app.url}/orders`, 'POST', { id });

// One primary (reached through a fault proxy, the app → database link) and one replica for the file.
describe('sample app', () => {
  let dir: string;
  let primary: PostgresServer;
  let replica: PostgresServer;
  let dbLink: FaultProxy;
  let replicationLink: FaultProxy;
  let guard: FakeGuard;
  let app: SampleApp;
  let standbyApp: SampleApp;
  const rowIds = async () => (await listOrders(primary.endpoint)).map((r) => r.id);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-app-'));
    primary = await onFreePort((port) => initPrimary({ dir: join(dir, `primary-${port}`), port }));
    await createOrdersSchema(primary.endpoint);
    replicationLink = await startFaultProxy({ name: 'replication', target: primary.endpoint });
    replica = await onFreePort((port) =>
      createReplica({
        dir: join(dir, `replica-${port}`),
        port,
        name: 'standby',
        upstream: replicationLink.endpoint,
      }),
    );
    dbLink = await startFaultProxy({ name: 'app→db', target: primary.endpoint });
    guard = holding(1);
    app = await startSampleApp({
      region: 'us-east-1',
      database: dbLink.endpoint,
      guard,
      writeTimeoutMs: 800,
      healthTimeoutMs: 300,
    });
    standbyApp = await startSampleApp({ region: 'us-west-2', database: replica.endpoint, guard: holding(1) });
  });

  // Each test starts from no orders, the fence at 0, a guard holding epoch 1, healthy links and asynchronous
  // replication, so that any one of them runs alone or in any order.
  beforeEach(async () => {
    dbLink.heal();
    replicationLink.heal();
    app.slow(null);
    await primary.setSynchronousStandbys(null);
    await primary.query('DELETE FROM orders');
    await primary.query('UPDATE order_fence SET epoch = 0 WHERE singleton');
    guard.hold(1);
  });

  afterAll(async () => {
    await Promise.allSettled([app?.stop(), standbyApp?.stop()]);
    await Promise.allSettled([dbLink?.stop(), replicationLink?.stop()]);
    await Promise.allSettled([primary?.stop(), replica?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('acknowledges a committed write with its region and epoch', async () => {
    const res = await order(app, 'o-1');
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: 'o-1', region: 'us-east-1', epoch: 1 });
    expect(await listOrders(primary.endpoint)).toContainEqual({ id: 'o-1', epoch: 1, region: 'us-east-1' });
  });

  it('answers 503 with the reason and writes nothing when the guard refuses', async () => {
    guard.fence(2);
    try {
      const res = await order(app, 'o-fenced');
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({
        code: 'FENCED',
        reason: 'lease revoked at epoch 2: writes are fenced',
      });
      expect(await rowIds()).not.toContain('o-fenced');
    } finally {
      guard.hold(1);
    }
  });

  it('rejects a write whose epoch is lower than the highest stored', async () => {
    guard.hold(3);
    expect((await order(app, 'o-3')).status).toBe(201);
    guard.hold(2);
    const res = await order(app, 'o-stale');
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: 'STALE_EPOCH', epoch: 2 });
    expect(String(res.json.reason)).toContain('(3)');
    expect(await rowIds()).not.toContain('o-stale');

    // A granted lease can raise the fence before the new holder's first write.
    expect(await advanceFence(primary.endpoint, 5)).toBe(5);
    guard.hold(4);
    expect((await order(app, 'o-4')).status).toBe(409);
    guard.hold(5);
    expect((await order(app, 'o-5')).status).toBe(201);
  });

  it('a lower epoch waits for an uncommitted higher one and is then rejected', async () => {
    // The case a max(epoch) subquery gets wrong under READ COMMITTED: the higher-epoch row is not visible yet.
    const tx = new pg.Client({ connectionString: primary.connectionString });
    await tx.connect();
    try {
      await tx.query('BEGIN');
      await tx.query('UPDATE order_fence SET epoch = 7 WHERE singleton');
      await tx.query("INSERT INTO orders (id, epoch, region) VALUES ('tx-7', 7, 'us-west-2')");
      guard.hold(6);
      let answered = false;
      const pending = order(app, 'o-6-late').then((r) => {
        answered = true;
        return r;
      });
      // The app's fence update is queued behind the open transaction's row lock.
      await vi.waitFor(
        async () => {
          const [row] = await primary.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%order_fence%'",
          );
          expect(row?.n).toBe(1);
        },
        { timeout: 10_000, interval: 25 },
      );
      expect(answered).toBe(false);
      await tx.query('COMMIT');
      const res = await pending;
      expect(res.status).toBe(409);
      expect(res.json.code).toBe('STALE_EPOCH');
      expect(await rowIds()).not.toContain('o-6-late');
    } finally {
      await tx.end();
      guard.hold(7);
    }
  });

  it('refuses a duplicate id without a second row', async () => {
    guard.hold(7);
    expect((await order(app, 'o-dup')).status).toBe(201);
    const res = await order(app, 'o-dup');
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('DUPLICATE');
  });

  it('a standby database never acknowledges, whatever the guard says', async () => {
    const res = await order(standbyApp, 'o-standby');
    expect(res.status).toBe(503);
    expect(res.json.code).toBe('READ_ONLY');
    const health = await call(`${standbyApp.url}/health`, 'GET');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', region: 'us-west-2', database: 'replica' });
  });

  it('health is 200 with a reachable database, 503 within its timeout when the link is cut', async () => {
    const ok = await call(`${app.url}/health`, 'GET');
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ status: 'ok', database: 'primary' });
    dbLink.cut('blackhole');
    const down = await call(`${app.url}/health`, 'GET');
    expect(down.status).toBe(503);
    // Answered by the health check's own timeout, not by a connection error.
    expect(String(down.json.reason)).toMatch(/timeout/i);
    const write = await order(app, 'o-cut');
    expect(write.status).toBe(503);
    expect(write.json.code).toBe('DB_UNAVAILABLE');
    dbLink.heal();
    expect((await call(`${app.url}/health`, 'GET')).status).toBe(200);
  });

  it('under synchronous replication, a commit the standby did not confirm is never acknowledged', async () => {
    await primary.setSynchronousStandbys(['standby']);
    try {
      // pg_reload_conf() only signals: until the checkpointer has read the new setting and the standby reports as
      // sync, commits do not wait for it (seen under load: the unconfirmed write was acknowledged). Wait for both.
      const db = new pg.Client({
        host: primary.endpoint.host,
        port: primary.endpoint.port,
        user: 'postgres',
      });
      await db.connect();
      try {
        await vi.waitFor(
          async () => {
            const r = await db.query<{ sync_state: string }>(
              "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'",
            );
            expect(r.rows[0]?.sync_state).toBe('sync');
          },
          { timeout: 10_000, interval: 50 },
        );
      } finally {
        await db.end();
      }
      expect((await order(app, 'o-sync')).status).toBe(201);
      replicationLink.cut('blackhole');
      const res = await order(app, 'o-unconfirmed');
      expect(res.status).toBe(503);
      expect(res.json.code).toBe('NOT_REPLICATED');
      // Committed on the primary, not acknowledged: allowed; the reverse would lose an acknowledged write.
      expect(await rowIds()).toContain('o-unconfirmed');
    } finally {
      replicationLink.heal();
      await primary.setSynchronousStandbys(null);
    }
  });

  it('does not acknowledge once the lease has run out for writes', async () => {
    guard.hold(7, 200);
    app.slow({ orderDelayMs: 300 });
    const res = await order(app, 'o-late');
    expect(res.status).toBe(503);
    expect(res.json.code).toBe('LEASE_RAN_OUT');
    expect(await rowIds()).not.toContain('o-late');
    guard.hold(7);
  });

  it('can be made slow on /health (gray failure)', async () => {
    app.slow({ healthDelayMs: 400 });
    const res = await call(`${app.url}/health`, 'GET');
    expect(res.status).toBe(200);
    expect(res.ms).toBeGreaterThanOrEqual(390);
  });

  it('kill drops the app off the network; start brings it back on the same port', async () => {
    const port = app.port;
    await app.kill();
    await expect(call(`${app.url}/health`, 'GET')).rejects.toThrow();
    await app.start();
    expect(app.port).toBe(port);
    expect((await order(app, 'o-after-restart')).status).toBe(201);
    expect(app.stats().outcomes.ACKED).toBeGreaterThan(0);
  });
});
