import { StepInputError } from '#core/failover-errors.js';
import {
  askEvidence,
  HOOK_PHASES,
  HOOK_POLL_SECONDS,
  type Hook,
  type HookAnswer,
  HookError,
  type HookPhase,
  type HookProgress,
  hookRegion,
  judgeInvocation,
  judgeReading,
  type PhaseOutcome,
  phaseOutcome,
  planStart,
} from '#core/hooks.js';
import { approvalSettings } from './claim.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import {
  causeMessage,
  type IncidentState,
  parseIncidentState,
  type StepRecord,
  stepResult,
  type TaskEvent,
} from './state.js';

/** Where each phase keeps its result in the execution state (ResultPath without `$.`). */
export const HOOK_RESULT_KEYS: Record<HookPhase, string> = {
  beforePromote: 'hooksBeforePromote',
  afterTraffic: 'hooksAfterTraffic',
};
/** The audit step name of each phase. */
export const HOOK_AUDIT_NAMES: Record<HookPhase, string> = {
  beforePromote: 'hooks-before-promote',
  afterTraffic: 'hooks-after-traffic',
};

/**
 * Where the answer of the afterTraffic hook approval lands (the approval task's ResultPath, for its result and its
 * caught rejection or timeout alike); the next reading of the phase turns it into continue or fail.
 */
export const HOOK_APPROVAL_KEY = 'hookApproval';

/** What the approval task needs when a failed afterTraffic `ask` hook asks a person (action `ask`). */
export interface HookAsk extends Record<string, unknown> {
  reason: string;
  evidence: Record<string, string>;
  /** The approval task's TimeoutSecondsPath and HeartbeatSecondsPath, as the other approvals have them. */
  approvalTimeoutSeconds: number;
  approvalHeartbeatSeconds: number;
}

/**
 * How long one read or scaling call may take. The region may be down (a `source` hook after an outage): an SDK
 * call that hangs must not hold the step until its Task times out; a silent call is a reading of "no answer".
 */
export const HOOK_CALL_TIMEOUT_MS = 8_000;

export interface HookPhaseResult extends Record<string, unknown> {
  phase: HookPhase;
  action: PhaseOutcome['action'];
  code: PhaseOutcome['code'];
  reason: string;
  continued: string[];
  hooks: HookProgress[];
  /** When the phase's first step started: the phase's timing runs from here. */
  phaseStartedAt: number;
  waitSeconds: number;
  /** Present when action is `ask`: what the approval task posts. */
  ask?: HookAsk;
  /** What the person answered (or that nobody did), once the phase has read it. */
  answer?: HookAnswer;
}

export type HookEvent = TaskEvent & { phase?: unknown };

/**
 * One reading of a phase's hooks (the hook loop of both machines): starts the hooks not yet started, reads the
 * others, and lets core/hooks.ts judge each and decide the phase. The hooks of a phase run together. A retried
 * step finds each hook's progress in the state, or finds the target already set, and never scales twice.
 */
