import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import {
  type HeartbeatDeps,
  LEASE_RENEWAL_FAILED,
  PRIMARY_SELF_FENCED,
  runHeartbeat,
} from '#commons/heartbeat-loop.js';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import { safeToTakeAt } from '#core/lease.js';
import example from '../../examples/cutover.example.json' with { type: 'json' };
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { FakeClock } from '../support/fake-clock.js';

const PRIMARY = 'us-east-1';
const STANDBY = 'us-west-2';

let doc: DynamoDBDocumentClient;
let table: string;
let server: Server;
let healthUrl: string;
/** The local region's health as a function of the fake clock; the real HTTP server answers from it. */
let healthyAt: (t: number) => boolean = () => true;
let clock = new FakeClock();

beforeAll(async () => {
  const t = await freshTables('heartbeat');
  doc = t.doc;
  table = t.names.control;
  server = createServer((_req, res) => {
    res.statusCode = healthyAt(clock.now()) ? 200 : 503;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const config: CutoverConfig = loadConfig(example);

/** One invocation of 60 s on the fake clock; sleeping moves the clock, so a minute takes milliseconds. */
function invocation(app: string, region: string, over: Partial<HeartbeatDeps> = {}) {
  const publisher = new RecordingPublisher(() => clock.now());
  const leases = new DynamoLeaseStore(doc, table, config.lease, clock);
  const end = clock.now() + 60_000;
  const logs: string[] = [];
  const deps: HeartbeatDeps = {
    config: { ...config, application: app },
    region,
    leases,
    probe: probeHealth,
    publisher,
    clock,
    sleep: async (ms) => {
      clock.advance(ms);
    },
    remainingMs: () => end - clock.now(),
    healthUrl,
    log: (message) => logs.push(message),
    ...over,
  };
  return { run: () => runHeartbeat(deps), publisher, leases, logs };
}

describe('heartbeat on DynamoDB Local and a real health endpoint', () => {
  it('bootstraps the lease in the configured primary, then renews it every renew interval', async () => {
    clock = new FakeClock();
    healthyAt = () => true;
    const start = clock.now();
    const { run, leases, publisher, logs } = invocation('boot', PRIMARY);
    const ticks = await run();
    expect(ticks.map((t) => t.code)).toEqual([
      'BOOTSTRAPPED',
      'RENEWED',
      'RENEWED',
      'RENEWED',
      'RENEWED',
      'RENEWED',
    ]);
    expect(ticks.map((t) => t.at - start)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    const lease = await leases.read('boot');
    expect(lease).toMatchObject({
      holder: PRIMARY,
      epoch: 1,
      expiresAt: start + 50_000 + config.lease.ttlMs,
    });
    expect(publisher.events).toEqual([]);
    expect(logs[1]).toBe(`renewed epoch 1 until ${start + 10_000 + config.lease.ttlMs}`);

    // The next invocation (a cold start) reads the lease and keeps renewing it, at the same epoch.
    const next = await invocation('boot', PRIMARY).run();
    expect(next[0]).toMatchObject({ code: 'RENEWED', epoch: 1 });
  });

  it('never creates or takes the lease from the standby', async () => {
    clock = new FakeClock();
    healthyAt = () => true;
    const ticks = await invocation('standby', STANDBY).run();
    expect(new Set(ticks.map((t) => t.code))).toEqual(new Set(['NO_LEASE_STANDBY']));
    await invocation('standby', PRIMARY).run();
    clock.advance(10 * config.lease.ttlMs); // the primary's lease is long expired
    const later = await invocation('standby', STANDBY).run();
    expect(new Set(later.map((t) => t.code))).toEqual(new Set(['NOT_HOLDER']));
    expect((await new DynamoLeaseStore(doc, table, config.lease, clock).read('standby'))?.holder).toBe(
      PRIMARY,
    );
  });

  it('stops renewing while its own region is unhealthy, so the lease lapses (the region fences itself)', async () => {
    clock = new FakeClock();
    const start = clock.now();
    healthyAt = (t) => t < start + 25_000 || t >= start + 45_000;
    const { run, leases, publisher } = invocation('sick', PRIMARY);
    const ticks = await run();
    expect(ticks.map((t) => t.code)).toEqual([
      'BOOTSTRAPPED',
      'RENEWED',
      'RENEWED',
      'UNHEALTHY_NOT_RENEWING',
      'UNHEALTHY_NOT_RENEWING',
      'RENEWED',
    ]);
    expect(ticks[3]?.reason).toMatch(
      /^not renewing epoch 1: us-east-1 is unhealthy \(status 503\); the lease lapses at/,
    );
    // No renewal failed (it chose not to renew), but the lease ran out under a holder that nobody revoked: the
    // tick that finds it healthy again pages once before renewing.
    expect(publisher.ofType(LEASE_RENEWAL_FAILED)).toEqual([]);
    expect(ticks.map((t) => t.selfFenced !== undefined)).toEqual([false, false, false, false, false, true]);
    expect(publisher.ofType(PRIMARY_SELF_FENCED).map((e) => e.detail)).toEqual([
      expect.objectContaining({ region: PRIMARY, epoch: 1, code: 'EXPIRED', healthy: true }),
    ]);
    for (const e of publisher.events) expect(eventErrors(e.detailType, e.detail)).toEqual([]);
    // While it was unhealthy, the stored expiry stayed where the last healthy renewal put it.
    expect(ticks[3]?.expiresAt).toBe(start + 20_000 + config.lease.ttlMs);
    expect((await leases.read('sick'))?.expiresAt).toBe(start + 50_000 + config.lease.ttlMs);
  });

  it('logs a refused renewal and emits Lease Renewal Failed when the lease was revoked under it', async () => {
    clock = new FakeClock();
    const start = clock.now();
    healthyAt = () => true;
    const control = new DynamoLeaseStore(doc, table, config.lease, clock);
    // The failover revokes between the heartbeat's second and third tick.
    const { run, publisher, logs } = invocation('revoked', PRIMARY, {
      sleep: async (ms) => {
        clock.advance(ms);
        if (clock.now() === start + 20_000) {
          const cur = await control.read('revoked');
          if (cur) await control.revoke('revoked', cur.epoch);
        }
      },
    });
    const ticks = await run();
    expect(ticks.map((t) => t.code)).toEqual([
      'BOOTSTRAPPED',
      'RENEWED',
      'RENEWAL_REFUSED',
      'FENCED',
      'FENCED',
      'FENCED',
    ]);
    expect(ticks[2]?.reason).toBe(
      'renewal of epoch 1 refused (NOT_HOLDER): the lease is at epoch 2, held by nobody (revoked)',
    );
    expect(logs).toContain(ticks[2]?.reason);
    expect(publisher.ofType(LEASE_RENEWAL_FAILED)).toHaveLength(1);
    for (const e of publisher.ofType(LEASE_RENEWAL_FAILED))
      expect(eventErrors(e.detailType, e.detail)).toEqual([]);
    expect(publisher.events[0]?.detail).toMatchObject({
      application: 'revoked',
      region: PRIMARY,
      epoch: 1,
      code: 'RENEWAL_REFUSED',
      current: { holder: null, epoch: 2 },
    });

    // After the grant to the standby the old primary keeps its hands off.
    clock.t = safeToTakeAt((await control.read('revoked')) ?? { expiresAt: 0 }, config.lease);
    await control.grant('revoked', STANDBY, 2);
    const after = await invocation('revoked', PRIMARY).run();
    expect(new Set(after.map((t) => t.code))).toEqual(new Set(['NOT_HOLDER']));
  });

  it('reports a store error as a failed renewal, retries sooner, and survives a publisher outage', async () => {
    clock = new FakeClock();
    healthyAt = () => true;
    await invocation('errors', PRIMARY).run();
    const start = clock.now();
    const real = new DynamoLeaseStore(doc, table, config.lease, clock);
    const broken = new DynamoLeaseStore(doc, 'missing-table', config.lease, clock);
    let renewals = 0;
    const leases = {
      read: (a: string) => real.read(a),
      acquire: (a: string, r: string, e: number | null) => real.acquire(a, r, e),
      revoke: (a: string, e: number) => real.revoke(a, e),
      grant: (a: string, r: string, e: number) => real.grant(a, r, e),
      renew: (a: string, r: string, e: number) => {
        renewals++;
        return (renewals === 2 || renewals === 4 ? broken : real).renew(a, r, e);
      },
    };
    const publisher = new RecordingPublisher(() => clock.now());
    let busDown = true;
    const flakyBus = {
      publish: async (t: string, d: Record<string, unknown>) => {
        if (busDown) {
          busDown = false;
          throw new Error('bus unavailable');
        }
        await publisher.publish(t, d);
      },
    };
    const { run, logs } = invocation('errors', PRIMARY, { leases, publisher: flakyBus });
    const ticks = await run();
    expect(ticks.map((t) => [t.code, t.at - start])).toEqual([
      ['RENEWED', 0],
      ['RENEWAL_ERROR', 10_000],
      ['RENEWED', 12_000],
      ['RENEWAL_ERROR', 22_000],
      ['RENEWED', 24_000],
      ['RENEWED', 34_000],
      ['RENEWED', 44_000],
      ['RENEWED', 54_000],
    ]);
    expect(ticks[1]?.reason).toMatch(/^renewal of epoch 1 failed: StoreError: could not renew/);
    expect(logs).toContain('could not publish the failed renewal');
    expect(publisher.ofType(LEASE_RENEWAL_FAILED).map((e) => e.detail.code)).toEqual(['RENEWAL_ERROR']);
    for (const e of publisher.ofType(LEASE_RENEWAL_FAILED))
      expect(eventErrors(e.detailType, e.detail)).toEqual([]);
    expect((await real.read('errors'))?.expiresAt).toBe(start + 54_000 + config.lease.ttlMs);
  });
});
