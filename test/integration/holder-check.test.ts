import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthCheckTrafficRouter } from '#adapters/http/health-check-traffic-router.js';
import { HttpHolderCheckReader } from '#adapters/http/holder-check-reader.js';
import { holderCheckUrlOf } from '#core/holder.js';
import { type Lease, type LeaseTiming, mayWrite } from '#core/lease.js';
import { HOLDER_CHECK_PATH, serveHolderCheck } from '#guard/holder-check.js';
import { FakeClock } from '../support/fake-clock.js';

const timing: LeaseTiming = { ttlMs: 10_000, renewIntervalMs: 3_000, maxSkewMs: 500, safetyMarginMs: 200 };
const clock = new FakeClock();

/** A guard whose cached lease the test sets; its decision is the real mayWrite over it. */
function guardOf(region: string) {
  const g = {
    lease: null as Lease | null,
    check: () => mayWrite(g.lease, region, clock.now(), timing),
    cachedLease: () => g.lease,
  };
  return g;
}

const east = guardOf('us-east-1');
const west = guardOf('us-west-2');
const servers: Server[] = [];
const urls: Record<string, string> = {};

beforeAll(async () => {
  for (const [region, guard] of [
    ['us-east-1', east],
    ['us-west-2', west],
  ] as const) {
    const serve = serveHolderCheck(guard, region, clock);
    const server = createServer((req, res) => {
      if (!serve(req, res)) res.writeHead(404).end('not here');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    urls[region] = `http://127.0.0.1:${(server.address() as AddressInfo).port}${HOLDER_CHECK_PATH}`;
  }
});
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

const lease = (holder: string | null, epoch: number, expiresIn = 10_000): Lease => ({
  application: 'orders',
  holder,
  epoch,
  expiresAt: clock.now() + expiresIn,
  updatedAt: clock.now(),
});

describe('holder check served from the guard', () => {
  it('answers 200 with holder, epoch and expiry only where the lease allows writes, 503 elsewhere', async () => {
    east.lease = lease('us-east-1', 4);
    west.lease = lease('us-east-1', 4);
    const reader = new HttpHolderCheckReader(urls, 1_000);
    const e = await reader.read('us-east-1');
    const w = await reader.read('us-west-2');
    expect(e.status).toBe(200);
    expect(e.body).toEqual({ holding: true, holder: 'us-east-1', epoch: 4 });
    expect(w.status).toBe(503);
    expect(w.body).toEqual({ holding: false, holder: 'us-east-1', epoch: 4 });
    const raw = await fetch(urls['us-east-1']!);
    expect(raw.headers.get('cache-control')).toBe('no-store');
    expect(await raw.json()).toMatchObject({
      region: 'us-east-1',
      code: 'HOLDER',
      expiresAt: east.lease.expiresAt,
    });
  });

  it('turns 503 when the cached lease runs out for writes (expiry − skew − margin), with no read', async () => {
    east.lease = lease('us-east-1', 4, 1_000);
    const reader = new HttpHolderCheckReader(urls, 1_000);
    expect((await reader.read('us-east-1')).status).toBe(200);
    clock.advance(1_000 - 700);
    const after = await reader.read('us-east-1');
    expect(after.status).toBe(503);
    expect(after.detail).toContain('status 503');
  });

  it('refuses other methods and leaves other paths to the application', async () => {
    const post = await fetch(urls['us-east-1']!, { method: 'POST' });
    expect(post.status).toBe(405);
    const other = await fetch(urls['us-east-1']!.replace(HOLDER_CHECK_PATH, '/orders'));
    expect(other.status).toBe(404);
  });

  it('defaults the URL to /cutover/holder on the health URL origin', () => {
    expect(holderCheckUrlOf({ healthUrl: 'https://orders-use1.example.com/health' })).toBe(
      'https://orders-use1.example.com/cutover/holder',
    );
    expect(
      holderCheckUrlOf({
        healthUrl: 'https://a.example.com/health',
        holderCheckUrl: 'https://h.example.com/x',
      }),
    ).toBe('https://h.example.com/x');
  });
});

describe('the health-check router: traffic follows the lease with no API call', () => {
  it('is INSYNC only once the new holder answers 200 and the old one does not', async () => {
    const router = new HealthCheckTrafficRouter(new HttpHolderCheckReader(urls, 1_000), [
      'us-east-1',
      'us-west-2',
    ]);
    expect((await router.stopTraffic('us-east-1')).changeId).toBeNull();
    const { changeId } = await router.routeTo('us-west-2', 100);
    expect(changeId).toBe('holder:us-west-2');

    east.lease = lease('us-east-1', 4);
    west.lease = lease('us-east-1', 4);
    expect(await router.changeStatus(changeId!)).toBe('PENDING');
    expect((await router.switchStatus(changeId!)).code).toBe('NEW_NOT_HOLDING');

    // Granted to the standby, but the old primary's guard still holds its cached lease.
    west.lease = lease('us-west-2', 5);
    expect((await router.switchStatus(changeId!, 5)).code).toBe('OLD_STILL_HOLDING');

    east.lease = lease(null, 5);
    expect(await router.changeStatus(changeId!)).toBe('INSYNC');
    // An older epoch than the one granted does not count.
    expect((await router.switchStatus(changeId!, 6)).code).toBe('NEW_NOT_HOLDING');
  });

  it('counts an unreachable old primary as not answering, and times a stalled check out', async () => {
    const stalled = createServer(() => {});
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    try {
      const reader = new HttpHolderCheckReader(
        {
          'us-east-1': `http://127.0.0.1:${(stalled.address() as AddressInfo).port}${HOLDER_CHECK_PATH}`,
          'us-west-2': urls['us-west-2']!,
        },
        300,
      );
      west.lease = lease('us-west-2', 5);
      const started = performance.now();
      const old = await reader.read('us-east-1');
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(old).toMatchObject({ status: null, body: null });
      expect(old.detail).toContain('timeout');
      const router = new HealthCheckTrafficRouter(reader, ['us-east-1', 'us-west-2']);
      expect(await router.changeStatus('holder:us-west-2')).toBe('INSYNC');
    } finally {
      stalled.closeAllConnections();
      await new Promise((r) => stalled.close(r));
    }
  });

  it('refuses a weighted step, an unknown region and a change id it did not make', async () => {
    const router = new HealthCheckTrafficRouter(new HttpHolderCheckReader(urls, 1_000), [
      'us-east-1',
      'us-west-2',
    ]);
    await expect(router.routeTo('us-west-2', 10)).rejects.toThrow(/needs the record API/);
    await expect(router.routeTo('eu-west-1', 100)).rejects.toThrow(/not an application region/);
    await expect(router.changeStatus('/change/C123')).rejects.toThrow(/not made by the health-check router/);
  });
});
