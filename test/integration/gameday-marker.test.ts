import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoGamedayMarkerStore } from '#adapters/dynamodb/gameday-marker-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { runProber } from '#commons/prober-loop.js';
import { decide } from '#core/decide.js';
import type { GamedayMarker, GamedayMarkerReader } from '#core/gameday.js';
import type { CheckSpec } from '#core/health.js';
import { healthContract, serveHealthContract } from '#guard/health.js';
import { gamedayCheck } from '#guard/health-checks.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig } from '../support/fixtures.js';

/**
 * The game-day fault as the application serves it: the real health contract with its `gameday` check reading the
 * marker from the control table on DynamoDB Local, one app per region. A live marker for the primary's region
 * fails the primary's contract (503, and the watchers' votes), never the standby's; deleting it or letting it
 * expire heals the primary without anything else changing.
 */
const checks: CheckSpec[] = [{ name: 'gameday', kind: 'gameday', weight: 'unhealthy', timeoutMs: 300 }];
const CACHE_MS = 150;

describe('the game-day marker fails the real health contract of its own region only', () => {
  const servers: Server[] = [];
  const url: Record<string, string> = {};
  let store: DynamoGamedayMarkerStore;
  let reads = 0;

  beforeAll(async () => {
    const t = await freshTables('gameday');
    store = new DynamoGamedayMarkerStore(t.doc, t.names.control);
    const counting: GamedayMarkerReader = {
      readMarker: (a, r, s) => {
        reads++;
        return store.readMarker(a, r, s);
      },
    };
    for (const region of ['us-east-1', 'us-west-2']) {
      const contract = healthContract({
        checks,
        run: { gameday: gamedayCheck(counting, { application: 'orders', region, cacheMs: CACHE_MS }) },
      });
      const mount = serveHealthContract(contract);
      const s = createServer((req, res) => {
        if (!mount(req, res)) res.end('ok');
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      servers.push(s);
      url[region] = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    }
  });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  const health = async (region: string) => {
    const res = await fetch(`${url[region]}/cutover/health`);
    return { status: res.status, body: (await res.json()) as { checks: { ok: boolean; detail: string }[] } };
  };
  const marker = (until: number, startedAt = Date.now()): GamedayMarker => ({
    application: 'orders',
    region: 'us-east-1',
    startedAt,
    until,
    by: 'alice',
    reason: 'quarterly game day',
  });
  const pastCache = () => new Promise((r) => setTimeout(r, CACHE_MS + 20));

  it('a live marker: the primary answers 503 with the check failed, the standby 200; the watchers vote so', async () => {
    const m = marker(Date.now() + 60_000);
    await store.putMarker(m);
    await pastCache();
    const p = await health('us-east-1');
    const s = await health('us-west-2');
    expect(p.status).toBe(503);
    expect(p.body.checks[0]).toMatchObject({ ok: false });
    expect(p.body.checks[0]!.detail).toMatch(
      /^game day by alice fails us-east-1 until \d{4}-.*Z: quarterly game day$/,
    );
    expect(s.status).toBe(200);
    expect(s.body.checks[0]).toMatchObject({ ok: true, detail: 'no game day' });

    // The watchers' own probe of both regions (the real prober, votes in DynamoDB Local): the primary's vote is
    // unhealthy for the failed gameday check, the standby's healthy; decide() reads a deep-check failover.
    const t = await freshTables('gdvotes');
    const config = exampleConfig((c) => {
      c.probe = { intervalMs: 500, connectTimeoutMs: 300, responseTimeoutMs: 450 };
      c.debounceMs = 1_000;
      c.voteStalenessMs = 1_000;
      c.primary.healthUrl = `${url['us-east-1']}/health`;
      c.standby.healthUrl = `${url['us-west-2']}/health`;
      c.health = { path: '/cutover/health', checks };
    });
    const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    let now = Date.now();
    let remaining = 500 * 3 + 1_400;
    await runProber({
      config,
      voter: config.watchers[0]!,
      votes,
      probe: probeHealth,
      clock: { now: () => now },
      sleep: async (ms) => {
        now += ms;
        remaining -= ms;
      },
      remainingMs: () => remaining,
    });
    const pv = await votes.get('orders', 'us-east-1', config.watchers[0]!);
    const sv = await votes.get('orders', 'us-west-2', config.watchers[0]!);
    expect(pv).toMatchObject({ healthy: false });
    expect(pv?.detail).toMatch(/^ok 200; gameday failed \(unhealthy\): game day by alice fails us-east-1/);
    expect(sv).toMatchObject({ healthy: true });
    const verdict = decide([pv!, sv!], { ...config, quorum: 1 }, now, {
      primary: 'us-east-1',
      standby: 'us-west-2',
    });
    expect(verdict.code).toBe('DEEP_CHECK_FAILED');

    // Deleting the marker (only the game day's own) heals the primary within one cache period.
    expect(await store.removeMarker('orders', 'us-east-1', m.startedAt + 1)).toBe(false);
    expect(await store.removeMarker('orders', 'us-east-1', m.startedAt)).toBe(true);
    await pastCache();
    expect((await health('us-east-1')).status).toBe(200);
  });

  it('an expired marker stops failing by itself, without a read after its until', async () => {
    await store.putMarker(marker(Date.now() + 600));
    await pastCache();
    expect((await health('us-east-1')).status).toBe(503);
    await new Promise((r) => setTimeout(r, 650));
    const after = await health('us-east-1');
    expect(after.status).toBe(200);
    expect(after.body.checks[0]!.detail).toMatch(/^game-day marker for us-east-1 expired at /);
    // Still in the table (nobody deleted it), inert.
    expect(await store.readMarker('orders', 'us-east-1')).not.toBeNull();
  });

  it('reads the marker at most once per cache period however many probes come', async () => {
    await pastCache();
    const before = reads;
    await Promise.all(Array.from({ length: 10 }, () => health('us-west-2')));
    await Promise.all(Array.from({ length: 10 }, () => health('us-west-2')));
    expect(reads - before).toBe(1);
  });
});
