import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '#core/errors.js';
import { CLIENT_HEADER, type FrontDoor, startFrontDoor } from '../../infra/local/front-door.js';
import { CHECKER_HEADER, HealthCheckers } from '../../infra/local/health-checkers.js';
import { startLoadGenerator } from '../../infra/local/load-generator.js';
import { type RecordSet, Route53StandIn } from '../../infra/local/route53-standin.js';

interface FakeRegion {
  server: Server;
  url: string;
  epoch: number;
  delayMs: number;
}

/** A stand-in for a region's app: acknowledges every order at its epoch, after `delayMs`. */
/** Polls a condition of the load for up to 10 s: long enough for a loaded machine, never a fixed wait. */
const until = { timeout: 10_000, interval: 10 };

async function fakeRegion(region: string, epoch: number): Promise<FakeRegion> {
  const r: FakeRegion = { server: createServer(), url: '', epoch, delayMs: 0 };
  r.server.on('request', (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      setTimeout(() => {
        const { id } = JSON.parse(body || '{}') as { id?: string };
        res.writeHead(req.url === '/orders' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id, region, epoch: r.epoch, path: req.url }));
      }, r.delayMs);
    });
  });
  r.server.listen(0, '127.0.0.1');
  await once(r.server, 'listening');
  const addr = r.server.address();
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return r;
}

async function post(url: string, id: string) {
  const res = await fetch(`${url}/orders`, { method: 'POST', body: JSON.stringify({ id }) });
  return {
    status: res.status,
    region: res.headers.get('x-cutover-region'),
    json: (await res.json()) as Record<string, unknown>,
  };
}

describe('front door', () => {
  let a: FakeRegion;
  let b: FakeRegion;
  let door: FrontDoor;

  beforeAll(async () => {
    a = await fakeRegion('us-east-1', 1);
    b = await fakeRegion('us-west-2', 2);
    door = await startFrontDoor({
      regions: { 'us-east-1': a.url, 'us-west-2': b.url },
      initialRegion: 'us-east-1',
      upstreamTimeoutMs: 300,
    });
  });

  afterEach(() => {
    door.route('us-east-1');
    a.delayMs = 0;
  });

  afterAll(async () => {
    await door?.stop();
    a?.server.close();
    b?.server.close();
  });

  it('forwards to the routed region, path and body included', async () => {
    const res = await post(door.url, 'x1');
    expect(res).toMatchObject({
      status: 201,
      region: 'us-east-1',
      json: { id: 'x1', region: 'us-east-1', path: '/orders' },
    });
    expect(await door.current()).toEqual({ region: 'us-east-1', weights: { 'us-east-1': 100 } });
  });

  it('route() moves every new request', async () => {
    door.route('us-west-2');
    expect((await post(door.url, 'x2')).json.region).toBe('us-west-2');
    await door.routeTo('us-east-1');
    expect((await post(door.url, 'x3')).json.region).toBe('us-east-1');
  });

  it('stopTraffic answers 503 when no region is left; stopping another region changes nothing', async () => {
    await door.stopTraffic('us-west-2');
    expect((await post(door.url, 'x4')).status).toBe(201);
    await door.stopTraffic('us-east-1');
    const res = await post(door.url, 'x5');
    expect(res.status).toBe(503);
    expect(res.json.code).toBe('NO_ROUTE');
    expect(await door.current()).toEqual({ region: null, weights: {} });
    expect(door.stats().unrouted).toBeGreaterThanOrEqual(1);
  });

  it('weighted: routeTo(b, 10) sends exactly 1 in 10 requests to b', async () => {
    await door.routeTo('us-west-2', 10);
    expect(await door.current()).toEqual({
      region: 'us-east-1',
      weights: { 'us-east-1': 90, 'us-west-2': 10 },
    });
    const regions = [];
    for (let i = 0; i < 20; i++) regions.push((await post(door.url, `w${i}`)).region);
    expect(regions.filter((r) => r === 'us-west-2')).toHaveLength(2);
  });

  it('refuses an unknown region with a ValidationError', async () => {
    await expect(door.routeTo('eu-west-1')).rejects.toBeInstanceOf(ValidationError);
  });

  it('answers 504 when the region is slower than the upstream timeout, 502 when it is gone', async () => {
    a.delayMs = 600;
    const slow = await post(door.url, 'x6');
    expect(slow.status).toBe(504);
    expect(slow.json.code).toBe('UPSTREAM_TIMEOUT');
    a.delayMs = 0;
    const gone = await startFrontDoor({ regions: { dead: 'http://127.0.0.1:1' }, initialRegion: 'dead' });
    try {
      const res = await post(gone.url, 'x7');
      expect(res.status).toBe(502);
      expect(res.json.code).toBe('UPSTREAM_ERROR');
    } finally {
      await gone.stop();
    }
  });
});

