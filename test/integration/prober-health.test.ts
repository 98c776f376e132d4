import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { fetchHealthDocument } from '#adapters/http/deep-health-probe.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { runProber } from '#commons/prober-loop.js';
import { decide } from '#core/decide.js';
import type { CheckSpec } from '#core/health.js';
import { healthContract, serveHealthContract } from '#guard/health.js';
import { writeCheck } from '#guard/health-checks.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig } from '../support/fixtures.js';

const checks: CheckSpec[] = [
  { name: 'db-write', kind: 'write', weight: 'unhealthy', timeoutMs: 100 },
  { name: 'queue', kind: 'queue-backlog', weight: 'warn', timeoutMs: 100 },
];

/** An app answering 200 on /health whatever its deep checks say, and the health contract beside it. */
async function app(state: { writes: boolean; queue: boolean }): Promise<Server> {
  const contract = healthContract({
    checks,
    run: {
      'db-write': writeCheck(async () => {
        if (!state.writes) throw new Error('cannot execute INSERT in a read-only transaction');
      }),
      queue: async () => ({ ok: state.queue, detail: state.queue ? 'oldest 1 s' : 'oldest 900 s > 60 s' }),
    },
  });
  const mount = serveHealthContract(contract);
  const s = createServer((req, res) => {
    if (mount(req, res)) return;
    if (req.url === '/garbage/cutover/health') res.end('<html>');
    else res.end('ok');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return s;
}

describe('the prober records the health contract in its votes', () => {
  const servers: Server[] = [];
  const primary = { writes: false, queue: true };
  const standby = { writes: true, queue: false };
  const url: Record<string, string> = {};
  beforeAll(async () => {
    for (const [name, state] of [
      ['primary', primary],
      ['standby', standby],
    ] as const) {
      const s = await app(state);
      servers.push(s);
      url[name] = `http://127.0.0.1:${(s.address() as AddressInfo).port}/health`;
    }
  });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('a 200 whose database refuses writes is an unhealthy vote; a backed-up queue only a recorded warning', async () => {
    const t = await freshTables('deep');
    const config = exampleConfig((c) => {
      c.probe = { intervalMs: 500, connectTimeoutMs: 200, responseTimeoutMs: 400 };
      c.debounceMs = 1_000;
      c.voteStalenessMs = 1_000;
      c.primary.healthUrl = url.primary!;
      c.standby.healthUrl = url.standby!;
      c.health = { path: '/cutover/health', checks };
    });
    const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    let now = Date.now();
    let remaining = 500 * 3 + 1_400;
    const rounds = await runProber({
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
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    const p = await votes.get('orders', config.primary.region, config.watchers[0]!);
    const s = await votes.get('orders', config.standby.region, config.watchers[0]!);
    expect(p).toMatchObject({ healthy: false, consecutiveFailures: rounds.length });
    expect(p?.detail).toBe(
      'ok 200; db-write failed (unhealthy): error: cannot execute INSERT in a read-only transaction',
    );
    expect(p?.checks?.map((c) => [c.name, c.ok])).toEqual([
      ['db-write', false],
      ['queue', true],
    ]);
    // The failing check's since is carried across rounds: the debounce is measured on it.
    expect(p?.checks?.[0]?.since).toBe(p?.streakSince);
    expect(s).toMatchObject({ healthy: true });
    expect(s?.checks?.find((c) => c.name === 'queue')).toMatchObject({
      ok: false,
      detail: 'oldest 900 s > 60 s',
    });
    const verdict = decide([p!, s!], { ...config, quorum: 1 }, now, {
      primary: config.primary.region,
      standby: config.standby.region,
    });
    expect(verdict.evidence.failedChecks?.map((c) => [c.target, c.name, c.weight])).toEqual([
      [config.primary.region, 'db-write', 'unhealthy'],
      [config.standby.region, 'queue', 'warn'],
    ]);
  });

  it('a 200 whose document is off the contract, unreadable or late is a healthy vote with unknown checks', async () => {
    // The plain probe answers 200 throughout; the health contract answers in one of three ways.
    let mode: 'lenient' | 'garbage' | 'late' = 'lenient';
    const odd = createServer((req, res) => {
      if (req.url !== '/cutover/health') return res.end('ok');
      if (mode === 'garbage') return res.end('<html>');
      if (mode === 'late') return setTimeout(() => res.end('{"checks":[]}'), 1_500).unref();
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'starting',
          checks: [
            { name: 'db-write', ok: true, ms: 2.5, detail: 'x'.repeat(300), host: 'a' },
            { name: 'queue', ok: true, ms: 1, detail: 'ok' },
            { name: 'Extra_Check', ok: false },
          ],
        }),
      );
    });
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', () => r()));
    servers.push(odd);
    const oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}/health`;
    const t = await freshTables('deep-odd');
    const config = exampleConfig((c) => {
      c.probe = { intervalMs: 500, connectTimeoutMs: 200, responseTimeoutMs: 400 };
      c.debounceMs = 1_000;
      c.voteStalenessMs = 1_000;
      c.primary.healthUrl = oddUrl;
      c.standby.healthUrl = url.standby!;
      c.health = { path: '/cutover/health', checks };
    });
    const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    const voter = config.watchers[0]!;
    const oneRound = async () => {
      let remaining = 400 + 200 + 1_000 + 1;
      await runProber({
        config,
        voter,
        votes,
        probe: probeHealth,
        clock: { now: () => Date.now() },
        sleep: async () => {},
        remainingMs: () => remaining--,
      });
      return votes.get('orders', config.primary.region, voter);
    };
    const lenient = await oneRound();
    expect(lenient).toMatchObject({ healthy: true, plainHealthy: true, detail: 'ok 200' });
    expect(lenient?.checks?.map((c) => [c.name, c.ok, c.ms, c.detail.length])).toEqual([
      ['db-write', true, 3, 200],
      ['queue', true, 1, 2],
    ]);
    for (const [m, detail] of [
      ['garbage', 'status 200: not a health document (not JSON)'],
      ['late', 'timeout after 400 ms'],
    ] as const) {
      mode = m;
      const v = await oneRound();
      expect(v).toMatchObject({ healthy: true, plainHealthy: true });
      expect(v?.checks?.map((c) => [c.name, c.ok, c.unknown, c.detail])).toEqual([
        ['db-write', false, true, detail],
        ['queue', false, true, detail],
      ]);
      const verdict = decide([v!], { ...config, quorum: 1, watchers: [voter] }, Date.now(), {
        primary: config.primary.region,
        standby: config.standby.region,
      });
      expect(verdict.code).toBe('ALL_HEALTHY');
    }
  });

  it('an answer that is not a health document counts as no answer', async () => {
    const base = new URL(url.primary!);
    expect(await fetchHealthDocument(`${base.origin}/garbage/cutover/health`, 300)).toEqual({
      ok: false,
      detail: 'status 200: not a health document (not JSON)',
    });
    // A port that was listening a moment ago and is closed now (fetch refuses port 1 itself as a "bad port").
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', () => r()));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((r) => gone.close(r));
    expect(await fetchHealthDocument(`http://127.0.0.1:${port}/cutover/health`, 300)).toEqual({
      ok: false,
      detail: 'health document unreachable: ECONNREFUSED',
    });
  });
});
