import { approvalHeartbeatSeconds } from '#core/approval-timeout.js';
import { claimOutcome } from '#core/claim.js';
import type { CutoverConfig } from '#core/config.js';
import { ValidationError } from '#core/errors.js';
import { StepInputError } from '#core/failover-errors.js';
import type { Incident } from '#core/incident.js';
import type { StepDeps } from './deps.js';
import { recorded, trailOf } from './record.js';
import { type FailoverInput, parseFailoverInput, type TaskEvent } from './state.js';

/** Step Functions' settings for the approval task, derived from the configuration. */
export function approvalSettings(config: CutoverConfig) {
  const timeoutSeconds = config.approval.timeoutSeconds;
  return {
    approvalTimeoutSeconds: timeoutSeconds,
    approvalHeartbeatSeconds: approvalHeartbeatSeconds(timeoutSeconds),
  };
}

/** The fields of a failover input that must equal the stored incident's; each difference names its field. */
export function inputMismatch(input: FailoverInput, stored: Incident): { field: string; message: string }[] {
  const pairs: [string, unknown, unknown][] = [
    ['application', input.application, stored.application],
    ['kind', input.kind, stored.kind],
    ['epoch', input.epoch, stored.epoch],
    ['attempt', input.attempt, stored.attempt],
    ['from', input.from, stored.from],
    ['to', input.to, stored.to],
    ['needsApproval', input.needsApproval, stored.needsApproval],
    ['verdictKind', input.verdictKind, stored.verdictKind],
  ];
  return pairs
    .filter(([, a, b]) => a !== b)
    .map(([field, a, b]) => ({
      field,
      message: `is ${JSON.stringify(a)} but the incident says ${JSON.stringify(b)}`,
    }));
}

/** Claim: requested → running, bound to this execution. A second execution for the incident ends here (I4). */
export async function claimIncident(ev: TaskEvent, deps: StepDeps) {
  const input = parseFailoverInput(ev.state);
  const executionArn = ev.executionArn;
  if (!executionArn) throw new StepInputError('claim needs the execution ARN ($$.Execution.Id)');
  return recorded(deps, trailOf(input), 'claim', async () => {
    const now = deps.clock.now();
    // The stored incident is the truth: an input typed into the console that disagrees with it (to skip the
    // approval or the re-check, or to aim at another region) is refused before anything changes.
    const stored = await deps.control.getIncident(input.incidentId);
    if (stored) {
      const issues = inputMismatch(input, stored);
      if (issues.length)
        throw new ValidationError(`the input does not match incident ${input.incidentId}`, issues);
    }
    const res = await deps.control.claimIncident(input.incidentId, executionArn, now);
    const settings = approvalSettings(deps.config);
    // An approval wait is no stall: the other control regions must not take the incident over during it.
    const quietUntil = input.needsApproval ? now + settings.approvalTimeoutSeconds * 1000 : undefined;
    if (res.claimed && quietUntil !== undefined) {
      await deps.control.recordProgress(input.incidentId, executionArn, {
        at: now,
        step: 'claim',
        quietUntil,
      });
    }
    const d = claimOutcome(res, executionArn);
    return {
      outcome: d.claimed ? 'claimed' : 'duplicate',
      decision: d,
      result: { claimed: d.claimed, executionArn, reason: d.reason, settings },
    };
  });
}