describe('load generator through the front door', () => {
  it('records every acknowledgement with region, epoch and time, and counts refusals', async () => {
    const a = await fakeRegion('us-east-1', 1);
    const b = await fakeRegion('us-west-2', 2);
    const door = await startFrontDoor({
      regions: { 'us-east-1': a.url, 'us-west-2': b.url },
      initialRegion: 'us-east-1',
    });
    try {
      const t0 = Date.now();
      const load = startLoadGenerator({ url: door.url, intervalMs: 10, concurrency: 2, idPrefix: 'lg' });
      const acks = (region: string) => load.acked().filter((w) => w.region === region).length;
      await vi.waitFor(() => expect(acks('us-east-1')).toBeGreaterThan(5), until);
      await door.stopTraffic('us-east-1');
      await vi.waitFor(() => expect(load.stats().byCode.NO_ROUTE ?? 0).toBeGreaterThan(0), until);
      door.route('us-west-2');
      await vi.waitFor(() => expect(acks('us-west-2')).toBeGreaterThan(5), until);
      const { acked, stats } = await load.stop();

      expect(stats.inFlight).toBe(0);
      expect(stats.sent).toBe(stats.acked + stats.refused + stats.failed);
      expect(stats.acked).toBe(acked.length);
      expect(stats.byCode.NO_ROUTE).toBeGreaterThan(0);
      expect(new Set(acked.map((w) => w.id)).size).toBe(acked.length);
      expect(acked.every((w) => w.id.startsWith('lg-') && w.at >= t0)).toBe(true);
      expect(acked.map((w) => w.at)).toEqual([...acked.map((w) => w.at)].sort((x, y) => x - y));
      const east = acked.filter((w) => w.region === 'us-east-1');
      const west = acked.filter((w) => w.region === 'us-west-2');
      expect(east.length).toBeGreaterThan(5);
      expect(west.length).toBeGreaterThan(5);
      expect(east.every((w) => w.epoch === 1) && west.every((w) => w.epoch === 2)).toBe(true);
      expect(Math.max(...east.map((w) => w.at))).toBeLessThan(Math.min(...west.map((w) => w.at)));
      console.log(`load: ${JSON.stringify(stats)}`);
    } finally {
      await door.stop();
      a.server.close();
      b.server.close();
    }
  });
});

/** A region's app as the edge sees it: GET /cutover/holder answers `holder` (per checker when set), POST /orders 201. */
interface EdgeRegion {
  server: Server;
  url: string;
  holder: number;
  /** Checker region → status, overriding `holder` for that checker. */
  perChecker: Map<string, number>;
  /** Checker region → the statuses it was answered, in order. */
  seen: Map<string, number[]>;
}

async function edgeRegion(region: string): Promise<EdgeRegion> {
  const r: EdgeRegion = {
    server: createServer(),
    url: '',
    holder: 200,
    perChecker: new Map(),
    seen: new Map(),
  };
  r.server.on('request', (req, res) => {
    if (req.url === '/cutover/holder') {
      const checker = String(req.headers[CHECKER_HEADER] ?? '');
      const status = r.perChecker.get(checker) ?? r.holder;
      r.seen.set(checker, [...(r.seen.get(checker) ?? []), status]);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ region }));
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ region }));
    });
  });
  r.server.listen(0, '127.0.0.1');
  await once(r.server, 'listening');
  const addr = r.server.address();
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return r;
}

const E = 'us-east-1';
const W = 'us-west-2';
const CHECKERS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

