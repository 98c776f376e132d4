import { type Lease, type LeaseTiming, safeToTakeAt } from './lease.js';

/**
 * The fence plan: what the fence step does, given the lease it read. A failover (or failback) keyed at epoch e
 * revokes the lease at e (epoch e + 1, no holder) and then waits until the old lease is over on any clock
 * (expiresAt + maxSkew). A retried fence, or the fence of an execution that took the incident over, finds its
 * own earlier work instead (e + 1 revoked, or e + 2 granted to the target) and carries on from there. Any other
 * lease means someone else moved it: the fence stops. Pure.
 */
export interface FenceSnapshot {
  /** A fresh read of the lease; null when no lease was ever granted. */
  lease: Pick<Lease, 'epoch' | 'holder' | 'expiresAt'> | null;
  /** The epoch the incident is keyed at: the lease epoch it found before the fence. */
  epoch: number;
  from: string;
  to: string;
}

/** Where the fence leaves the lease, and the instant the Wait state waits for. */
export interface Fenced {
  /** The revoked epoch the grant builds on; null when there was no lease to revoke. */
  fencedEpoch: number | null;
  previousHolder: string | null;
  expiresAt: number;
  /** No grant may come before it: the old lease's expiry plus the clock-skew margin, on the taker's clock. */
  safeToTakeAt: number;
}

export type FenceCode = FencePlan['code'];

export type FencePlan =
  | { code: 'REVOKE'; reason: string; epoch: number; previousHolder: string | null }
  | ({ code: 'ALREADY_REVOKED' | 'ALREADY_GRANTED' | 'NO_LEASE'; reason: string } & Fenced)
  | { code: 'LEASE_LOST'; reason: string };

export function planFence(s: FenceSnapshot, t: LeaseTiming, now: number): FencePlan {
  const { lease, epoch, from, to } = s;
  if (!lease) {
    return {
      code: 'NO_LEASE',
      reason: 'no lease exists: nothing to revoke and nothing to wait out',
      fencedEpoch: null,
      previousHolder: null,
      expiresAt: now,
      safeToTakeAt: now,
    };
  }
  if (lease.epoch === epoch) {
    if (lease.holder !== null && lease.holder !== from) {
      return {
        code: 'LEASE_LOST',
        reason: `lease epoch ${lease.epoch} is held by ${lease.holder}, not by ${from}`,
      };
    }
    return {
      code: 'REVOKE',
      reason: `${lease.holder ?? 'nobody'} holds the lease at epoch ${epoch}: revoke it and wait out its expiry plus ${t.maxSkewMs} ms of clock skew`,
      epoch,
      previousHolder: lease.holder,
    };
  }
  if (lease.epoch === epoch + 1 && lease.holder === null) {
    // Revoked by an earlier attempt whose answer was lost, or by the execution this one took the incident over
    // from; the old lease is waited out all the same: nothing says the earlier attempt's wait ever ran.
    return {
      code: 'ALREADY_REVOKED',
      reason: `the lease is revoked at epoch ${lease.epoch} already; wait out its expiry plus ${t.maxSkewMs} ms of clock skew`,
      fencedEpoch: lease.epoch,
      previousHolder: from,
      expiresAt: lease.expiresAt,
      safeToTakeAt: safeToTakeAt(lease, t),
    };
  }
  if (lease.epoch === epoch + 2 && lease.holder === to) {
    // Only the incident keyed at e can grant e + 2 (a revoked lease cannot be acquired): the fence and its wait
    // are behind us.
    return {
      code: 'ALREADY_GRANTED',
      reason: `${to} holds the lease at epoch ${lease.epoch} already: the fence and its wait are behind us`,
      fencedEpoch: epoch + 1,
      previousHolder: from,
      expiresAt: now,
      safeToTakeAt: now,
    };
  }
  return {
    code: 'LEASE_LOST',
    reason: `the lease moved: expected epoch ${epoch}, found epoch ${lease.epoch} held by ${lease.holder ?? 'nobody'}`,
  };
}

/** The fence once the revoke landed: the lease the revoke answered with is the one to wait out. */
export function revoked(
  plan: Extract<FencePlan, { code: 'REVOKE' }>,
  lease: Pick<Lease, 'epoch' | 'expiresAt'>,
  t: LeaseTiming,
): Fenced {
  return {
    fencedEpoch: lease.epoch,
    previousHolder: plan.previousHolder,
    expiresAt: lease.expiresAt,
    safeToTakeAt: safeToTakeAt(lease, t),
  };
}
