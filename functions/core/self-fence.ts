import type { GuardDecision, Lease } from './lease.js';

/**
 * Whether this region has fenced itself: its guard refuses writes although, as far as it knows, it still holds
 * the lease (a revoke clears the holder, and a grant names another region). That is a lease that ran out or could
 * not be re-read, never a failover's doing: nobody else will notice it, so it must page.
 */
export type SelfFenceCheck =
  | { code: 'WRITABLE'; publish: false; reason: string }
  | { code: 'SELF_FENCED'; publish: boolean; epoch: number; reason: string }
  | { code: 'NOT_HOLDER' | 'FENCED_BY_FAILOVER' | 'NOT_LOADED'; publish: false; reason: string };

export interface SelfFenceView {
  /** The write guard's decision now (or mayWrite on the lease the keeper knows). */
  decision: GuardDecision;
  /** The lease as the keeper last saw it: read, or returned by its own renewal. */
  known: Lease | null;
  region: string;
  /** This episode was already published: publish once until writes are allowed again. */
  reported: boolean;
}

export function checkSelfFence(v: SelfFenceView): SelfFenceCheck {
  const { decision, known, region } = v;
  if (decision.allowed) {
    return {
      code: 'WRITABLE',
      publish: false,
      reason: `${region} accepts writes at epoch ${decision.epoch}`,
    };
  }
  if (decision.code === 'FENCED' || known?.holder === null) {
    return {
      code: 'FENCED_BY_FAILOVER',
      publish: false,
      reason: `the lease was revoked at epoch ${known?.epoch ?? decision.epoch}: a failover fenced ${region}`,
    };
  }
  if (decision.code === 'NOT_HOLDER' || decision.code === 'NO_LEASE' || (known && known.holder !== region)) {
    return {
      code: 'NOT_HOLDER',
      publish: false,
      reason: `${region} does not hold the lease (${decision.code})`,
    };
  }
  if (!known) {
    return {
      code: 'NOT_LOADED',
      publish: false,
      reason: `the lease has not been read yet: ${decision.reason}`,
    };
  }
  return {
    code: 'SELF_FENCED',
    publish: !v.reported,
    epoch: known.epoch,
    reason: `${region} holds epoch ${known.epoch} but refuses writes (${decision.code}): ${decision.reason}; no failover revoked it`,
  };
}
