import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '#core/errors.js';
import { type FrontDoor, startFrontDoor } from '../../infra/local/front-door.js';
import { startLoadGenerator } from '../../infra/local/load-generator.js';

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
