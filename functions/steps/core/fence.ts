import { setTimeout as sleep } from 'node:timers/promises';
import { LeaseLostError } from '#core/failover-errors.js';
import type { FenceActionResult } from '#core/failover-ports.js';
import { type Fenced, type FencePlan, planFence, revoked } from '#core/fence.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import { type IncidentState, parseIncidentState, type TaskEvent } from './state.js';
import { withTimeout } from './timeout.js';

/** Step Functions waits to whole seconds and truncates milliseconds (Wait state reference): round up. */
export function waitTimestamp(atMs: number): string {
  return new Date(Math.ceil(atMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const OUTCOME = {
  REVOKE: 'revoked',
  ALREADY_REVOKED: 'already-revoked',
  ALREADY_GRANTED: 'already-granted',
  NO_LEASE: 'no-lease',
} as const;

/**
 * The rest of the fence's wait as whole seconds for the Wait state's SecondsPath, and the part of a second to
 * wait in the step first. A Wait of N Seconds lasts N seconds "from when the state begins" (Wait state
 * reference), which is after the step returned: the old lease is over when the Wait ends, never before. A
 * Timestamp is truncated to the second instead, so waiting until expiresAt + maxSkew that way had to round up
 * and added 0-1 s to every fence that waited.
 */
export function splitWait(remainingMs: number): { sleepMs: number; waitSeconds: number } {
  if (remainingMs <= 0) return { sleepMs: 0, waitSeconds: 0 };
  const waitSeconds = Math.floor(remainingMs / 1000);
  return { sleepMs: Math.ceil(remainingMs - waitSeconds * 1000), waitSeconds };
}

/**
 * The fence: revoke the lease (epoch + 1, no holder), so the old primary's renewals and guarded writes stop,
 * then wait out the part of a second and hand the Wait state the whole seconds left until the old lease is
 * over on any clock (expiresAt + maxSkew).
 */
export async function fence(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(deps, owned(ev, s), 'fence', async () => {
    const lease = await deps.leases.read(s.application);
    const plan = planFence(
      { lease, epoch: s.epoch, from: s.from, to: s.to },
      deps.config.lease,
      deps.clock.now(),
    );
    if (plan.code === 'LEASE_LOST') throw new LeaseLostError(plan.reason);
    const fenced = plan.code === 'REVOKE' ? await revoke(s, plan, deps) : plan;
    const actions = await fenceActions(s, deps);
    const { sleepMs, waitSeconds } = splitWait(fenced.safeToTakeAt - deps.clock.now());
    if (sleepMs > 0) await sleep(sleepMs);
    return {
      outcome: OUTCOME[plan.code],
      decision: plan,
      quietUntil: fenced.safeToTakeAt,
      result: {
        fencedEpoch: fenced.fencedEpoch,
        previousHolder: fenced.previousHolder,
        expiresAt: fenced.expiresAt,
        safeToTakeAt: fenced.safeToTakeAt,
        waitUntil: waitTimestamp(fenced.safeToTakeAt),
        waitSeconds,
        // False when what was left was under a second, waited out above: the machine skips its Wait (OldLeaseOver).
        waitNeeded: waitSeconds > 0,
        actions,
      },
    };
  });
}

/** The conditional write of the plan: a lease that moved since the read stops the fence, never fixed up. */
async function revoke(
  s: IncidentState,
  plan: Extract<FencePlan, { code: 'REVOKE' }>,
  deps: StepDeps,
): Promise<Fenced> {
  const res = await deps.leases.revoke(s.application, plan.epoch);
  if (!res.ok) {
    throw new LeaseLostError(
      `could not revoke the lease at epoch ${plan.epoch}: ${res.code}, now epoch ${res.current?.epoch} held by ${res.current?.holder}`,
    );
  }
  return revoked(plan, res.lease, deps.config.lease);
}

/** Active fence actions call into the old region, which may be down: bounded, and never a reason to stop. */
async function fenceActions(s: IncidentState, deps: StepDeps): Promise<FenceActionResult[]> {
  if (s.kind !== 'failover' || !deps.fenceActions) return [];
  const calls = deps.fenceActions
    .fence(s.from)
    .catch((e: Error): FenceActionResult[] => [{ target: 'fence', ok: false, detail: e.message }]);
  return withTimeout(calls, deps.fenceActionTimeoutMs ?? 10_000, [
    { target: s.from, ok: false, detail: 'fence actions timed out' },
  ]);
}
