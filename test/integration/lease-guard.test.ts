import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { holderDeadline, type LeaseTiming, safeToTakeAt } from '#core/lease.js';
import type { LeaseStore } from '#core/ports.js';
import { LeaseGuard, type Timers, WriteFencedError } from '#guard/lease-guard.js';
import { type GuardedContext, leaseGuard } from '#guard/middleware.js';
import { freshTables } from '../support/dynamodb.js';
import { FakeClock } from '../support/fake-clock.js';

const timing: LeaseTiming = { ttlMs: 30_000, renewIntervalMs: 10_000, maxSkewMs: 1_000, safetyMarginMs: 500 };
const REGION = 'us-east-1';

let doc: DynamoDBDocumentClient;
let table: string;
beforeAll(async () => {
  const t = await freshTables('guard');
  doc = t.doc;
  table = t.names.control;
});

/** Timers the test fires by hand, so the background refresh runs exactly when the test says. */
class ManualTimers implements Timers {
  pending: { fn: () => void; ms: number; unrefd: boolean }[] = [];
  private scheduled: (() => void) | null = null;
  setTimeout(fn: () => void, ms: number) {
    const entry = { fn, ms, unrefd: false };
    this.pending.push(entry);
    this.scheduled?.();
    this.scheduled = null;
    return {
      entry,
      unref() {
        entry.unrefd = true;
      },
    };
  }
  clearTimeout(handle: unknown) {
    const entry = (handle as { entry: unknown }).entry;
    this.pending = this.pending.filter((p) => p !== entry);
  }
  /**
   * Fires the next timer and returns once the refresh it started has finished, which is when the guard
   * schedules its next one (also after a failed read).
   */
  async fire(): Promise<void> {
    const next = this.pending.shift();
    if (!next) throw new Error('no timer pending');
    const done = new Promise<void>((r) => {
      this.scheduled = r;
    });
    next.fn();
    await done;
  }
}

/** The real DynamoDB store, with a count of reads and a switch that points reads at a missing table. */
function observed(clock: FakeClock) {
  const real = new DynamoLeaseStore(doc, table, timing, clock);
  const broken = new DynamoLeaseStore(doc, 'missing-table', timing, clock);
  const stats = { reads: 0, failing: false };
  const store: Pick<LeaseStore, 'read'> = {
    read: (app) => {
      stats.reads++;
      return (stats.failing ? broken : real).read(app);
    },
  };
  return { real, store, stats };
}

async function setup(
  app: string,
  refresh: { refreshEveryMs?: number; refreshAheadMs?: number; grantWatchForMs?: number } = {},
) {
  const clock = new FakeClock();
  const { real, store, stats } = observed(clock);
  const acquired = await real.acquire(app, REGION, null);
  if (!acquired.ok) throw new Error('bootstrap failed');
  const timers = new ManualTimers();
  const guard = new LeaseGuard({
    store,
    application: app,
    region: REGION,
    timing,
    clock,
    timers,
    ...refresh,
  });
  return { clock, real, stats, timers, guard, lease: acquired.lease };
}

