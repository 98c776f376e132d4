import { type Eligibility, eligibility } from '#core/eligibility.js';
import { DatabaseError, TargetNotEligibleError } from '#core/failover-errors.js';
import type { DatabaseStatus, LagReading } from '#core/failover-ports.js';
import { planPromote } from '#core/promote.js';
import { rpo } from '#core/rpo.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import {
  type IncidentState,
  MAX_ATTEMPTS,
  newPoll,
  POLL_SECONDS,
  type Poll,
  parseIncidentState,
  requireStep,
  type StepRecord,
  stepResult,
  type TaskEvent,
} from './state.js';

/**
 * Reads what target eligibility needs (the rebuild mark, whether this incident submitted a promotion of the
 * target, and the database and lag the caller reads) and lets core/eligibility.ts decide. The caller's reading
 * may still be under way: the control table is read meanwhile, since every round trip before a promotion is
 * part of the RTO. A mark that the reading shows replicating again is cleared here, conditionally on it being
 * the mark that was read.
 */
export async function targetEligibility(
  s: Pick<IncidentState, 'application' | 'incidentId' | 'from' | 'to'>,
  deps: StepDeps,
  reading: TargetReading | Promise<TargetReading>,
): Promise<Eligibility> {
  const [mark, audit, read] = await Promise.all([
    deps.control.getRebuild(s.application, s.to),
    deps.control.listAudit(s.application, s.incidentId),
    reading,
  ]);
  const d = eligibility({
    to: s.to,
    primary: s.from,
    mark,
    database: read.database,
    lag: read.lag,
    promotedByThisIncident: audit.some((e) => e.step === 'promote' && e.outcome === 'submitted'),
  });
  if (d.eligible && d.clearMark && mark) await deps.control.clearRebuild(s.application, s.to, mark.since);
  return d;
}

/** The target's database and, for the RPO guard, its lag, as the step read them. */
export interface TargetReading {
  database: DatabaseStatus;
  lag: LagReading | null;
}

/** When the fence revoked the lease in this execution: the instant every lag reading must be newer than. */
export function fencedAt(state: Record<string, unknown>): number | null {
  return stepResult<{ step?: StepRecord }>(state, 'fence')?.step?.endedAt ?? null;
}

/**
 * The operator accepted the data loss when requesting this failover (`cutover failover --accept-data-loss`). Read
 * from the stored incident, never from the execution input, which anyone who may start an execution could type.
 */
export async function dataLossAccepted(
  s: Pick<IncidentState, 'incidentId' | 'kind'>,
  deps: StepDeps,
): Promise<boolean> {
  if (s.kind !== 'failover') return false;
  const evidence = (await deps.control.getIncident(s.incidentId))?.evidence as
    | { acceptDataLoss?: unknown }
    | undefined;
  return typeof evidence?.acceptDataLoss === 'object' && evidence.acceptDataLoss !== null;
}

/**
 * RPO guard, after the fence: reads the lag, the target's database and whether it may be promoted at all, and
 * lets core/rpo.ts decide: promote, read again, the configured policy, or ask a person about a data loss.
 */
export async function rpoGuard(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = stepResult<{ attempt?: number }>(ev.state, 'rpo');
  const attempt = (prev?.attempt ?? 0) + 1;
  return recorded(deps, owned(ev, s), 'rpo-guard', async () => {
    // The lag, the database and the control table's marks are independent reads: all at once.
    const reading = Promise.all([deps.lag.read(s.to), deps.database.status(s.to)]).then(
      ([lag, database]) => ({ lag, database }),
    );
    const target = await targetEligibility(s, deps, reading);
    const { lag } = await reading;
    const budgetMs = deps.config.rpoBudgetMs;
    const fenced = fencedAt(ev.state);
    const d = rpo({
      lag,
      fencedAt: fenced,
      budgetMs,
      attempt,
      maxAttempts: MAX_ATTEMPTS.rpo,
      policy: deps.config.approval.ambiguousPolicy,
      to: s.to,
      target,
      dataLossAccepted: !target.eligible && (await dataLossAccepted(s, deps)),
    });
    const lagMs = lag.lagMs;
    return {
      outcome:
        d.code === 'ALREADY_PROMOTED'
          ? 'already-promoted'
          : d.code === 'NO_DATABASE'
            ? 'no-database'
            : d.action,
      decision: d,
      audit: d.action !== 'wait',
      ...(d.action === 'ask'
        ? { quietUntil: deps.clock.now() + deps.config.approval.timeoutSeconds * 1000 }
        : {}),
      result: {
        lagMs,
        readAt: lag.at,
        fencedAt: fenced,
        budgetMs,
        attempt,
        maxAttempts: MAX_ATTEMPTS.rpo,
        action: d.action,
        code: d.code,
        target: target.code,
        reason: d.reason,
      },
    };
  });
}

/** Promote the database of the target region: unplanned for a failover, planned (no data loss) for a failback. */
export async function promote(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const maxAttempts = Math.ceil((deps.config.database?.promoteTimeoutSeconds ?? 900) / POLL_SECONDS.promote);
  return recorded(deps, owned(ev, s), 'promote', async () => {
    const reading = deps.database.status(s.to).then((database) => ({ database, lag: null }));
    const target = await targetEligibility(s, deps, reading);
    const before = (await reading).database;
    const plan = planPromote({
      kind: s.kind,
      to: s.to,
      database: before,
      target,
      dataLossApproved:
        !target.eligible &&
        (stepResult<{ approved?: boolean }>(ev.state, 'dataLossApproval')?.approved === true ||
          (await dataLossAccepted(s, deps))),
    });
    if (plan.code === 'NOT_ELIGIBLE') throw new TargetNotEligibleError(plan.reason);
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
    // From this promotion on, the database of `from` no longer holds the data of record: it must be rebuilt as a
    // replica before anything may promote it again. Marked first, so a promotion never happens unmarked.
    const since = deps.clock.now();
    await deps.control.markRebuild(s.application, {
      region: s.from,
      since,
      incidentId: s.incidentId,
      reason: `${s.kind} ${s.incidentId} promoted ${s.to} in its place`,
    });
    const res = await deps.database.promote(s.to, plan.mode).catch(async (err: unknown) => {
      // A refusal (DatabaseError) promoted nothing: `from` still holds the data of record. Any other error may
      // have promoted, and the mark stays. A mark set earlier (another `since`) is never cleared here.
      if (err instanceof DatabaseError) await deps.control.clearRebuild(s.application, s.from, since);
      throw err;
    });
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
  return recorded(
    deps,
    owned(ev, s),
    'promote-status',
    async () => {
      const attempt = prev.poll.attempt + 1;
      const st = await deps.database.status(s.to);
      return {
        outcome: st.writable ? 'writable' : 'not-writable',
        audit: st.writable || attempt >= prev.poll.maxAttempts,
        result: { attempt, maxAttempts: prev.poll.maxAttempts, done: st.writable, detail: st.detail },
      };
    },
    { readsOnly: true },
  );
}
