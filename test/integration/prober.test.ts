import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { runProber } from '#commons/prober-loop.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig } from '../support/fixtures.js';

const timeouts = { connectTimeoutMs: 300, responseTimeoutMs: 400 };

describe('HTTP health probe against real local servers', () => {
  const servers: Server[] = [];
  let flapping = 0;
  const url: Record<string, string> = {};

  beforeAll(async () => {
    const start = async (name: string, handler: Parameters<typeof createServer>[1]) => {
      const s = createServer(handler);
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      url[name] = `http://127.0.0.1:${(s.address() as AddressInfo).port}/health`;
    };
    await start('healthy', (_q, res) => res.end('ok'));
    // Never answers: a probe that comes back at all came back by its own timeout.
    await start('slow', () => {});
    await start('error', (_q, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    await start('flapping', (_q, res) => {
      res.statusCode = flapping++ % 2 === 0 ? 200 : 503;
      res.end();
    });
    // Port 1 (tcpmux): privileged and outside the ephemeral range, so no test process can be listening
    // there. A port that was free a moment ago could be taken by another process in between.
    url.refused = 'http://127.0.0.1:1/health';
  });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('a 2xx in time is healthy', async () => {
    const r = await probeHealth(url.healthy!, timeouts);
    expect(r).toMatchObject({ healthy: true, detail: 'ok 200' });
  });

  it('a slow answer is a timeout, bounded by the response timeout', async () => {
    const r = await probeHealth(url.slow!, timeouts);
    expect(r.healthy).toBe(false);
    expect(r.detail).toMatch(/^timeout: no response after 400 ms/);
    expect(r.latencyMs).toBeGreaterThanOrEqual(timeouts.responseTimeoutMs - 1);
  });

  it('a 500 is unhealthy with its status', async () => {
    expect(await probeHealth(url.error!, timeouts)).toMatchObject({ healthy: false, detail: 'status 500' });
  });

  it('a closed port is refused', async () => {
    expect(await probeHealth(url.refused!, timeouts)).toMatchObject({ healthy: false, detail: 'refused' });
  });

  it('an unresolvable host is a DNS failure', async () => {
    const r = await probeHealth('http://cutover-no-such-host.invalid/health', {
      ...timeouts,
      connectTimeoutMs: 2000,
      responseTimeoutMs: 2500,
    });
    expect(r.healthy).toBe(false);
    expect(r.detail).toMatch(/^dns|^timeout/);
  });

  it('the prober loop writes one vote per target per round and carries streaks from the store', async () => {
    const t = await freshTables('prober');
    const config = exampleConfig((c) => {
      c.probe = { intervalMs: 100, connectTimeoutMs: 30, responseTimeoutMs: 50 };
      c.debounceMs = 200;
      c.voteStalenessMs = 150;
      c.primary.healthUrl = url.flapping;
      c.standby.healthUrl = url.healthy;
    });
    const votes = new DynamoVoteStore(t.doc, t.names.votes, exampleConfig().watchers);
    let now = 1_000_000;
    let remaining = 100 * 3 + 1_100;
    const deps = {
      config,
      voter: 'eu-west-1',
      votes,
      probe: probeHealth,
      clock: { now: () => now },
      sleep: async (ms: number) => {
        now += ms;
        remaining -= ms;
      },
      remainingMs: () => remaining,
    };
    flapping = 1; // first probe of the primary gets 503
    const rounds = await runProber(deps);
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    const primary = await votes.get('orders', 'us-east-1', 'eu-west-1');
    const standby = await votes.get('orders', 'us-west-2', 'eu-west-1');
    expect(standby).toMatchObject({ healthy: true, seq: rounds.length, consecutiveSuccesses: rounds.length });
    expect(primary?.seq).toBe(rounds.length);
    expect(primary?.consecutiveFailures ?? 0).toBeLessThanOrEqual(1);

    // A new invocation continues the streak from the stored vote.
    remaining = 100 + 1_100;
    const next = await runProber(deps);
    expect(next.length).toBeGreaterThanOrEqual(1);
    const later = await votes.get('orders', 'us-west-2', 'eu-west-1');
    expect(later?.seq).toBe(rounds.length + next.length);
    expect(later?.consecutiveSuccesses).toBe(rounds.length + next.length);
    expect(later?.streakSince).toBe(standby?.streakSince);
  });

  it('a late or duplicated vote never overwrites a newer one', async () => {
    const t = await freshTables('seq');
    const votes = new DynamoVoteStore(t.doc, t.names.votes, exampleConfig().watchers);
    const base = {
      application: 'orders',
      target: 'us-east-1',
      voter: 'eu-west-1',
      consecutiveFailures: 0,
      consecutiveSuccesses: 1,
      observedAt: 10,
      streakSince: 10,
      latencyMs: 1,
      detail: 'ok 200',
      expiresAt: 100,
    };
    expect(await votes.put({ ...base, healthy: true, seq: 5 })).toBe('written');
    expect(await votes.put({ ...base, healthy: false, seq: 4 })).toBe('superseded');
    expect(await votes.put({ ...base, healthy: false, seq: 5 })).toBe('superseded');
    expect((await votes.get('orders', 'us-east-1', 'eu-west-1'))?.healthy).toBe(true);
    expect(await votes.put({ ...base, healthy: false, seq: 6 })).toBe('written');
    expect(await votes.list('orders', 'us-east-1')).toHaveLength(1);
  });
});