describe('LeaseGuard on DynamoDB Local', () => {
  it('refuses before the first read, then allows the holder with the epoch as fencing token', async () => {
    const { guard, lease } = await setup('warm');
    expect(guard.check()).toMatchObject({ allowed: false, code: 'STALE_CACHE', epoch: null });
    expect(() => guard.assertWritable()).toThrow(WriteFencedError);
    expect(await guard.start()).toMatchObject({
      allowed: true,
      epoch: lease.epoch,
      validUntil: holderDeadline(lease, timing),
    });
    expect(guard.assertWritable()).toBe(lease.epoch);
  });

  it('does no I/O in check() once warm', async () => {
    const { guard, stats, clock } = await setup('no-io');
    await guard.start();
    const reads = stats.reads;
    for (let i = 0; i < 10_000; i++) {
      clock.advance(1);
      expect(guard.check().allowed).toBe(true);
    }
    expect(stats.reads).toBe(reads);
  });

  it('refreshes in the background on an unref’d timer, before the cached lease runs out', async () => {
    const { guard, timers, clock, real, lease } = await setup('refresh');
    await guard.start();
    expect(timers.pending).toHaveLength(1);
    const [first] = timers.pending;
    expect(first?.unrefd).toBe(true);
    expect(clock.t + (first?.ms ?? Infinity)).toBeLessThan(holderDeadline(lease, timing));

    // The heartbeat renews; the guard sees it at its next refresh and extends its window.
    clock.advance(timing.renewIntervalMs);
    const renewed = await real.renew('refresh', REGION, lease.epoch);
    if (!renewed.ok) throw new Error('renew failed');
    expect(guard.check()).toMatchObject({ validUntil: holderDeadline(lease, timing) });
    await timers.fire();
    expect(guard.check()).toMatchObject({ allowed: true, validUntil: holderDeadline(renewed.lease, timing) });
    expect(timers.pending).toHaveLength(1);
    guard.stop();
    expect(timers.pending).toHaveLength(0);
  });

  it('refuses once a refresh shows the lease revoked or granted elsewhere', async () => {
    const { guard, timers, clock, real, lease } = await setup('revoked');
    await guard.start();
    const revoked = await real.revoke('revoked', lease.epoch);
    if (!revoked.ok) throw new Error('revoke failed');
    // Until the next refresh the cached lease still allows writes; the taker's wait covers exactly that.
    expect(guard.check().allowed).toBe(true);
    await timers.fire();
    expect(guard.check()).toMatchObject({ allowed: false, code: 'FENCED', epoch: lease.epoch + 1 });

    clock.t = safeToTakeAt(revoked.lease, timing);
    await real.grant('revoked', 'us-west-2', revoked.lease.epoch);
    await guard.refresh();
    expect(guard.check()).toMatchObject({ allowed: false, code: 'NOT_HOLDER', epoch: lease.epoch + 2 });
  });

  it('watches a revoked lease closely, so the region it is granted to writes soon after the grant', async () => {
    // The standby's guard: it holds nothing; the primary's lease is revoked by a failover, then granted to it.
    const clock = new FakeClock();
    const { real, store, stats } = observed(clock);
    const acquired = await real.acquire('grant-watch', 'us-east-1', null);
    if (!acquired.ok) throw new Error('bootstrap failed');
    const timers = new ManualTimers();
    const guard = new LeaseGuard({
      store,
      application: 'grant-watch',
      region: 'us-west-2',
      timing,
      clock,
      timers,
    });
    await guard.start();
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 2]);

    const revoked = await real.revoke('grant-watch', acquired.lease.epoch);
    if (!revoked.ok) throw new Error('revoke failed');
    clock.advance(timing.renewIntervalMs / 2);
    await timers.fire();
    // Revoked: re-read every tenth of the renew interval instead of every half.
    expect(guard.check()).toMatchObject({ allowed: false, code: 'FENCED' });
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 10]);

    clock.t = safeToTakeAt(revoked.lease, timing);
    const granted = await real.grant('grant-watch', 'us-west-2', revoked.lease.epoch);
    if (!granted.ok) throw new Error('grant failed');
    const reads = stats.reads;
    await timers.fire();
    expect(stats.reads).toBe(reads + 1);
    expect(guard.check()).toMatchObject({ allowed: true, epoch: granted.lease.epoch });
    // Held again: back to the usual cadence (bounded by the refresh-ahead window).
    expect(timers.pending[0]?.ms).toBeGreaterThan(timing.renewIntervalMs / 10);
    guard.stop();
  });

  it('stops watching a revoked lease closely after grantWatchForMs (a failover that never granted it)', async () => {
    const { guard, timers, clock, real, lease } = await setup('grant-watch-ends', {
      grantWatchForMs: 60_000,
    });
    await guard.start();
    await real.revoke('grant-watch-ends', lease.epoch);
    await guard.refresh();
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 10]);
    clock.advance(59_999);
    await timers.fire();
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 10]);
    clock.advance(1);
    await timers.fire();
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 2]);
    guard.stop();
  });

  it('watches closely again when the lease is revoked at a new epoch, however long ago it was first revoked', async () => {
    // A failover that never granted the lease left it revoked past grantWatchForMs; a later failover keyed at that
    // epoch revokes it again (epoch + 1, still no holder) and grants it soon after: that grant is watched for.
    const { guard, timers, clock, real, lease } = await setup('grant-watch-again', {
      grantWatchForMs: 60_000,
    });
    await guard.start();
    const first = await real.revoke('grant-watch-again', lease.epoch);
    if (!first.ok) throw new Error('revoke failed');
    await guard.refresh();
    clock.advance(60_000);
    await timers.fire();
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 2]);

    const second = await real.revoke('grant-watch-again', first.lease.epoch);
    if (!second.ok) throw new Error('second revoke failed');
    clock.advance(timing.renewIntervalMs / 2);
    await timers.fire();
    expect(guard.check()).toMatchObject({ allowed: false, code: 'FENCED', epoch: second.lease.epoch });
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 10]);
    guard.stop();
  });

  it('does not retry at once, in a loop, when its first read fails', async () => {
    // Nothing cached yet and the table unreachable (a process starting during a regional outage): each failed
    // read must be followed by a pause, not by the next read at once (setTimeout 0: a read a millisecond).
    const { guard, timers, stats, clock } = await setup('first-read-fails');
    stats.failing = true;
    expect(await guard.start()).toMatchObject({ allowed: false, code: 'STALE_CACHE', epoch: null });
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 10]);
    clock.advance(timing.renewIntervalMs / 10);
    await timers.fire();
    expect(stats.reads).toBe(2);
    expect(timers.pending.map((p) => p.ms)).toEqual([timing.renewIntervalMs / 10]);

    // Once the store answers, the next read warms the cache.
    stats.failing = false;
    await timers.fire();
    expect(guard.check()).toMatchObject({ allowed: true });
    guard.stop();
  });

  it('keeps a lease the keeper handed it while a read was on its way, when the read answers with an older one', async () => {
    // The guard's read is served before the keeper's acquire (no lease yet) but answers after the keeper has
    // handed it the acquired lease (observe): the older answer must not refuse the holder's writes.
    const clock = new FakeClock();
    const { real } = observed(clock);
    const timers = new ManualTimers();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let onServed: () => void = () => {};
    const served = new Promise<void>((r) => {
      onServed = r;
    });
    const guard = new LeaseGuard({
      store: {
        read: async (app) => {
          const answer = await real.read(app);
          onServed();
          await held;
          return answer;
        },
      },
      application: 'observe-race',
      region: REGION,
      timing,
      clock,
      timers,
    });
    const started = guard.start();
    await served; // no lease yet when the read was served
    const acquired = await real.acquire('observe-race', REGION, null);
    if (!acquired.ok) throw new Error('bootstrap failed');
    guard.observe(acquired.lease);
    expect(guard.check()).toMatchObject({ allowed: true, epoch: acquired.lease.epoch });
    release();
    await started;
    expect(guard.check()).toMatchObject({ allowed: true, epoch: acquired.lease.epoch });
    // Which came first is unknown (a missing item may be a deletion after the acquire): the next read comes at once.
    expect(timers.pending.map((p) => p.ms)).toEqual([0]);
    await timers.fire();
    expect(guard.check()).toMatchObject({ allowed: true, epoch: acquired.lease.epoch });
    expect(timers.pending[0]!.ms).toBeGreaterThan(0);
    // A read that is not older still decides: the lease item deleted, writes stop at once.
    await doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'observe-race', sk: 'lease' } }));
    await guard.refresh();
    expect(guard.check()).toMatchObject({ allowed: false, code: 'NO_LEASE' });
    guard.stop();
  });

  it('fails closed when it cannot refresh before the cached lease runs out', async () => {
    const { guard, timers, clock, stats, lease } = await setup('closed');
    await guard.start();
    stats.failing = true;
    clock.advance(timing.renewIntervalMs);
    await timers.fire();
    // The read failed; the cached lease keeps working until its own deadline, not a moment longer.
    clock.t = holderDeadline(lease, timing) - 1;
    expect(guard.check()).toMatchObject({ allowed: true, epoch: lease.epoch });
    clock.t = holderDeadline(lease, timing);
    const refused = guard.check();
    expect(refused).toMatchObject({ allowed: false, code: 'STALE_CACHE', epoch: lease.epoch });
    expect(refused.reason).toContain('StoreError');
    expect(timers.pending).toHaveLength(1);

    // Once the store answers again the guard reads the lease again; nobody renewed it here, so it stays refused.
    stats.failing = false;
    await timers.fire();
    expect(guard.check()).toMatchObject({ allowed: false, code: 'EXPIRED' });
  });

  it('stops writes at once when a refresh finds the lease item deleted', async () => {
    const { guard, clock, lease } = await setup('deleted');
    await guard.start();
    expect(guard.check()).toMatchObject({ allowed: true, epoch: lease.epoch });
    await doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'deleted', sk: 'lease' } }));
    // Same instant, well inside the old cached window: the read that saw no item is what decides.
    await guard.refresh();
    expect(clock.t).toBeLessThan(holderDeadline(lease, timing));
    expect(guard.check()).toMatchObject({ allowed: false, code: 'NO_LEASE', epoch: null });
    expect(() => guard.assertWritable()).toThrow(WriteFencedError);
  });

  it('schedules its refresh refreshAheadMs before the cached lease stops allowing writes', async () => {
    // A periodic refresh far in the future, so that only refreshAheadMs can bring the read forward.
    const { guard, timers, clock, lease, stats } = await setup('ahead', {
      refreshEveryMs: 3_600_000,
      refreshAheadMs: 4_000,
    });
    await guard.start();
    const deadline = holderDeadline(lease, timing);
    expect(timers.pending.map((p) => p.ms)).toEqual([deadline - 4_000 - clock.t]);

    // A frozen sandbox: ensureFresh reads exactly when the ahead window opens, not a millisecond before.
    guard.stop();
    const reads = stats.reads;
    clock.t = deadline - 4_000 - 1;
    await guard.ensureFresh();
    expect(stats.reads).toBe(reads);
    clock.t = deadline - 4_000;
    await guard.ensureFresh();
    expect(stats.reads).toBe(reads + 1);
  });

  it('defaults refreshAheadMs to one renew interval', async () => {
    const { guard, timers, clock, lease } = await setup('ahead-default', { refreshEveryMs: 3_600_000 });
    await guard.start();
    expect(timers.pending.map((p) => p.ms)).toEqual([
      holderDeadline(lease, timing) - timing.renewIntervalMs - clock.t,
    ]);
  });

  it('shares one read among concurrent refreshes', async () => {
    const { guard, stats } = await setup('dedupe');
    await Promise.all([guard.refresh(), guard.refresh(), guard.ensureFresh(), guard.refresh()]);
    expect(stats.reads).toBe(1);
  });
});

