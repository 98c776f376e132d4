import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import { type GuardDecision, type Lease, mayWrite, newExpiry } from '#core/lease.js';
import { leaseReplicaOrder, replicaAttemptMs } from '#core/lease-replicas.js';
import type { LeaseResult, LeaseStore } from '#core/ports.js';
import { checkSelfFence } from '#core/self-fence.js';
import { LeaseGuard } from '#guard/lease-guard.js';
import {
  type HeartbeatTick,
  type KeeperMetric,
  LEASE_RENEWAL_FAILED,
  LeaseKeeper,
  PRIMARY_SELF_FENCED,
  urlHealth,
} from '#guard/lease-keeper.js';
import example from '../../examples/cutover.example.json' with { type: 'json' };
import { eventErrors } from '../support/event-schemas.js';
import { FakeClock } from '../support/fake-clock.js';

const config: CutoverConfig = loadConfig(example);
const L = config.lease; // ttl 30 s, renew 10 s, retry 2 s, skew 1 s, margin 0.5 s
const APP = config.application;
const PRIMARY = config.primary.region;
const STANDBY = config.standby.region;

/** Timers on the fake clock: advance() fires what is due, in order, letting each tick's promises settle. */
class FakeTimers {
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  unrefs = 0;
  constructor(private readonly clock: FakeClock) {}
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.due.set(id, { at: this.clock.now() + ms, fn });
    return { id, unref: () => this.unrefs++ };
  };
  clearTimeout = (h: unknown) => {
    this.due.delete((h as { id: number }).id);
  };
  get pending(): number {
    return this.due.size;
  }
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      await settle();
      const first = [...this.due].sort((a, b) => a[1].at - b[1].at)[0];
      if (!first || first[1].at > end) break;
      this.due.delete(first[0]);
      this.clock.t = Math.max(this.clock.t, first[1].at);
      first[1].fn();
    }
    this.clock.t = end;
    await settle();
  }
}
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** The lease authority in memory, with DynamoLeaseStore's conditions; it can be told to fail. */
class MemoryLeases implements LeaseStore {
  lease: Lease | null = null;
  down = false;
  calls: string[] = [];
  constructor(private readonly clock: FakeClock) {}
  private check(op: string): void {
    this.calls.push(op);
    if (this.down) throw Object.assign(new Error(`could not ${op} the lease`), { name: 'StoreError' });
  }
  async read(): Promise<Lease | null> {
    this.check('read');
    return this.lease && { ...this.lease };
  }
  async acquire(application: string, region: string, expected: number | null): Promise<LeaseResult> {
    this.check('acquire');
    if (expected !== null || this.lease) return { ok: false, code: 'LOST_RACE', current: this.lease };
    const now = this.clock.now();
    this.lease = { application, holder: region, epoch: 1, expiresAt: newExpiry(now, L), updatedAt: now };
    return { ok: true, lease: { ...this.lease } };
  }
  async renew(_a: string, region: string, epoch: number): Promise<LeaseResult> {
    this.check('renew');
    const l = this.lease;
    if (!l || l.holder !== region || l.epoch !== epoch) return { ok: false, code: 'NOT_HOLDER', current: l };
    const now = this.clock.now();
    this.lease = { ...l, expiresAt: Math.max(l.expiresAt, newExpiry(now, L)), updatedAt: now };
    return { ok: true, lease: { ...this.lease } };
  }
  async revoke(_a: string, expected: number): Promise<LeaseResult> {
    const l = this.lease;
    if (!l || l.epoch !== expected) return { ok: false, code: 'LOST_RACE', current: l };
    this.lease = { ...l, holder: null, epoch: l.epoch + 1 };
    return { ok: true, lease: { ...this.lease } };
  }
  async grant(): Promise<LeaseResult> {
    throw new Error('not used here');
  }
}

