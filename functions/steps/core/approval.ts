import { approvalDecisionSchema, approvalPayloadSchema } from '#core/approval-payload.js';
import { approvalTimeout, approvalTimeoutAction } from '#core/approval-timeout.js';
import { decide } from '#core/decide.js';
import { ApprovalRejectedError, StepInputError } from '#core/failover-errors.js';
import type { ApprovalDecision } from '#core/failover-ports.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import { type IncidentState, parseIncidentState, stepResult, type TaskEvent } from './state.js';

/**
 * The local stand-in for the whole `.waitForTaskToken` round trip: aws-local-stepfunctions runs the task's
 * local handler with the evaluated Parameters ({FunctionName, Payload}) and awaits it, so awaiting the
 * ApprovalChannel here is the callback. The task's TimeoutSeconds still applies (the library races the
 * handler against it and raises States.Timeout); HeartbeatSeconds is ignored by the library.
 */
export async function localApproval(input: unknown, deps: StepDeps): Promise<ApprovalDecision> {
  if (!deps.approval)
    throw new StepInputError('no ApprovalChannel bound: the approval task cannot run locally');
  const raw = (input as { Payload?: unknown } | null)?.Payload ?? input;
  const parsed = approvalPayloadSchema.safeParse(raw);
  if (!parsed.success) throw new StepInputError(`bad approval payload: ${parsed.error.message}`);
  const { taskToken: _token, ...request } = parsed.data;
  const decision = approvalDecisionSchema.parse(await deps.approval.requestApproval(request));
  await deps.control.appendAudit(request.application, request.incidentId, {
    at: deps.clock.now(),
    step: `approval-${request.kind}`,
    outcome: decision.approved ? 'approved' : 'rejected',
    detail: { ...decision },
  });
  if (!decision.approved) {
    throw new ApprovalRejectedError(
      `${decision.by} rejected the ${request.kind} approval: ${decision.reason}`,
    );
  }
  return decision;
}

/** After an approval timed out: read what proceeding would need, if the policy may proceed, then decide. */
export async function approvalTimedOut(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const kind = stepResult<{ kind?: string }>(ev.state, 'approvalTimeout')?.kind ?? 'failover';
  const policy = deps.approvalTimeoutPolicy ?? deps.config.approval.timeoutPolicy;
  return recorded(deps, owned(ev, s), 'approval-timeout', async () => {
    const evidence =
      approvalTimeoutAction(s.kind, kind, policy) === 'proceed' ? await proceedEvidence(s, deps) : null;
    const d = approvalTimeout({
      machine: s.kind,
      approval: kind,
      policy,
      timeoutSeconds: deps.config.approval.timeoutSeconds,
      from: s.from,
      quorum: deps.config.quorum,
      evidence,
    });
    return { outcome: d.action, decision: d, result: { action: d.action, kind, reason: d.reason } };
  });
}

/**
 * What proceeding without a person needs to see, as any automatic failover: no pause, no cool-down, a sustained
 * quorum (I3).
 */
async function proceedEvidence(s: IncidentState, deps: StepDeps) {
  const now = deps.clock.now();
  const [pause, votes, last] = await Promise.all([
    deps.control.getPause(s.application),
    deps.votes.list(s.application, s.from),
    deps.control.lastCompletedFailover(s.application),
  ]);
  const verdict = decide(votes, deps.config, now, { primary: s.from, standby: s.to });
  return {
    pause,
    sustainedUnhealthy: verdict.evidence.sustainedUnhealthy.length,
    cooldown: { lastMoveAt: last?.closedAt ?? null, cooldownMs: deps.config.cooldownMs, now },
  };
}