describe('leaseGuard middleware', () => {
  const context = () =>
    ({ functionName: 'orders-writer', getRemainingTimeInMillis: () => 1000 }) as unknown as Context;

  it('hands the epoch to the handler on the context', async () => {
    const { guard, lease } = await setup('mw-ok');
    const seen: GuardedContext[] = [];
    const handler = middy(async (_event: unknown, ctx: Context) => {
      seen.push(ctx as GuardedContext);
      return 'written';
    }).use(leaseGuard({ guard }));
    await expect(handler({}, context())).resolves.toBe('written');
    expect(seen[0]).toMatchObject({
      leaseEpoch: lease.epoch,
      leaseValidUntil: holderDeadline(lease, timing),
    });
  });

  it('refuses with a 503 WriteFencedError and does not run the handler when not the holder', async () => {
    const { guard, real, lease, clock } = await setup('mw-fenced');
    await real.revoke('mw-fenced', lease.epoch);
    clock.advance(1);
    let ran = false;
    const handler = middy(async () => {
      ran = true;
    }).use(leaseGuard({ guard }));
    const err = await handler({}, context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteFencedError);
    expect(err).toMatchObject({
      name: 'WriteFencedError',
      statusCode: 503,
      code: 'FENCED',
      epoch: lease.epoch + 1,
    });
    expect(ran).toBe(false);
  });

  it('re-reads a cache that came due while the sandbox was frozen', async () => {
    const { guard, real, lease, clock, stats } = await setup('mw-frozen');
    await guard.start();
    // No timer ran (frozen); meanwhile the heartbeat renewed and the old cached window is about to end.
    clock.t = holderDeadline(lease, timing) - 1;
    const renewed = await real.renew('mw-frozen', REGION, lease.epoch);
    if (!renewed.ok) throw new Error('renew failed');
    const reads = stats.reads;
    const handler = middy(async (_e: unknown, ctx: Context) => (ctx as GuardedContext).leaseValidUntil).use(
      leaseGuard({ guard }),
    );
    await expect(handler({}, context())).resolves.toBe(holderDeadline(renewed.lease, timing));
    expect(stats.reads).toBe(reads + 1);
  });

  it('validates its options', () => {
    expect(() => leaseGuard({} as never)).toThrow(TypeError);
  });
});
