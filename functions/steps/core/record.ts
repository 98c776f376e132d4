import type { StepDeps } from './deps.js';
import type { StepRecord } from './state.js';

export interface StepOutcome<T extends Record<string, unknown>> {
  /** A short word for logs, audit and timings: claimed, duplicate, revoked, insync, pending, ... */
  outcome: string;
  result: T;
  /** Whether this attempt goes to the audit trail; polls record only their last attempt. */
  audit?: boolean;
}

/**
 * Runs one step: times it, appends its audit entry (I5) and returns the result with its record. A step that
 * throws gets an audit entry too (best effort: the error that matters is the step's), then the error goes on
 * to the state machine's Retry and Catch.
 */
export async function recorded<T extends Record<string, unknown>>(
  deps: StepDeps,
  trail: { application: string; incidentId: string } | null,
  name: string,
  body: () => Promise<StepOutcome<T>>,
): Promise<T & { step: StepRecord }> {
  const startedAt = deps.clock.now();
  let out: StepOutcome<T>;
  try {
    out = await body();
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
  deps.log?.('step done', { step: name, outcome: out.outcome, ms: endedAt - startedAt });
  if (trail && out.audit !== false) {
    await deps.control.appendAudit(trail.application, trail.incidentId, {
      at: endedAt,
      step: name,
      outcome: out.outcome,
      detail: { ...out.result, startedAt, durationMs: endedAt - startedAt },
    });
  }
  return { ...out.result, step };
}
