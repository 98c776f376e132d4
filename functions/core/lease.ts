import type { CutoverConfig } from './config.js';

/**
 * The single-primary fence. The item lives on the control table (MRSC or a single-region arbiter table,
 * never MREC). `expiresAt` is a plain attribute in epoch ms on the writer's clock; MRSC has no TTL.
 * `holder` is absent after a revoke: the lease is fenced until `expiresAt + maxSkew`.
 */
export interface Lease {
  application: string;
  holder: string | null;
  epoch: number;
  expiresAt: number;
  updatedAt: number;
}

export type LeaseTiming = Pick<
  CutoverConfig['lease'],
  'ttlMs' | 'renewIntervalMs' | 'maxSkewMs' | 'safetyMarginMs'
>;

export type GuardReason = 'HOLDER' | 'NO_LEASE' | 'NOT_HOLDER' | 'FENCED' | 'EXPIRED' | 'STALE_CACHE';

export type GuardDecision =
  | { allowed: true; epoch: number; code: 'HOLDER'; reason: string; validUntil: number }
  | { allowed: false; epoch: number | null; code: Exclude<GuardReason, 'HOLDER'>; reason: string };

/**
 * The last instant, on the holder's clock, at which it may still accept a write. It stops maxSkew + margin
 * before expiry, and a taker waits until expiry + maxSkew on its own clock, so with clocks at most maxSkew
 * apart the two windows are separated by at least maxSkew + margin of real time.
 */
export function holderDeadline(lease: Pick<Lease, 'expiresAt'>, t: LeaseTiming): number {
  return lease.expiresAt - t.maxSkewMs - t.safetyMarginMs;
}

/** The first instant, on a taker's clock, at which a lease that was not renewed may be taken over. */
export function safeToTakeAt(lease: Pick<Lease, 'expiresAt'>, t: LeaseTiming): number {
  return lease.expiresAt + t.maxSkewMs;
}

export function isSafeToTake(lease: Lease | null, now: number, t: LeaseTiming): boolean {
  return lease === null || now >= safeToTakeAt(lease, t);
}

export function newExpiry(now: number, t: LeaseTiming): number {
  return now + t.ttlMs;
}

export function nextRenewalAt(renewedAt: number, t: LeaseTiming): number {
  return renewedAt + t.renewIntervalMs;
}

/** May `region` accept a write at `now` (its own clock) under this lease? The epoch is the fencing token. */
export function mayWrite(lease: Lease | null, region: string, now: number, t: LeaseTiming): GuardDecision {
  if (!lease)
    return { allowed: false, epoch: null, code: 'NO_LEASE', reason: 'no lease has ever been granted' };
  if (lease.holder === null) {
    return {
      allowed: false,
      epoch: lease.epoch,
      code: 'FENCED',
      reason: `lease revoked at epoch ${lease.epoch}: writes are fenced`,
    };
  }
  if (lease.holder !== region) {
    return {
      allowed: false,
      epoch: lease.epoch,
      code: 'NOT_HOLDER',
      reason: `${lease.holder} holds the lease at epoch ${lease.epoch}, not ${region}`,
    };
  }
  const deadline = holderDeadline(lease, t);
  if (now >= deadline) {
    return {
      allowed: false,
      epoch: lease.epoch,
      code: 'EXPIRED',
      reason: `lease epoch ${lease.epoch} ran out for writes at ${deadline} (expiry ${lease.expiresAt} − skew − margin); now ${now}`,
    };
  }
  return {
    allowed: true,
    epoch: lease.epoch,
    code: 'HOLDER',
    reason: `${region} holds the lease at epoch ${lease.epoch} until ${deadline}`,
    validUntil: deadline,
  };
}
