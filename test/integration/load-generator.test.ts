import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultConcurrency, startLoadGenerator } from '../../infra/local/load-generator.js';

/** A real HTTP server standing in for the front door: acknowledges each order as the sample app does, or never answers. */
async function orders(
  mode: 'ack' | 'hang' | 'refuse',
): Promise<{ url: string; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
      seen.push(id);
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
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, seen };
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
    expect(defaultConcurrency(10)).toBe(4);
    expect(defaultConcurrency(300)).toBe(30);
  });
});