export async function runHooks(ev: HookEvent, deps: StepDeps) {
  const phase = HOOK_PHASES.find((p) => p === ev.phase);
  if (!phase)
    throw new StepInputError(
      `hook step needs phase "beforePromote" or "afterTraffic", got ${String(ev.phase)}`,
    );
  const s = parseIncidentState(ev.state);
  const prev = stepResult<HookPhaseResult>(ev.state, HOOK_RESULT_KEYS[phase]);
  const hooks = deps.config.hooks?.[phase] ?? [];
  const trail = owned(ev, s);
  // With no hook configured the step acts on nothing: no ownership write and no audit entry, two round trips
  // fewer before the promotion (its timing stays in the run's state like every step's).
  const out = await recorded(deps, hooks.length > 0 ? trail : null, HOOK_AUDIT_NAMES[phase], async () => {
    // The approval task's answer counts only for the ask it answers: the reading before it asked.
    const answer =
      phase === 'afterTraffic' && prev?.action === 'ask'
        ? hookAnswer(ev.state[HOOK_APPROVAL_KEY], prev.ask?.approvalTimeoutSeconds)
        : undefined;
    const now = deps.clock.now();
    const phaseStartedAt = prev?.phaseStartedAt ?? now;
    if (hooks.length > 0 && !deps.hooks) {
      throw new StepInputError(`${phase} hooks are configured but this deployment has no hook actuator`);
    }
    const progress = await Promise.all(
      hooks.map((hook) =>
        advance(
          hook,
          prev?.hooks.find((p) => p.name === hook.name),
          phase,
          s,
          deps,
        ),
      ),
    );
    for (const [i, p] of progress.entries()) {
      const before = prev?.hooks.find((h) => h.name === p.name);
      if (before?.status === p.status && before.start === p.start) continue;
      await deps.control.appendAudit(trail.application, trail.incidentId, {
        at: p.endedAt ?? deps.clock.now(),
        step: `hook:${hooks[i]!.name}`,
        outcome: p.status === 'running' ? p.start : p.code,
        detail: { phase, ...p },
      });
    }
    const d = phaseOutcome(phase, progress, answer);
    const settings = approvalSettings(deps.config);
    const result: HookPhaseResult = {
      phase,
      action: d.action,
      code: d.code,
      reason: d.reason,
      continued: d.continued,
      hooks: progress,
      phaseStartedAt,
      waitSeconds: HOOK_POLL_SECONDS,
      ...(d.action === 'ask'
        ? { ask: { reason: d.reason, evidence: askEvidence(progress, s), ...settings } }
        : {}),
      ...(answer ? { answer } : {}),
    };
    return {
      outcome: OUTCOME[d.code] ?? (d.action === 'next' ? 'done' : d.action),
      audit: d.action !== 'wait',
      decision: d,
      result,
      // A person may take up to the approval timeout: no other control region should take this wait for a
      // dead execution (the approval task records no progress while it waits).
      ...(d.action === 'ask'
        ? { quietUntil: deps.clock.now() + settings.approvalTimeoutSeconds * 1000 }
        : {}),
    };
  });
  // The phase is one step of the run's timings, from its first reading to its last.
  const step: StepRecord = { ...out.step, startedAt: out.phaseStartedAt };
  return { ...out, step };
}

/** The step's outcome word (audit, timings) for the codes that need one of their own. */
const OUTCOME: Partial<Record<PhaseOutcome['code'], string>> = {
  NO_HOOKS: 'none',
  HOOKS_RUNNING: 'waiting',
  HOOK_FAILED_ASK: 'asking',
  HOOK_ASK_CONTINUED: 'continued',
};

/**
 * The approval task's answer as the ASL leaves it: the decision SendTaskSuccess returned, or the error its Catch
 * caught (ApprovalRejectedError from SendTaskFailure, States.Timeout / States.HeartbeatTimeout). Anything else is
 * refused, so the step fails and the run takes the failure path: an answer nobody can read is no "continue".
 */
export function hookAnswer(raw: unknown, timeoutSeconds: number | undefined): HookAnswer {
  const v = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if (v.approved === true && typeof v.by === 'string' && typeof v.at === 'number') {
    return { answer: 'continue', by: v.by, at: v.at, reason: String(v.reason ?? '') };
  }
  if (v.approved === false) {
    return {
      answer: 'fail',
      by: typeof v.by === 'string' ? v.by : null,
      reason: String(v.reason ?? 'rejected'),
    };
  }
  if (v.Error === 'ApprovalRejectedError') return { answer: 'fail', by: null, reason: causeMessage(v.Cause) };
  if ((v.Error === 'States.Timeout' || v.Error === 'States.HeartbeatTimeout') && timeoutSeconds) {
    return { answer: 'timed-out', timeoutSeconds };
  }
  throw new StepInputError(
    `the afterTraffic hook approval left no answer the hook step can read at $.${HOOK_APPROVAL_KEY}: ${JSON.stringify(raw ?? null).slice(0, 200)}`,
  );
}

