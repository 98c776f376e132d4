import { StepInputError } from '#core/failover-errors.js';
import type { StepDeps } from './deps.js';
import { type IncidentState, type StepRecord, stepResult, type TaskEvent } from './state.js';

export interface StepOutcome<T extends Record<string, unknown>> {
  /** A short word for logs, audit and timings: claimed, duplicate, revoked, insync, pending, ... */
  outcome: string;
  result: T;
  /** Whether this attempt goes to the audit trail; polls record only their last attempt. */
  audit?: boolean;
  /**
   * Until when the execution will wait after this step (the old lease, an approval). Recorded on the incident
   * so that no other control region mistakes the wait for a dead execution and takes the incident over.
   */
  quietUntil?: number;
  /** The pure decision the step acted on: its code and reason go to the log and the audit entry. */
  decision?: { code: string; reason: string };
}

/** Where a step's audit goes and, after the claim, which execution must still hold the incident. */
export interface Trail {
  application: string;
  incidentId: string;
  /** The execution ARN the claim bound to the incident; absent only for the claim itself. */
  owner?: string;
}

export const trailOf = (s: Pick<IncidentState, 'application' | 'incidentId'>): Trail => ({
  application: s.application,
  incidentId: s.incidentId,
});

/**
 * The execution that the claim bound to the incident, as the claim stored it in the state (`claim` for a
 * failover, `start` for a failback); undefined when this execution never claimed it.
 */
export function claimedBy(ev: TaskEvent): string | undefined {
  const claim =
    stepResult<{ claimed?: boolean; executionArn?: string }>(ev.state, 'claim') ??
    stepResult<{ claimed?: boolean; executionArn?: string }>(ev.state, 'start');
  if (claim?.claimed !== true) return undefined;
  return claim.executionArn ?? ev.executionArn;
}

/** The trail of a step after the claim: it runs only while the incident is still bound to this execution. */
export function owned(ev: TaskEvent, s: IncidentState): Trail {
  const owner = claimedBy(ev);
  if (!owner) throw new StepInputError(`execution state has no claim of incident ${s.incidentId}`);
  return { ...trailOf(s), owner };
}

/**
 * The incident is bound to another execution now (a control region took it over from this one): this
 * execution must stop without acting. The ASL retries none of its Tasks on it.
 */
export class ExecutionSupersededError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExecutionSupersededError';
  }
}

/**
 * Runs one step: checks that the incident is still this execution's, times it, appends its audit entry (I5)
 * and returns the result with its record. A step that throws gets an audit entry too (best effort: the error
 * that matters is the step's), then the error goes on to the state machine's Retry and Catch.
 *
 * The ownership check is a conditional write of the incident's progress (progressAt, progressStep), made
 * before the body: the same write that proves this execution alive to the other control regions fences it
 * off once one of them has taken the incident over (I4). A body that only reads (`readsOnly`: the re-check,
 * the promotion's status poll) runs alongside the check instead, one round trip sooner; it acts on nothing,
 * and what it read counts only once the check holds (a superseded execution stops exactly as before).
 */
export async function recorded<T extends Record<string, unknown>>(
  deps: StepDeps,
  trail: Trail | null,
  name: string,
  body: () => Promise<StepOutcome<T>>,
  opts: { readsOnly?: boolean } = {},
): Promise<T & { step: StepRecord }> {
  const startedAt = deps.clock.now();
  const early = opts.readsOnly ? body() : undefined;
  // Awaited below, after the ownership check; until then its failure must not count as unhandled.
  early?.catch(() => undefined);
  if (trail?.owner) await assertOwner(deps, trail, trail.owner, name, startedAt);
  let out: StepOutcome<T>;
  try {
    out = await (early ?? body());
  } catch (err) {
    const endedAt = deps.clock.now();
    const e = err as Error;
    deps.log?.('step failed', { step: name, error: e.name, message: e.message, ms: endedAt - startedAt });
    if (trail) {
      await deps.control
        .appendAudit(trail.application, trail.incidentId, {
          at: endedAt,
          step: name,
          outcome: 'error',
          detail: { error: e.name, message: e.message, startedAt },
        })
        .catch(() => undefined);
    }
    throw err;
  }
  const endedAt = deps.clock.now();
  const step: StepRecord = { name, startedAt, endedAt, outcome: out.outcome };
  const decision = out.decision ? { decision: { code: out.decision.code, reason: out.decision.reason } } : {};
  deps.log?.('step done', { step: name, outcome: out.outcome, ms: endedAt - startedAt, ...decision });
  if (trail && out.audit !== false) {
    await deps.control.appendAudit(trail.application, trail.incidentId, {
      at: endedAt,
      step: name,
      outcome: out.outcome,
      detail: { ...out.result, ...decision, startedAt, durationMs: endedAt - startedAt },
    });
  }
  if (trail?.owner && out.quietUntil !== undefined) {
    // Best effort: without it a takeover may come early, which fences this execution off but breaks nothing.
    await deps.control
      .recordProgress(trail.incidentId, trail.owner, { at: endedAt, step: name, quietUntil: out.quietUntil })
      .catch((err: Error) => deps.log?.('quiet period not recorded', { step: name, error: err.message }));
  }
  return { ...out.result, step };
}

async function assertOwner(deps: StepDeps, trail: Trail, owner: string, name: string, at: number) {
  const held = await deps.control.recordProgress(trail.incidentId, owner, { at, step: name });
  if (held.owned) return;
  deps.log?.('execution superseded', { step: name, executionArn: owner, reason: held.reason });
  await deps.control
    .appendAudit(trail.application, trail.incidentId, {
      at,
      step: name,
      outcome: 'superseded',
      detail: {
        executionArn: owner,
        boundTo: held.incident?.executionArn ?? null,
        status: held.incident?.status ?? null,
        reason: held.reason,
      },
    })
    .catch(() => undefined);
  throw new ExecutionSupersededError(
    `${name} not run: ${held.reason}; execution ${owner} no longer holds the incident`,
  );
}