function keeperHarness(region = PRIMARY, opts: { guard?: boolean; refreshAheadMs?: number } = {}) {
  const clock = new FakeClock();
  const timers = new FakeTimers(clock);
  const leases = new MemoryLeases(clock);
  const publisher = new RecordingPublisher(() => clock.now());
  let healthy = true;
  let checks = 0;
  const ticks: HeartbeatTick[] = [];
  const metrics: Partial<Record<KeeperMetric, number>> = {};
  const guard = opts.guard
    ? new LeaseGuard({
        store: leases,
        application: APP,
        region,
        timing: L,
        clock,
        timers,
        ...(opts.refreshAheadMs === undefined ? {} : { refreshAheadMs: opts.refreshAheadMs }),
      })
    : undefined;
  const keeper = new LeaseKeeper({
    application: APP,
    region,
    primaryRegion: PRIMARY,
    timing: L,
    leases,
    health: async () => {
      checks += 1;
      return { healthy, detail: healthy ? 'ok 200' : 'status 503' };
    },
    publisher,
    clock,
    timers,
    ...(guard ? { guard } : {}),
    metric: (name, value) => {
      metrics[name] = (metrics[name] ?? 0) + value;
    },
    onTick: (t) => ticks.push(t),
  });
  const start = clock.now();
  return {
    clock,
    timers,
    leases,
    publisher,
    keeper,
    guard,
    ticks,
    metrics,
    start,
    setHealthy: (h: boolean) => {
      healthy = h;
    },
    /** How many times the keeper checked the local health. */
    healthChecks: () => checks,
    /** [code, ms since start] of every tick so far. */
    schedule: () => ticks.map((t) => [t.code, t.at - start]),
  };
}