async function advance(
  hook: Hook,
  prev: HookProgress | undefined,
  phase: HookPhase,
  s: IncidentState,
  deps: StepDeps,
): Promise<HookProgress> {
  if (prev && prev.status !== 'running') return prev;
  const actuator = deps.hooks!;
  const region = hookRegion(hook, s);
  const startedAt = prev?.startedAt ?? deps.clock.now();
  const base = {
    name: hook.name,
    kind: hook.kind,
    region,
    onFailure: hook.onFailure,
    startedAt,
    reads: (prev?.reads ?? 0) + 1,
  };
  const ended = (p: Omit<HookProgress, 'endedAt'>): HookProgress =>
    p.status === 'running' ? p : { ...p, endedAt: deps.clock.now() };

  if (hook.kind === 'lambda') {
    const event = {
      ...hook.payload,
      cutover: {
        application: s.application,
        incidentId: s.incidentId,
        kind: s.kind,
        phase,
        hook: hook.name,
        from: s.from,
        to: s.to,
        region,
        // A retried hook step may invoke again: the function dedupes on this.
        idempotencyKey: `${s.incidentId}#${phase}#${hook.name}`,
      },
    };
    const answer = await bounded(actuator.invoke(hook, region, event), hook.timeoutMs);
    return ended({ ...base, direction: 'none', start: 'INVOKE', ...judgeInvocation(hook, answer) });
  }

  // Not started yet (or the first call did not get through): read, plan, and set the target if needed.
  if (!prev || prev.start === 'PENDING') {
    const reading = await bounded(actuator.read(hook, region), HOOK_CALL_TIMEOUT_MS);
    if (reading instanceof Error) return ended(unstarted(hook, base, reading, deps));
    const plan = planStart(hook, phase, reading);
    if (plan.action === 'apply') {
      const applied = await bounded(actuator.apply(hook, region), HOOK_CALL_TIMEOUT_MS);
      if (applied instanceof Error) return ended(unstarted(hook, base, applied, deps));
      // Judged at the next reading, once the service has seen the new target.
      return {
        ...base,
        direction: plan.direction,
        start: plan.code,
        status: 'running',
        code: 'NOT_READY',
        reason: plan.reason,
      };
    }
    const direction = plan.direction === 'none' ? 'up' : plan.direction;
    const j = judgeReading(hook, { startedAt, direction }, reading, deps.clock.now());
    return ended({ ...base, direction, start: plan.code, ...j });
  }

  const reading = await bounded(actuator.read(hook, region), HOOK_CALL_TIMEOUT_MS);
  if (reading instanceof HookError) {
    return ended({
      ...prev,
      ...base,
      status: 'failed',
      code: 'FAILED',
      reason: `${hook.name}: ${reading.message}`,
    });
  }
  const j = judgeReading(hook, prev, reading, deps.clock.now());
  return ended({ ...prev, ...base, ...j });
}

/** A hook whose first read or scaling call failed: refused for good (HookError), else tried again until its timeout. */
function unstarted(
  hook: Hook,
  base: Omit<HookProgress, 'direction' | 'start' | 'status' | 'code' | 'reason'>,
  err: Error,
  deps: StepDeps,
): Omit<HookProgress, 'endedAt'> {
  if (err instanceof HookError) {
    return {
      ...base,
      direction: 'up',
      start: 'START_FAILED',
      status: 'failed',
      code: 'FAILED',
      reason: `${hook.name}: ${err.message}`,
    };
  }
  const j = judgeReading(hook, { startedAt: base.startedAt, direction: 'up' }, err, deps.clock.now());
  return { ...base, direction: 'up', start: j.status === 'failed' ? 'START_FAILED' : 'PENDING', ...j };
}

/** The call's answer, or its error, or an Error once `ms` have passed without one. */
async function bounded<T>(p: Promise<T>, ms: number): Promise<T | Error> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      silent,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What `Failover Completed` / `Failback Completed` say of a phase that had hooks. */
export interface HookPhaseReport {
  code: PhaseOutcome['code'];
  reason: string;
  continued: string[];
  /** Who answered continue for a failed `ask` hook, and when. */
  continuedBy?: { by: string; at: number };
}

/**
 * The hook phases of a completed run, as its event reports them: the phase's code and reason, the hooks that
 * failed and were continued (by policy, or by the person who answered continue). Null when the run had no hooks.
 */
export function hookReport(
  state: Record<string, unknown>,
): Partial<Record<HookPhase, HookPhaseReport>> | null {
  const out: Partial<Record<HookPhase, HookPhaseReport>> = {};
  for (const phase of HOOK_PHASES) {
    const r = stepResult<HookPhaseResult>(state, HOOK_RESULT_KEYS[phase]);
    if (!r || r.code === 'NO_HOOKS') continue;
    out[phase] = {
      code: r.code,
      reason: r.reason,
      continued: r.continued,
      ...(r.answer?.answer === 'continue' ? { continuedBy: { by: r.answer.by, at: r.answer.at } } : {}),
    };
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** The notification's sentence about hooks that failed and were continued; empty when none were. */
export function hookSentence(report: Partial<Record<HookPhase, HookPhaseReport>> | null): string {
  const parts = HOOK_PHASES.flatMap((phase) => {
    const r = report?.[phase];
    if (!r || r.continued.length === 0) return [];
    const who = r.continuedBy ? `, continued by ${r.continuedBy.by}` : ', onFailure continue';
    return [`${r.continued.join(', ')} (${phase}${who})`];
  });
  return parts.length > 0 ? `; hooks failed and continued: ${parts.join('; ')}` : '';
}
