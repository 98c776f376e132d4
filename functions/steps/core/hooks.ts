import { StepInputError } from '#core/failover-errors.js';
import {
  HOOK_PHASES,
  HOOK_POLL_SECONDS,
  type Hook,
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
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import {
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
  const out = await recorded(deps, trail, HOOK_AUDIT_NAMES[phase], async () => {
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
    const d = phaseOutcome(phase, progress);
    const result: HookPhaseResult = {
      phase,
      action: d.action,
      code: d.code,
      reason: d.reason,
      continued: d.continued,
      hooks: progress,
      phaseStartedAt,
      waitSeconds: HOOK_POLL_SECONDS,
    };
    return {
      outcome:
        d.action === 'wait'
          ? 'waiting'
          : d.code === 'NO_HOOKS'
            ? 'none'
            : d.action === 'next'
              ? 'done'
              : 'abort',
      audit: d.action !== 'wait',
      decision: d,
      result,
    };
  });
  // The phase is one step of the run's timings, from its first reading to its last.
  const step: StepRecord = { ...out.step, startedAt: out.phaseStartedAt };
  return { ...out, step };
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
