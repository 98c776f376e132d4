import type { PauseRecord } from './ports.js';
import { freshUnhealthyQuorum } from './recheck.js';

export type TimeoutPolicy = 'abort' | 'proceed';

/**
 * The approval task's HeartbeatSeconds. It must be below TimeoutSeconds (Task state reference); nothing heartbeats
 * while a person decides, so it sits just under the timeout and ends the wait.
 */
export function approvalHeartbeatSeconds(timeoutSeconds: number): number {
  return Math.max(1, timeoutSeconds - 1);
}

/**
 * How long before the task's wait ends an approval stops taking answers: time to deliver the last one (half the
 * wait when the wait is under two seconds, as only tests configure).
 */
export const APPROVAL_DELIVERY_MARGIN_MS = 1_000;

/**
 * When an approval stops taking answers: before its task's heartbeat ends the execution's wait, by the delivery
 * margin. An answer accepted later than the wait would be recorded as decided and never reach the execution, which
 * then takes its timeout path (for an ambiguous failover, "proceed") against what the person said. `now` is when
 * the approval is created, after the task state began, so the wait ends no earlier than this plus the margin.
 */
export function approvalExpiresAt(now: number, timeoutSeconds: number): number {
  const waitMs = approvalHeartbeatSeconds(timeoutSeconds) * 1_000;
  return now + waitMs - Math.min(APPROVAL_DELIVERY_MARGIN_MS, waitMs / 2);
}

/**
 * What an unanswered approval leads to by policy. Only an ambiguous failover may proceed by policy; accepting
 * data loss or moving back to the original region always needs a person, so those abort; and a failed
 * afterTraffic hook continues only when a person says so (its timeout is "fail", decided by the hook step).
 */
export function approvalTimeoutAction(
  machine: string,
  approval: string,
  configured: TimeoutPolicy,
): TimeoutPolicy {
  return machine === 'failback' || approval === 'data-loss' || approval === 'hook' ? 'abort' : configured;
}

export interface ApprovalTimeoutSnapshot {
  /** The machine that asked: failover or failback. */
  machine: string;
  /** What the approval was for: failover, data-loss or failback. */
  approval: string;
  policy: TimeoutPolicy;
  timeoutSeconds: number;
  from: string;
  quorum: number;
  /**
   * Read only when the policy would proceed: proceeding without a person is an automatic failover, and needs
   * what any automatic failover needs (I3). Null when it was not read.
   */
  evidence: {
    pause: Pick<PauseRecord, 'pausedBy' | 'reason'> | null;
    sustainedUnhealthy: number;
    /** The end of the last completed failover or failback: proceeding inside the cool-down needs a person. */
    cooldown?: { lastMoveAt: number | null; cooldownMs: number; now: number };
  } | null;
}

export type ApprovalTimeout =
  | { action: 'proceed'; code: 'POLICY_PROCEED'; reason: string }
  | {
      action: 'abort';
      code:
        | 'POLICY_ABORT'
        | 'NEEDS_A_PERSON'
        | 'PAUSED'
        | 'INSIDE_COOLDOWN'
        | 'NO_FRESH_QUORUM'
        | 'NOT_CHECKED';
      reason: string;
    };

/** After an approval timed out: the configured policy decides, and the automatic-failover rules still hold. Pure. */
export function approvalTimeout(s: ApprovalTimeoutSnapshot): ApprovalTimeout {
  const configured = approvalTimeoutAction(s.machine, s.approval, s.policy);
  const said = (why: string) =>
    `nobody answered the ${s.approval} approval within ${s.timeoutSeconds} s; ${why}`;
  if (configured === 'abort') {
    const code = s.policy === 'proceed' ? 'NEEDS_A_PERSON' : 'POLICY_ABORT';
    return { action: 'abort', code, reason: said('the timeout policy is abort') };
  }
  const e = s.evidence;
  if (!e) {
    return {
      action: 'abort',
      code: 'NOT_CHECKED',
      reason: said('the timeout policy is proceed, but the pause flag and the votes were not read'),
    };
  }
  if (e.pause) {
    return {
      action: 'abort',
      code: 'PAUSED',
      reason: said(
        `the timeout policy is proceed, but automatic failover is paused by ${e.pause.pausedBy} (${e.pause.reason})`,
      ),
    };
  }
  const c = e.cooldown;
  if (!c || (c.lastMoveAt !== null && c.now - c.lastMoveAt < c.cooldownMs)) {
    return {
      action: 'abort',
      code: 'INSIDE_COOLDOWN',
      reason: said(
        c
          ? `the timeout policy is proceed, but the last failover or failback ended ${c.now - (c.lastMoveAt ?? 0)} ms ago, inside the cool-down of ${c.cooldownMs} ms`
          : 'the timeout policy is proceed, but the cool-down was not read',
      ),
    };
  }
  // The same rule as the re-check after a long approval wait (recheck.ts), which runs next on this path too.
  const fresh = freshUnhealthyQuorum(e.sustainedUnhealthy, s.quorum, s.from);
  if (!fresh.met) {
    return {
      action: 'abort',
      code: fresh.code,
      reason: said(`the timeout policy is proceed, but ${fresh.reason}`),
    };
  }
  return { action: 'proceed', code: 'POLICY_PROCEED', reason: said('the timeout policy is proceed') };
}
