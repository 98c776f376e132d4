import { LeaseLostError, LeaseNotSafeYetError } from '#core/failover-errors.js';
import { grantOutcome } from '#core/grant.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import { parseIncidentState, requireStep, type TaskEvent } from './state.js';

/** Grant the lease to the new primary at the fenced epoch + 1; only possible once the old lease is over. */
export async function grantLease(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const f = requireStep<{ fencedEpoch: number | null }>(ev.state, 'fence');
  return recorded(deps, owned(ev, s), 'grant-lease', async () => {
    // With no lease before the fence there is no revoked epoch to build on: the target takes a new one.
    const result =
      f.fencedEpoch === null
        ? await deps.leases.acquire(s.application, s.to, null)
        : await deps.leases.grant(s.application, s.to, f.fencedEpoch);
    const d = grantOutcome({ to: s.to, fencedEpoch: f.fencedEpoch, result, now: deps.clock.now() });
    if (d.code === 'NOT_SAFE_YET') throw new LeaseNotSafeYetError(d.reason);
    if (d.code === 'LEASE_LOST') throw new LeaseLostError(d.reason);
    return { outcome: 'granted', decision: d, result: { ...d.lease } };
  });
}
