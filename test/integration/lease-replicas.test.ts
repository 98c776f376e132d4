import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import {
  type AbortableLeaseStore,
  ReplicaLeaseStore,
  replicaLeaseStore,
} from '#adapters/dynamodb/replica-lease-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import { boundedLeaseClient } from '#commons/request-timeouts.js';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import { systemClock } from '#core/ports.js';
import { LEASE_RENEWAL_FAILED, LeaseKeeper, urlHealth } from '#guard/lease-keeper.js';
import example from '../../examples/cutover.example.json' with { type: 'json' };
import { freshTables } from '../support/dynamodb.js';

/**
 * A lease replica that fails the way a partitioned region does: it accepts the TCP connection and never
 * answers. Every timeout the renewal relies on must end the call, whatever the socket does.
 */
let stall: Server;
let stallUrl = '';
const sockets: Socket[] = [];
let endpoint = '';
let doc: DynamoDBDocumentClient;
let table = '';
let health: HttpServer;
let healthUrl = '';
let healthDelayMs = 0;

beforeAll(async () => {
  stall = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
  stallUrl = `http://127.0.0.1:${(stall.address() as AddressInfo).port}`;
  const t = await freshTables('replicas');
  endpoint = t.endpoint;
  doc = t.doc;
  table = t.names.control;
  health = createHttpServer((_req, res) => {
    setTimeout(() => res.end('ok'), healthDelayMs);
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => stall.close(r));
  health.closeAllConnections();
  await new Promise((r) => health.close(r));
});

const RETRY_MS = 600;
const config: CutoverConfig = loadConfig({
  ...example,
  lease: { ...example.lease, retryTimeoutMs: RETRY_MS },
});
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** The stand-in or DynamoDB Local, through the same bounded client the heartbeat builds. */
const clientTo = (url: string, timeoutMs = RETRY_MS) =>
  boundedLeaseClient('us-east-1', timeoutMs, { endpoint: url, credentials });
const storeAt = (url: string, timeoutMs?: number) =>
  new DynamoLeaseStore(clientTo(url, timeoutMs), table, config.lease, systemClock);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error: error as Error };
  }
}

// Slack for the event loop on a busy 2-core machine; the budget itself is what the assertions are about.
const SLACK_MS = 250;

describe('lease renewal through any replica, every timeout enforced (a stand-in that stalls)', () => {
  it('the local replica stalls: the renewal goes through the next one, within retryTimeout', async () => {
    const app = 'stall-local';
    await new DynamoLeaseStore(doc, table, config.lease, systemClock).acquire(app, 'us-east-1', null);
    const fallbacks: string[] = [];
    const store = new ReplicaLeaseStore({
      replicas: [
        { region: 'us-east-1', store: storeAt(stallUrl) },
        { region: 'us-east-2', store: storeAt(endpoint) },
      ],
      budgetMs: RETRY_MS,
      onFallback: (from, to) => fallbacks.push(`${from}->${to}`),
    });
    const r = await timed(() => store.renew(app, 'us-east-1', 1));
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ ok: true, lease: { holder: 'us-east-1', epoch: 1 } });
    expect(fallbacks).toEqual(['us-east-1->us-east-2']);
    // The stalled replica had its half of the budget, no more.
    expect(r.ms).toBeGreaterThanOrEqual(RETRY_MS / 2 - 5);
    expect(r.ms).toBeLessThan(RETRY_MS + SLACK_MS);
  });

  it('a refusal from a replica is the answer: the next one is not asked', async () => {
    const app = 'refused';
    await new DynamoLeaseStore(doc, table, config.lease, systemClock).acquire(app, 'us-west-2', null);
    const store = new ReplicaLeaseStore({
      replicas: [
        { region: 'us-east-1', store: storeAt(endpoint) },
        { region: 'us-east-2', store: storeAt(stallUrl) },
      ],
      budgetMs: RETRY_MS,
    });
    const r = await timed(() => store.renew(app, 'us-east-1', 1));
    expect(r.value).toMatchObject({ ok: false, code: 'NOT_HOLDER', current: { holder: 'us-west-2' } });
    expect(r.ms).toBeLessThan(RETRY_MS / 2);
  });

  it('every replica stalls: the call ends within retryTimeout with a StoreError naming each one', async () => {
    const store = new ReplicaLeaseStore({
      replicas: ['us-east-1', 'us-east-2', 'us-west-2'].map((region) => ({
        region,
        store: storeAt(stallUrl),
      })),
      budgetMs: RETRY_MS,
    });
    const r = await timed(() => store.renew('all-stalled', 'us-east-1', 1));
    expect(r.error?.name).toBe('StoreError');
    // Each replica gets an equal share of what is left (200 ms here, a millisecond less after the first).
    expect(r.error?.message).toMatch(
      /^could not renew the lease of all-stalled for us-east-1 through any lease replica \(us-east-1: no answer within (19\d|200) ms; us-east-2: no answer within (19\d|200) ms; us-west-2: no answer within (19\d|200) ms\)$/,
    );
    expect(r.ms).toBeGreaterThanOrEqual(RETRY_MS - 15);
    expect(r.ms).toBeLessThan(RETRY_MS + SLACK_MS);
  });

  it('the abort signal ends the call even when the client’s own timeout is far longer', async () => {
    const store = new ReplicaLeaseStore({
      replicas: [{ region: 'us-east-1', store: storeAt(stallUrl, 30_000) }],
      budgetMs: 300,
    });
    const r = await timed(() => store.read('slow-client'));
    expect(r.error?.message).toMatch(/\(us-east-1: no answer within (29\d|300) ms\)$/);
    expect(r.ms).toBeLessThan(300 + SLACK_MS);
  });

  it('a bounded client alone (no signal) also gives up on the stalled replica, with a TimeoutError', async () => {
    const r = await timed(() => storeAt(stallUrl, 300).read('bounded'));
    expect(r.error?.name).toBe('StoreError');
    expect((r.error as Error & { cause: Error }).cause.name).toBe('TimeoutError');
    expect(r.ms).toBeLessThan(300 + 2 * SLACK_MS);
  });

  it('replicaLeaseStore orders the replicas from the configuration, this region first', () => {
    const seen: string[] = [];
    const store = replicaLeaseStore({
      config,
      region: 'us-west-2',
      tableName: table,
      clock: systemClock,
      clientFor: (region) => {
        seen.push(region);
        return clientTo(endpoint);
      },
    });
    expect(store.regions).toEqual(['us-west-2', 'us-east-2', 'us-east-1']);
    expect(seen).toEqual(store.regions);
  });
});

