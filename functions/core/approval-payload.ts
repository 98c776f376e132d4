import { z } from 'zod';

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
  kind: z.enum(['failover', 'data-loss', 'failback', 'hook']),
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
