import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  holderDeadline,
  isSafeToTake,
  type Lease,
  type LeaseTiming,
  mayWrite,
  newExpiry,
  nextRenewalAt,
  safeToTakeAt,
} from '#core/lease.js';

const timing: LeaseTiming = { ttlMs: 30_000, renewIntervalMs: 10_000, maxSkewMs: 1_000, safetyMarginMs: 500 };
const lease = (over: Partial<Lease> = {}): Lease => ({
  application: 'orders',
  holder: 'us-east-1',
  epoch: 4,
  expiresAt: 100_000,
  updatedAt: 70_000,
  ...over,
});

describe('lease arithmetic', () => {
  it('stops the holder at expiry − maxSkew − margin and lets a taker in at expiry + maxSkew', () => {
    expect(holderDeadline(lease(), timing)).toBe(98_500);
    expect(safeToTakeAt(lease(), timing)).toBe(101_000);
    expect(newExpiry(70_000, timing)).toBe(100_000);
    expect(nextRenewalAt(70_000, timing)).toBe(80_000);
  });

  it('is safe to take when absent, and only from expiry + maxSkew on', () => {
    expect(isSafeToTake(null, 0, timing)).toBe(true);
    expect(isSafeToTake(lease(), 100_999, timing)).toBe(false);
    expect(isSafeToTake(lease(), 101_000, timing)).toBe(true);
  });

  it('allows the holder strictly before its deadline, with the epoch as fencing token', () => {
    expect(mayWrite(lease(), 'us-east-1', 98_499, timing)).toMatchObject({
      allowed: true,
      code: 'HOLDER',
      epoch: 4,
      validUntil: 98_500,
    });
    expect(mayWrite(lease(), 'us-east-1', 98_500, timing)).toMatchObject({
      allowed: false,
      code: 'EXPIRED',
      epoch: 4,
    });
  });

  it('refuses with a stable code and a readable reason', () => {
    expect(mayWrite(null, 'us-east-1', 0, timing)).toMatchObject({
      allowed: false,
      code: 'NO_LEASE',
      epoch: null,
    });
    const fenced = mayWrite(lease({ holder: null, epoch: 5 }), 'us-east-1', 0, timing);
    expect(fenced).toMatchObject({ allowed: false, code: 'FENCED', epoch: 5 });
    expect(fenced.reason).toContain('epoch 5');
    const other = mayWrite(lease({ holder: 'us-west-2' }), 'us-east-1', 0, timing);
    expect(other).toMatchObject({ allowed: false, code: 'NOT_HOLDER' });
    expect(other.reason).toContain('us-west-2 holds the lease');
  });

  it('never lets a holder and a taker overlap in real time while each clock is within maxSkew of it', () => {
    // Each clock reads real time + an offset in [−maxSkew, +maxSkew]; the holder's last allowed instant and the
    // taker's first allowed instant, both in real time, must be at least the safety margin apart.
    const scenario = fc
      .record({
        maxSkewMs: fc.integer({ min: 0, max: 10_000 }),
        margin: fc.integer({ min: 0, max: 2_000 }),
        expiresAt: fc.integer({ min: 1, max: 1e12 }),
      })
      .chain((s) =>
        fc.record({
          s: fc.constant(s),
          h: fc.integer({ min: -s.maxSkewMs, max: s.maxSkewMs }),
          k: fc.integer({ min: -s.maxSkewMs, max: s.maxSkewMs }),
        }),
      );
    fc.assert(
      fc.property(scenario, ({ s, h, k }) => {
        const t: LeaseTiming = {
          ttlMs: 60_000,
          renewIntervalMs: 10_000,
          maxSkewMs: s.maxSkewMs,
          safetyMarginMs: s.margin,
        };
        const l = lease({ expiresAt: s.expiresAt });
        const holderStopsReal = holderDeadline(l, t) - h; // the holder's clock reads real + h
        const takerStartsReal = safeToTakeAt(l, t) - k;
        // The decision functions agree with the formulas at the boundary instants.
        expect(mayWrite(l, 'us-east-1', holderStopsReal - 1 + h, t).allowed).toBe(true);
        expect(mayWrite(l, 'us-east-1', holderStopsReal + h, t).allowed).toBe(false);
        expect(isSafeToTake(l, takerStartsReal + k, t)).toBe(true);
        expect(isSafeToTake(l, takerStartsReal - 1 + k, t)).toBe(false);
        expect(takerStartsReal - holderStopsReal).toBeGreaterThanOrEqual(s.margin);
      }),
      { numRuns: 2_000 },
    );
  });
});