describe('LeaseKeeper on DynamoDB Local, a real health endpoint and a stalled local replica', () => {
  const keeperWith = (app: string, probeTimeoutMs: number, replicas: string[]) => {
    const publisher = new RecordingPublisher();
    const keeper = new LeaseKeeper({
      application: app,
      region: 'us-east-1',
      primaryRegion: 'us-east-1',
      timing: { ...config.lease, renewIntervalMs: 1_000 },
      leases: new ReplicaLeaseStore({
        replicas: replicas.map((url, i) => ({ region: `replica-${i}`, store: storeAt(url) })),
        budgetMs: RETRY_MS,
      }),
      health: urlHealth(probeHealth, healthUrl, { connectTimeoutMs: 300, responseTimeoutMs: probeTimeoutMs }),
      publisher,
    });
    return { keeper, publisher };
  };

  it('renews through the next replica while the local one stalls, and pages nothing', async () => {
    healthDelayMs = 0;
    const { keeper, publisher } = keeperWith('keeper-fallback', 500, [stallUrl, endpoint]);
    const first = await keeper.start();
    await keeper.stop();
    expect(first.code).toBe('BOOTSTRAPPED');
    expect(publisher.events).toEqual([]);
  });

  it('health answering just under the watchers’ response timeout is healthy: the keeper renews', async () => {
    healthDelayMs = 350;
    const { keeper } = keeperWith('slow-health', 500, [endpoint]);
    const first = await keeper.start();
    await keeper.stop();
    expect(first).toMatchObject({ code: 'BOOTSTRAPPED', healthy: true });
    // Past the timeout the same endpoint is unhealthy, as the watchers would vote.
    const { keeper: strict } = keeperWith('slow-health-strict', 200, [endpoint]);
    const tick = await strict.start();
    await strict.stop();
    expect(tick).toMatchObject({ code: 'UNHEALTHY', healthy: false });
    healthDelayMs = 0;
  });

  it('the link to every replica is cut: Lease Renewal Failed within renew interval + retryTimeout of the cut', async () => {
    healthDelayMs = 0;
    const app = 'keeper-cut';
    let target = storeAt(endpoint);
    // One replica whose link the test cuts: from then on it leads to the stand-in that never answers.
    const link: AbortableLeaseStore = {
      read: (a, c) => target.read(a, c),
      acquire: (a, r, e, c) => target.acquire(a, r, e, c),
      renew: (a, r, e, c) => target.renew(a, r, e, c),
      revoke: (a, e) => target.revoke(a, e),
      grant: (a, r, e) => target.grant(a, r, e),
    };
    const publisher = new RecordingPublisher();
    const keeper = new LeaseKeeper({
      application: app,
      region: 'us-east-1',
      primaryRegion: 'us-east-1',
      timing: { ...config.lease, renewIntervalMs: 1_000 },
      leases: new ReplicaLeaseStore({ replicas: [{ region: 'us-east-1', store: link }], budgetMs: RETRY_MS }),
      health: urlHealth(probeHealth, healthUrl, { connectTimeoutMs: 300, responseTimeoutMs: 500 }),
      publisher,
    });
    expect((await keeper.start()).code).toBe('BOOTSTRAPPED');
    await new Promise((r) => setTimeout(r, 1_300)); // one renewal on the open link
    target = storeAt(stallUrl);
    const cutAt = Date.now();
    while (publisher.events.length === 0 && Date.now() - cutAt < 5_000)
      await new Promise((r) => setTimeout(r, 20));
    await keeper.stop();
    const failed = publisher.ofType(LEASE_RENEWAL_FAILED)[0];
    expect(failed?.detail).toMatchObject({ code: 'RENEWAL_ERROR', epoch: 1 });
    expect(failed!.at - cutAt).toBeLessThanOrEqual(1_000 + RETRY_MS + SLACK_MS);
  });
});