describe('LeaseKeeper: its schedule', () => {
  it('bootstraps in the configured primary, then renews every renew interval; its timer is unref’d', async () => {
    const h = keeperHarness();
    await h.keeper.start();
    await h.timers.advance(35_000);
    expect(h.schedule()).toEqual([
      ['BOOTSTRAPPED', 0],
      ['RENEWED', 10_000],
      ['RENEWED', 20_000],
      ['RENEWED', 30_000],
    ]);
    expect(h.leases.lease).toMatchObject({
      holder: PRIMARY,
      epoch: 1,
      expiresAt: h.start + 30_000 + L.ttlMs,
    });
    expect(h.timers.unrefs).toBe(4);
    expect(h.metrics).toEqual({ LeaseRenewed: 3 });
    expect(h.publisher.events).toEqual([]);
  });

  it('after an error it tries again after retryTimeoutMs, then returns to the renew interval', async () => {
    const h = keeperHarness();
    await h.keeper.start();
    await h.timers.advance(9_000);
    h.leases.down = true;
    await h.timers.advance(3_000); // the tick at 10 s fails; the retry at 12 s fails too
    h.leases.down = false;
    await h.timers.advance(12_000);
    expect(h.schedule()).toEqual([
      ['BOOTSTRAPPED', 0],
      ['RENEWAL_ERROR', 10_000],
      ['RENEWAL_ERROR', 12_000],
      ['RENEWED', 14_000],
      ['RENEWED', 24_000],
    ]);
    const failed = h.publisher.ofType(LEASE_RENEWAL_FAILED);
    expect(failed.map((e) => [e.detail.code, e.at - h.start])).toEqual([
      ['RENEWAL_ERROR', 10_000],
      ['RENEWAL_ERROR', 12_000],
    ]);
    for (const e of failed) expect(eventErrors(e.detailType, e.detail)).toEqual([]);
    expect(h.metrics).toMatchObject({ LeaseRenewalFailed: 2, LeaseRenewed: 2 });
    // Two failed renewals are ridden out: the lease never ran out, so nothing was fenced.
    expect(h.publisher.ofType(PRIMARY_SELF_FENCED)).toEqual([]);
  });

  it('a retry reuses the healthy verdict of the tick it retries; a new interval checks again', async () => {
    const h = keeperHarness();
    await h.keeper.start(); // 0: checks, bootstraps
    await h.timers.advance(9_000);
    h.leases.down = true;
    await h.timers.advance(3_000); // 10 s: checks, fails; 12 s: retries on the same verdict, fails
    h.leases.down = false;
    await h.timers.advance(12_000); // 14 s: retries on the verdict of 10 s, renews; 24 s: a new interval, checks
    expect(h.schedule()).toEqual([
      ['BOOTSTRAPPED', 0],
      ['RENEWAL_ERROR', 10_000],
      ['RENEWAL_ERROR', 12_000],
      ['RENEWED', 14_000],
      ['RENEWED', 24_000],
    ]);
    expect(h.healthChecks()).toBe(3);
  });

  it('a page that never leaves (PutEvents stalled) does not hold the next renewal', async () => {
    const h = keeperHarness();
    let stalled = 0;
    h.publisher.publish = () => {
      stalled += 1;
      return new Promise<void>(() => {});
    };
    await h.keeper.start();
    await h.timers.advance(9_000);
    h.leases.down = true;
    await h.timers.advance(3_000);
    h.leases.down = false;
    await h.timers.advance(12_000);
    // The same schedule as with a publisher that answers: the two pages are still stuck, the renewals went on.
    expect(h.schedule()).toEqual([
      ['BOOTSTRAPPED', 0],
      ['RENEWAL_ERROR', 10_000],
      ['RENEWAL_ERROR', 12_000],
      ['RENEWED', 14_000],
      ['RENEWED', 24_000],
    ]);
    expect(stalled).toBe(2);
  });

  it('stop() ends the ticks and leaves no timer; start() again resumes at once', async () => {
    const h = keeperHarness();
    await h.keeper.start();
    await h.timers.advance(10_000);
    await h.keeper.stop();
    expect(h.timers.pending).toBe(0);
    await h.timers.advance(30_000);
    expect(h.ticks).toHaveLength(2);
    await h.keeper.start();
    expect(h.schedule().at(-1)).toEqual(['RENEWED', 40_000]);
  });

  it('refuses a timing that would never tick, naming the field', () => {
    expect(
      () =>
        new LeaseKeeper({
          application: APP,
          region: PRIMARY,
          primaryRegion: PRIMARY,
          timing: { ...L, renewIntervalMs: 0 },
          leases: new MemoryLeases(new FakeClock()),
          health: async () => ({ healthy: true, detail: 'ok' }),
          publisher: new RecordingPublisher(),
        }),
    ).toThrow('timing.renewIntervalMs must be a positive number of milliseconds');
  });

  it('the standby never creates the lease', async () => {
    const h = keeperHarness(STANDBY);
    await h.keeper.start();
    await h.timers.advance(20_000);
    expect(new Set(h.ticks.map((t) => t.code))).toEqual(new Set(['NO_LEASE_STANDBY']));
    expect(h.leases.lease).toBeNull();
  });

  it('checks health with the watchers’ own timeouts (config.probe), not shorter ones', async () => {
    const seen: unknown[] = [];
    const check = urlHealth(
      async (url, timeouts) => {
        seen.push({ url, ...timeouts });
        return { healthy: true, detail: 'ok 200', latencyMs: 2_400, observedAt: 0 };
      },
      'http://127.0.0.1:1/health',
      config.probe,
    );
    expect(await check()).toEqual({ healthy: true, detail: 'ok 200' });
    expect(seen).toEqual([
      { url: 'http://127.0.0.1:1/health', connectTimeoutMs: 2_000, responseTimeoutMs: 3_000 },
    ]);
  });
});