describe('health checkers (Route 53 stand-in)', () => {
  const regions: EdgeRegion[] = [];
  let checkers: HealthCheckers | undefined;
  afterEach(() => {
    checkers?.stop();
    for (const r of regions.splice(0)) r.server.close();
  });

  it('a checker changes its view only after failureThreshold consecutive results; a shorter blip changes nothing', async () => {
    const e = await edgeRegion(E);
    regions.push(e);
    const changes: { healthy: boolean; seen: number[][] }[] = [];
    checkers = await HealthCheckers.start({
      targets: { [E]: `${e.url}/cutover/holder` },
      checkerRegions: CHECKERS,
      intervalMs: 30,
      failureThreshold: 3,
      timeoutMs: 200,
      onChange: (_region, healthy) =>
        changes.push({ healthy, seen: CHECKERS.map((c) => [...(e.seen.get(c) ?? [])]) }),
    });
    expect(checkers.healthy(E)).toBe(true);
    // Two failures in a row for every checker, then healthy again: below the threshold.
    const blip = new Map(CHECKERS.map((c) => [c, 0]));
    e.server.prependListener('request', (req) => {
      const c = String(req.headers[CHECKER_HEADER] ?? '');
      const n = blip.get(c);
      if (n !== undefined && n < 2) {
        blip.set(c, n + 1);
        e.perChecker.set(c, 503);
      } else e.perChecker.delete(c);
    });
    await vi.waitFor(() => expect([...blip.values()].every((n) => n === 2)).toBe(true), until);
    await vi.waitFor(() => expect(CHECKERS.every((c) => e.seen.get(c)?.at(-1) === 200)).toBe(true), until);
    expect(changes).toEqual([]);
    expect(checkers.healthy(E)).toBe(true);

    e.server.removeAllListeners('request');
    // Now the check fails for good: unhealthy only once every checker saw 3 failures in a row (none left above 18%).
    e.server.on('request', (req, res) => {
      const c = String(req.headers[CHECKER_HEADER] ?? '');
      e.seen.set(c, [...(e.seen.get(c) ?? []), 503]);
      res.writeHead(503).end();
    });
    await vi.waitFor(() => expect(checkers!.healthy(E)).toBe(false), until);
    expect(changes).toHaveLength(1);
    for (const seen of changes[0]!.seen) expect(trailing(seen, 503)).toBeGreaterThanOrEqual(3);
  });

  it('healthy while more than 18% of checkers say so: 1 of 3 is enough, 1 of 6 is not', async () => {
    const e = await edgeRegion(E);
    regions.push(e);
    e.holder = 503;
    e.perChecker.set('eu-west-1', 200);
    checkers = await HealthCheckers.start({
      targets: { [E]: `${e.url}/cutover/holder` },
      checkerRegions: CHECKERS,
      intervalMs: 30,
      failureThreshold: 1,
      timeoutMs: 200,
    });
    expect(checkers.status()[E]).toEqual({
      healthy: true,
      checkers: { 'us-east-1': false, 'eu-west-1': true, 'ap-southeast-1': false },
    });
    checkers.stop();
    checkers = await HealthCheckers.start({
      targets: { [E]: `${e.url}/cutover/holder` },
      checkerRegions: [...CHECKERS, 'sa-east-1', 'ap-northeast-1', 'us-west-1'],
      intervalMs: 30,
      failureThreshold: 1,
      timeoutMs: 200,
    });
    expect(checkers.healthy(E)).toBe(false);
  });

  it('an endpoint slower than the timeout, or gone, fails the check', async () => {
    const e = await edgeRegion(E);
    regions.push(e);
    e.server.removeAllListeners('request');
    e.server.on('request', (_req, res) => setTimeout(() => res.writeHead(200).end(), 300));
    checkers = await HealthCheckers.start({
      targets: { [E]: `${e.url}/cutover/holder`, [W]: 'http://127.0.0.1:1/cutover/holder' },
      checkerRegions: CHECKERS,
      intervalMs: 50,
      failureThreshold: 1,
      timeoutMs: 100,
    });
    expect(checkers.healthy(E)).toBe(false);
    expect(checkers.healthy(W)).toBe(false);
  });

  it('refuses bad options by name', async () => {
    await expect(
      HealthCheckers.start({
        targets: {},
        checkerRegions: [],
        intervalMs: 0,
        failureThreshold: 0.5,
        timeoutMs: -1,
      }),
    ).rejects.toThrow(/checkerRegions.*intervalMs.*failureThreshold.*timeoutMs.*targets/);
  });
});

function trailing(xs: number[], v: number): number {
  let n = 0;
  for (let i = xs.length - 1; i >= 0 && xs[i] === v; i--) n++;
  return n;
}

