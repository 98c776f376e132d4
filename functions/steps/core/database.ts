import { planPromote } from '#core/promote.js';
import { rpo, withinBudget } from '#core/rpo.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import {
  MAX_ATTEMPTS,
  newPoll,
  POLL_SECONDS,
  type Poll,
  parseIncidentState,
  requireStep,
  stepResult,
  type TaskEvent,
} from './state.js';

/**
 * RPO guard, after the fence: reads the lag (and, when it is not within budget, whether the target was promoted
 * already), and lets core/rpo.ts decide: promote, read again, or the configured policy.
 */
export async function rpoGuard(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = stepResult<{ attempt?: number }>(ev.state, 'rpo');
  const attempt = (prev?.attempt ?? 0) + 1;
  return recorded(deps, owned(ev, s), 'rpo-guard', async () => {
    const lagMs = await deps.lag.lagMs(s.to);
    const budgetMs = deps.config.rpoBudgetMs;
    const database = withinBudget(lagMs, budgetMs) ? null : await deps.database.status(s.to);
    const d = rpo({
      lagMs,
      budgetMs,
      attempt,
      maxAttempts: MAX_ATTEMPTS.rpo,
      policy: deps.config.approval.ambiguousPolicy,
      to: s.to,
      database,
    });
    return {
      outcome: d.code === 'ALREADY_PROMOTED' ? 'already-promoted' : d.action,
      decision: d,
      audit: d.action !== 'wait',
      ...(d.action === 'ask'
        ? { quietUntil: deps.clock.now() + deps.config.approval.timeoutSeconds * 1000 }
        : {}),
      result: { lagMs, budgetMs, attempt, maxAttempts: MAX_ATTEMPTS.rpo, action: d.action, reason: d.reason },
    };
  });
}

/** Promote the database of the target region: unplanned for a failover, planned (no data loss) for a failback. */
export async function promote(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const maxAttempts = Math.ceil((deps.config.database?.promoteTimeoutSeconds ?? 900) / POLL_SECONDS.promote);
  return recorded(deps, owned(ev, s), 'promote', async () => {
    const before = await deps.database.status(s.to);
    const plan = planPromote({ kind: s.kind, to: s.to, database: before });
    if (plan.code === 'ALREADY_WRITABLE') {
      return {
        outcome: 'already-writable',
        decision: plan,
        result: {
          mode: plan.mode,
          detail: before.detail,
          poll: { ...newPoll(maxAttempts, true), detail: before.detail },
        },
      };
    }
    const res = await deps.database.promote(s.to, plan.mode);
    return {
      outcome: 'submitted',
      decision: plan,
      result: { mode: plan.mode, detail: res.detail, poll: newPoll(maxAttempts) },
    };
  });
}

export async function promoteStatus(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = requireStep<{ poll: Poll }>(ev.state, 'promote');
  return recorded(deps, owned(ev, s), 'promote-status', async () => {
    const attempt = prev.poll.attempt + 1;
    const st = await deps.database.status(s.to);
    return {
      outcome: st.writable ? 'writable' : 'not-writable',
      audit: st.writable || attempt >= prev.poll.maxAttempts,
      result: { attempt, maxAttempts: prev.poll.maxAttempts, done: st.writable, detail: st.detail },
    };
  });
}
