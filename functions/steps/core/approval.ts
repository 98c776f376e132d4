import { z } from 'zod';
import { ApprovalRejectedError, StepInputError } from '../../core/failover-errors.js';
import type { ApprovalDecision } from '../../core/failover-ports.js';
import type { StepDeps } from './deps.js';

/**
 * The payload the approval task hands to the approval function (`Parameters.Payload` of the
 * `lambda:invoke.waitForTaskToken` task). The function (issue 5) stores the token under a single-use approval
 * id, posts to Slack and returns at once; the execution waits until the callback calls SendTaskSuccess with an
 * ApprovalDecision as output, or SendTaskFailure with error "ApprovalRejectedError".
 */
export const approvalPayloadSchema = z.object({
  taskToken: z.string().min(1),
  incidentId: z.string().min(1),
  application: z.string().min(1),
  kind: z.enum(['failover', 'data-loss', 'failback']),
  from: z.string().min(1),
  to: z.string().min(1),
  reason: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  timeoutSeconds: z.number().int().positive(),
});
export type ApprovalPayload = z.output<typeof approvalPayloadSchema>;

export const approvalDecisionSchema = z.object({
  approved: z.boolean(),
  by: z.string().min(1),
  at: z.number().int().nonnegative(),
  reason: z.string(),
});

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