describe('LeaseKeeper with the LeaseGuard', () => {
  it('feeds each renewed lease to the guard, which allows writes without a read of its own', async () => {
    const h = keeperHarness(PRIMARY, { guard: true });
    await h.keeper.start();
    expect(h.guard!.check()).toMatchObject({ allowed: true, epoch: 1 });
    expect(h.leases.calls).toEqual(['read', 'acquire']);
    await h.timers.advance(10_000);
    expect(h.guard!.check()).toMatchObject({
      allowed: true,
      validUntil: h.start + 10_000 + L.ttlMs - L.maxSkewMs - L.safetyMarginMs,
    });
  });

  it('Primary Self-Fenced: once per episode, when the holder’s guard refuses writes and nobody revoked it', async () => {
    const h = keeperHarness(PRIMARY, { guard: true });
    await h.keeper.start();
    await h.timers.advance(9_000);
    h.leases.down = true; // the keeper and the guard both lose the lease authority
    // Renewed at 0; the guard stops writes at ttl − skew − margin = 28.5 s. Ticks every 2 s from 10 s.
    await h.timers.advance(40_000 - 9_000);
    const fenced = h.publisher.ofType(PRIMARY_SELF_FENCED);
    expect(fenced.map((e) => e.at - h.start)).toEqual([30_000]);
    expect(fenced[0]?.detail).toMatchObject({
      region: PRIMARY,
      epoch: 1,
      code: 'STALE_CACHE',
      healthy: true,
    });
    expect(eventErrors(PRIMARY_SELF_FENCED, fenced[0]?.detail)).toEqual([]);
    expect(h.ticks.find((t) => t.selfFenced)?.at).toBe(h.start + 30_000);
    expect(h.guard!.check().allowed).toBe(false);

    // The authority comes back: the holder renews (nobody took it), writes resume, and the page is re-armed.
    h.leases.down = false;
    await h.timers.advance(2_000);
    expect(h.ticks.at(-1)?.code).toBe('RENEWED');
    expect(h.guard!.check()).toMatchObject({ allowed: true, epoch: 1 });
    h.leases.down = true;
    await h.timers.advance(40_000);
    expect(h.publisher.ofType(PRIMARY_SELF_FENCED)).toHaveLength(2);
    expect(h.metrics.PrimarySelfFenced).toBe(2);
  });

  it('a keeper whose timers stopped pages on its first tick back, before renewing', async () => {
    // No refresh-ahead: with nobody renewing, the guard would otherwise re-read back to back on these fake timers.
    const h = keeperHarness(PRIMARY, { guard: true, refreshAheadMs: 0 });
    await h.keeper.start();
    await h.keeper.stop();
    await h.timers.advance(35_000); // the guard re-reads the lease that nobody renews
    expect(h.guard!.check()).toMatchObject({ allowed: false, code: 'EXPIRED' });
    await h.keeper.start();
    expect(h.ticks.at(-1)).toMatchObject({ code: 'RENEWED', selfFenced: expect.stringContaining('EXPIRED') });
    expect(h.publisher.ofType(PRIMARY_SELF_FENCED)).toHaveLength(1);
    expect(h.guard!.check().allowed).toBe(true);
  });

  it('a lease revoked by a failover is not a self-fence', async () => {
    const h = keeperHarness(PRIMARY, { guard: true });
    await h.keeper.start();
    await h.leases.revoke(APP, 1);
    await h.timers.advance(60_000);
    expect(h.ticks.map((t) => t.code)).toEqual([
      'BOOTSTRAPPED',
      'RENEWAL_REFUSED',
      'FENCED',
      'FENCED',
      'FENCED',
      'FENCED',
      'FENCED',
    ]);
    expect(h.guard!.check()).toMatchObject({ allowed: false, code: 'FENCED' });
    expect(h.publisher.ofType(PRIMARY_SELF_FENCED)).toEqual([]);
    expect(h.publisher.ofType(LEASE_RENEWAL_FAILED)).toHaveLength(1);
  });

  it('an unhealthy holder lets its lease lapse on purpose, and still pages (the detail says unhealthy)', async () => {
    const h = keeperHarness();
    await h.keeper.start();
    h.setHealthy(false);
    await h.timers.advance(40_000);
    expect(h.ticks.slice(1).map((t) => t.code)).toEqual(Array(4).fill('UNHEALTHY_NOT_RENEWING'));
    expect(h.publisher.ofType(PRIMARY_SELF_FENCED).map((e) => [e.at - h.start, e.detail.healthy])).toEqual([
      [30_000, false],
    ]);
    expect(h.metrics.LeaseNotRenewedUnhealthy).toBe(4);
  });
});

