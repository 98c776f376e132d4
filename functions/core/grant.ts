import type { Lease } from './lease.js';
import type { LeaseResult } from './ports.js';

/**
 * The outcome of granting the lease to the target after the fence (epoch fenced + 1). A grant whose answer was
 * lost, retried, finds the lease granted already: that is the same success. Too early on this clock is worth a
 * retry (the state machine retries LeaseNotSafeYetError); anything else means the lease moved. Pure.
 */
export interface GrantSnapshot {
  to: string;
  /** The revoked epoch the grant builds on; null when there was no lease to revoke (a new lease). */
  fencedEpoch: number | null;
  /** The answer of the conditional write. */
  result: LeaseResult;
  now: number;
}

export type GrantedLease = Pick<Lease, 'holder' | 'epoch' | 'expiresAt'>;

export type Grant =
  | { code: 'GRANTED' | 'ALREADY_GRANTED'; reason: string; lease: GrantedLease }
  | { code: 'NOT_SAFE_YET'; reason: string }
  | { code: 'LEASE_LOST'; reason: string };

export function grantOutcome(s: GrantSnapshot): Grant {
  const res = s.result;
  if (res.ok) {
    const { holder, epoch, expiresAt } = res.lease;
    return {
      code: 'GRANTED',
      reason: `granted the lease to ${holder} at epoch ${epoch}`,
      lease: { holder, epoch, expiresAt },
    };
  }
  const cur = res.current;
  const expected = (s.fencedEpoch ?? 0) + 1;
  if (cur && cur.holder === s.to && cur.epoch === expected) {
    return {
      code: 'ALREADY_GRANTED',
      reason: `${s.to} holds the lease at epoch ${expected} already (a retried grant)`,
      lease: { holder: cur.holder, epoch: cur.epoch, expiresAt: cur.expiresAt },
    };
  }
  if (res.code === 'NOT_SAFE_YET') {
    return {
      code: 'NOT_SAFE_YET',
      reason: `the revoked lease of epoch ${cur?.epoch} expires at ${cur?.expiresAt}; not safe on this clock at ${s.now}`,
    };
  }
  return {
    code: 'LEASE_LOST',
    reason: `could not grant the lease to ${s.to}: ${res.code}, lease at epoch ${cur?.epoch} held by ${cur?.holder ?? 'nobody'}`,
  };
}
