import type { WriteGuard } from '#core/guard.js';
import type { GuardDecision } from '#core/lease.js';

/** A write guard whose decision the test sets, standing in for the lease guard. */
export class FakeGuard implements WriteGuard {
  calls = 0;
  constructor(public decision: GuardDecision) {}

  check(): GuardDecision {
    this.calls += 1;
    return this.decision;
  }

  hold(epoch: number, validForMs = 60_000): void {
    this.decision = {
      allowed: true,
      epoch,
      code: 'HOLDER',
      reason: `test holds epoch ${epoch}`,
      validUntil: Date.now() + validForMs,
    };
  }

  fence(epoch: number): void {
    this.decision = {
      allowed: false,
      epoch,
      code: 'FENCED',
      reason: `lease revoked at epoch ${epoch}: writes are fenced`,
    };
  }
}

export function holding(epoch: number, validForMs = 60_000): FakeGuard {
  const guard = new FakeGuard({ allowed: false, epoch: null, code: 'NO_LEASE', reason: 'not set' });
  guard.hold(epoch, validForMs);
  return guard;
}