describe('checkSelfFence', () => {
  const lease = (holder: string | null, epoch = 3): Lease => ({
    application: APP,
    holder,
    epoch,
    expiresAt: 100_000,
    updatedAt: 70_000,
  });
  const arbLease = fc.record({
    holder: fc.constantFrom(PRIMARY, STANDBY, null),
    epoch: fc.integer({ min: 1, max: 5 }),
    expiresAt: fc.integer({ min: 0, max: 200_000 }),
  });

  it('publishes only for the holder’s own refused writes, once until writable again', () => {
    fc.assert(
      fc.property(
        fc.option(arbLease, { nil: null }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.boolean(),
        (l, now, reported) => {
          const known = l && { ...lease(l.holder, l.epoch), expiresAt: l.expiresAt };
          const decision: GuardDecision = mayWrite(known, PRIMARY, now, L);
          const c = checkSelfFence({ decision, known, region: PRIMARY, reported });
          const ownRefused = !decision.allowed && known?.holder === PRIMARY;
          expect(c.code === 'SELF_FENCED').toBe(ownRefused);
          expect(c.publish).toBe(ownRefused && !reported);
          if (known?.holder === null) expect(c.code).toBe('FENCED_BY_FAILOVER');
        },
      ),
    );
  });

  it('a guard that has not loaded the lease is not a self-fence', () => {
    const decision: GuardDecision = {
      allowed: false,
      epoch: null,
      code: 'STALE_CACHE',
      reason: 'not read yet',
    };
    expect(checkSelfFence({ decision, known: null, region: PRIMARY, reported: false }).code).toBe(
      'NOT_LOADED',
    );
    expect(checkSelfFence({ decision, known: lease(PRIMARY), region: PRIMARY, reported: false }).reason).toBe(
      'us-east-1 holds epoch 3 but refuses writes (STALE_CACHE): not read yet; no failover revoked it',
    );
  });
});

describe('lease replicas', () => {
  it('the local replica first, then the others as configured; an arbiter alone; a witness never', () => {
    const mrsc = { mode: 'mrsc' as const, regions: ['us-east-2', 'us-east-1', 'us-west-2'] };
    expect(leaseReplicaOrder(mrsc, 'us-west-2')).toEqual(['us-west-2', 'us-east-2', 'us-east-1']);
    expect(leaseReplicaOrder(mrsc, 'eu-west-1')).toEqual(['us-east-2', 'us-east-1', 'us-west-2']);
    expect(
      leaseReplicaOrder(
        { mode: 'mrsc', regions: ['us-east-1', 'us-east-2'], witnessRegion: 'us-west-2' },
        'us-west-2',
      ),
    ).toEqual(['us-east-1', 'us-east-2']);
    expect(leaseReplicaOrder({ mode: 'arbiter', region: 'us-east-2' }, 'us-east-1')).toEqual(['us-east-2']);
  });

  it('each replica gets an equal share of the time left, so the last is always reached within the budget', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 10_000 }), fc.integer({ min: 1, max: 3 }), (budget, n) => {
        let left = budget;
        for (let i = 0; i < n; i++) {
          const share = replicaAttemptMs(left, n - i);
          expect(share).toBeGreaterThan(0);
          left -= share;
        }
        expect(left).toBeGreaterThanOrEqual(0);
      }),
    );
    expect(replicaAttemptMs(0, 2)).toBe(0);
  });
});