describe('front door at the Route 53 edge: health checks, edge semantics, resolver TTL', () => {
  let e: EdgeRegion;
  let w: EdgeRegion;
  const doors: FrontDoor[] = [];

  beforeAll(async () => {
    e = await edgeRegion(E);
    w = await edgeRegion(W);
  });
  afterEach(async () => {
    for (const d of doors.splice(0)) await d.stop();
    e.holder = 200;
    w.holder = 503;
  });
  afterAll(() => {
    e?.server.close();
    w?.server.close();
  });

  async function door(
    routing: 'weighted' | 'failover',
    initial: RecordSet,
    opts: { ttlMs?: number; random?: () => number; propagationMs?: number } = {},
  ) {
    const records = new Route53StandIn({
      routing,
      regions: [E, W],
      initial,
      propagationMs: opts.propagationMs ?? 0,
    });
    const events: { type: string; fields: Record<string, unknown> }[] = [];
    const d = await startFrontDoor({
      regions: { [E]: e.url, [W]: w.url },
      edge: {
        records,
        checks: {
          targets: { [E]: `${e.url}/cutover/holder`, [W]: `${w.url}/cutover/holder` },
          checkerRegions: CHECKERS,
          intervalMs: 25,
          failureThreshold: 1,
          timeoutMs: 200,
        },
        ttlMs: opts.ttlMs ?? 0,
        ...(opts.random ? { random: opts.random } : {}),
      },
      onEvent: (type, fields) => events.push({ type, fields }),
    });
    doors.push(d);
    return { d, records, events };
  }

  const send = async (d: FrontDoor, client: string) => {
    const res = await fetch(`${d.url}/orders`, {
      method: 'POST',
      headers: { [CLIENT_HEADER]: client },
      body: '{}',
    });
    await res.arrayBuffer();
    return res.headers.get('x-cutover-region');
  };

  const failover: RecordSet = {
    [E]: { weight: 1, failover: 'PRIMARY' },
    [W]: { weight: 1, failover: 'SECONDARY' },
  };
  const equal: RecordSet = {
    [E]: { weight: 50, failover: 'PRIMARY' },
    [W]: { weight: 50, failover: 'SECONDARY' },
  };

  it('failover routing: the holder; the secondary once it alone is healthy; the primary when both are unhealthy', async () => {
    e.holder = 200;
    w.holder = 503;
    const { d } = await door('failover', failover);
    expect(await send(d, 'c1')).toBe(E);
    e.holder = 503;
    w.holder = 200;
    await vi.waitFor(() => expect(d.health()?.[W]?.healthy).toBe(true), until);
    await vi.waitFor(() => expect(d.health()?.[E]?.healthy).toBe(false), until);
    expect(await send(d, 'c1')).toBe(W);
    w.holder = 503;
    await vi.waitFor(() => expect(d.health()?.[W]?.healthy).toBe(false), until);
    expect(await send(d, 'c1')).toBe(E);
    expect(await d.current()).toEqual({ region: E, weights: { [E]: 100 } });
  });

  it('weighted routing: only the healthy record; every record, by weight, when all are unhealthy', async () => {
    e.holder = 503;
    w.holder = 200;
    let x = 0;
    const { d } = await door('weighted', equal, { random: () => (x = (x + 0.37) % 1) });
    for (let i = 0; i < 6; i++) expect(await send(d, `c${i}`)).toBe(W);
    w.holder = 503;
    await vi.waitFor(() => expect(d.health()?.[W]?.healthy).toBe(false), until);
    const answered = new Set<string | null>();
    for (let i = 0; i < 12; i++) answered.add(await send(d, `c${i}`));
    expect(answered).toEqual(new Set([E, W]));
    expect(d.weights()).toEqual({ [E]: 50, [W]: 50 });
  });

  it('resolvers keep the cached answer for the TTL: clients go to the old region until it passes', async () => {
    e.holder = 200;
    w.holder = 503;
    const ttlMs = 2_500;
    const { d, events } = await door('failover', failover, { ttlMs });
    const cachedAt = Date.now();
    expect(await send(d, 'c1')).toBe(E);
    const queries = d.stats().dnsQueries;
    e.holder = 503;
    w.holder = 200;
    await vi.waitFor(() => expect(d.health()?.[W]?.healthy).toBe(true), until);
    await vi.waitFor(() => expect(d.health()?.[E]?.healthy).toBe(false), until);
    // The authoritative answer is W now, but the client's resolver still holds E.
    expect(Date.now()).toBeLessThan(cachedAt + ttlMs - 50);
    expect(await send(d, 'c1')).toBe(E);
    expect(d.stats().dnsQueries).toBe(queries);
    await new Promise((r) => setTimeout(r, Math.max(0, cachedAt + ttlMs - Date.now()) + 20));
    expect(await send(d, 'c1')).toBe(W);
    expect(d.stats().dnsQueries).toBe(queries + 1);
    const served = events.filter((ev) => ev.type === 'traffic_served').map((ev) => ev.fields.region);
    expect(served).toEqual([E, W]);
    expect(
      events.some((ev) => ev.type === 'health_changed' && ev.fields.region === E && !ev.fields.healthy),
    ).toBe(true);
  });

  it('records mode: a weight change reaches the clients only once INSYNC, and not while the API refuses', async () => {
    e.holder = 200;
    w.holder = 200;
    const { d, records } = await door(
      'weighted',
      { [E]: { weight: 100, failover: 'PRIMARY' }, [W]: { weight: 0, failover: 'SECONDARY' } },
      { propagationMs: 400 },
    );
    records.refuse('throttling');
    await expect(d.routeTo(W, 100)).rejects.toThrow(/Throttling: Rate exceeded/);
    records.refuse(null);
    const change = await d.routeTo(W, 100);
    expect(await d.changeStatus(change.changeId!)).toBe('PENDING');
    expect(await send(d, 'c1')).toBe(E);
    await vi.waitFor(async () => expect(await d.changeStatus(change.changeId!)).toBe('INSYNC'), until);
    expect(await send(d, 'c1')).toBe(W);
  });
});
