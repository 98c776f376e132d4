import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  defaultConcurrency,
  type LoadClientProcess,
  LoadClientsLostError,
  spawnLoadClients,
  startLoadGenerator,
  type WriteResult,
} from '../../infra/local/load-generator.js';

/** A real HTTP server standing in for the front door: acknowledges each order as the sample app does, or never answers. */
async function orders(
  mode: 'ack' | 'hang' | 'refuse',
): Promise<{ url: string; server: Server; seen: string[]; acknowledged: string[] }> {
  /** Ids whose 201 the server finished sending. */
  const acknowledged: string[] = [];
  const seen: string[] = [];
  const server = createServer((req, res) => {
    res.on('finish', () => {
      if (res.statusCode === 201) acknowledged.push((res as unknown as { orderId: string }).orderId);
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
      seen.push(id);
      (res as unknown as { orderId: string }).orderId = id;
      if (mode === 'hang') return;
      const body =
        mode === 'ack'
          ? { id, region: 'us-east-1', epoch: 3 }
          : { code: 'EXPIRED', reason: 'the lease ran out for writes' };
      res.writeHead(mode === 'ack' ? 201 : 503, {
        'content-type': 'application/json',
        'x-cutover-region': 'us-east-1',
      });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    server,
    seen,
    acknowledged,
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('load generator, --rate mode (node:http keep-alive clients)', () => {
  it('sends at most the writes due by the rate, each acknowledged write recorded once with its send time', async () => {
    const s = await orders('ack');
    servers.push(s.server);
    const started = Date.now();
    const load = startLoadGenerator({ url: s.url, rate: 200, idPrefix: 'r' });
    await vi.waitFor(() => expect(load.stats().acked).toBeGreaterThanOrEqual(40), { timeout: 10_000 });
    const { acked, stats } = await load.stop();
    const elapsedS = (Date.now() - started) / 1_000;
    // Never more than due (floor(elapsed × rate)); each sent write answered.
    expect(stats.sent + stats.skipped).toBeLessThanOrEqual(Math.ceil(elapsedS * 200) + 1);
    expect(stats.acked + stats.refused + stats.failed).toBe(stats.sent);
    expect(stats.failed).toBe(0);
    expect(acked).toHaveLength(stats.acked);
    expect(new Set(acked.map((a) => a.id)).size).toBe(acked.length);
    expect(s.seen).toEqual(expect.arrayContaining(acked.map((a) => a.id)));
    expect(acked[0]).toMatchObject({ region: 'us-east-1', epoch: 3 });
    expect(load.achievedRate()).toBeGreaterThan(0);
    expect(load.startedAt).toBeGreaterThanOrEqual(started);
  });

  it('never has more than `concurrency` in flight: the writes due meanwhile are skipped and counted, and time out', async () => {
    const s = await orders('hang');
    servers.push(s.server);
    const results: { code: string; sentAt: number; at: number }[] = [];
    const load = startLoadGenerator({
      url: s.url,
      rate: 500,
      concurrency: 3,
      requestTimeoutMs: 300,
      onResult: (r) => results.push(r),
    });
    await vi.waitFor(() => expect(load.stats().skipped).toBeGreaterThan(10), { timeout: 5_000 });
    expect(load.stats().inFlight).toBeLessThanOrEqual(3);
    const { stats, acked } = await load.stop();
    expect(acked).toEqual([]);
    expect(stats.failed).toBe(stats.sent);
    expect(stats.byCode.TIMEOUT).toBe(stats.sent);
    for (const r of results) expect(r.at).toBeGreaterThanOrEqual(r.sentAt);
  });

  it('a refusal is counted by its code, never as an acknowledgement', async () => {
    const s = await orders('refuse');
    servers.push(s.server);
    const load = startLoadGenerator({ url: s.url, rate: 100 });
    await vi.waitFor(() => expect(load.stats().refused).toBeGreaterThan(3), { timeout: 5_000 });
    const { stats, acked } = await load.stop();
    expect(acked).toEqual([]);
    expect(stats.byCode.EXPIRED).toBe(stats.refused);
  });

  it('refuses a rate that is not a positive number; the default concurrency grows with the rate', () => {
    expect(() => startLoadGenerator({ url: 'http://127.0.0.1:1', rate: 0 })).toThrow(
      /rate must be .* > 0, got 0/,
    );
    expect(() => startLoadGenerator({ url: 'http://127.0.0.1:1', rate: Number.NaN })).toThrow(RangeError);
    expect(defaultConcurrency(4)).toBe(4);
    expect(defaultConcurrency(10)).toBe(5);
    expect(defaultConcurrency(100)).toBe(50);
    expect(defaultConcurrency(300)).toBe(150);
  });
});

describe('load generator in its own process (spawnLoadClients, as the drill runs its clients)', () => {
  let clients: LoadClientProcess | undefined;
  afterEach(async () => {
    await clients?.kill();
    clients = undefined;
  });

  it('hands over every acknowledgement the server sent, and never counts one before it is recorded', async () => {
    const s = await orders('ack');
    servers.push(s.server);
    clients = await spawnLoadClients();
    const results: WriteResult[] = [];
    const load = clients.start({ url: s.url, rate: 300, idPrefix: 'p', onResult: (r) => results.push(r) });
    // Sampled while the writes flow: the counter of acknowledged writes is never ahead of the record of them.
    let samples = 0;
    while (load.stats().acked < 150) {
      const counted = load.stats().acked;
      expect(counted).toBeLessThanOrEqual(load.acked().length);
      samples += 1;
      await new Promise((r) => setTimeout(r, 3));
    }
    const { acked, stats } = await load.stop();
    expect(samples).toBeGreaterThan(10);
    // Every 201 the server finished sending reached the parent's record, once, with the region and epoch of its body.
    expect(acked.map((a) => a.id).sort()).toEqual([...s.acknowledged].sort());
    expect(new Set(acked.map((a) => a.id)).size).toBe(acked.length);
    expect(stats.acked).toBe(acked.length);
    expect(stats.acked + stats.refused + stats.failed).toBe(stats.sent);
    expect(acked[0]).toMatchObject({ region: 'us-east-1', epoch: 3 });
    for (let i = 1; i < acked.length; i++) expect(acked[i]!.at).toBeGreaterThanOrEqual(acked[i - 1]!.at);
    // The parent's callback saw every result, in the process's order.
    expect(results.filter((r) => r.code === 'ACKED').map((r) => r.id)).toEqual(load.acked().map((a) => a.id));
    expect(load.achievedRate()).toBeGreaterThan(0);
    expect(clients.cpuUsage().user).toBeGreaterThan(0);
  });

  it('a clients’ process that dies before handing over its acknowledgements fails stop(), never a short record', async () => {
    const s = await orders('ack');
    servers.push(s.server);
    clients = await spawnLoadClients();
    const load = clients.start({ url: s.url, rate: 200 });
    await vi.waitFor(() => expect(load.acked().length).toBeGreaterThan(20), { timeout: 10_000 });
    process.kill(clients.pid!, 'SIGKILL');
    await expect(load.stop()).rejects.toThrow(LoadClientsLostError);
    await expect(load.stop()).rejects.toThrow(
      /ended \(signal SIGKILL\) before handing over every acknowledged write/,
    );
  });

  it('refuses bad options at once, in the parent, with the same message; runs two generators apart', async () => {
    clients = await spawnLoadClients();
    expect(() => clients!.start({ url: 'http://127.0.0.1:1', rate: -5 })).toThrow(
      /rate must be .* > 0, got -5/,
    );
    const a = await orders('ack');
    const b = await orders('refuse');
    servers.push(a.server, b.server);
    // The front door's clients and a region's local clients, as in the partition drill: each keeps its own record.
    const door = clients.start({ url: a.url, rate: 100, idPrefix: 'door' });
    const local = clients.start({ url: b.url, rate: 100, idPrefix: 'local' });
    await vi.waitFor(
      () => {
        expect(door.acked().length).toBeGreaterThan(10);
        expect(local.stats().refused).toBeGreaterThan(10);
      },
      { timeout: 10_000 },
    );
    const fromLocal = await local.stop();
    expect(fromLocal.acked).toEqual([]);
    expect(fromLocal.stats.byCode.EXPIRED).toBe(fromLocal.stats.refused);
    // The other generator runs on after one stops.
    const before = door.acked().length;
    await vi.waitFor(() => expect(door.acked().length).toBeGreaterThan(before), { timeout: 10_000 });
    const fromDoor = await door.stop();
    expect(fromDoor.acked.every((w) => w.id.startsWith('door-'))).toBe(true);
    expect(fromDoor.acked.map((w) => w.id).sort()).toEqual([...a.acknowledged].sort());
  });
});
