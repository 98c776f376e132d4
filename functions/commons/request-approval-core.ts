import { approvalMessage } from '#core/approval-message.js';
import type { ApprovalPayload } from '#core/approval-payload.js';
import type { Approval, ApprovalStore, SlackChat, SlackMessage } from '#core/approval-ports.js';
import { approvalExpiresAt } from '#core/approval-timeout.js';
import type { Clock } from '#core/ports.js';

export interface RequestApprovalDeps {
  approvals: ApprovalStore;
  slack: SlackChat;
  clock: Clock;
  /** config.approval.slack */
  channel: string;
  approvers: string[];
  twoPerson: boolean;
  /** The region of the waiting execution (AWS_REGION of the request function, which it invokes). */
  taskRegion: string;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface ApprovalPosted {
  approval: Approval;
  message: SlackMessage;
}

/**
 * Stores the approval (the task token stays in the control table), then posts the message whose buttons carry
 * only the approval id, then remembers the message for chat.update. It returns at once: the execution waits for
 * the callback. The approval exists before the message does, so no click can arrive for an unknown id.
 */
export async function requestApproval(
  payload: ApprovalPayload,
  deps: RequestApprovalDeps,
): Promise<ApprovalPosted> {
  const { taskToken, ...request } = payload;
  const now = deps.clock.now();
  const approval = await deps.approvals.create({
    taskToken,
    taskRegion: deps.taskRegion,
    request,
    approvers: [...deps.approvers],
    twoPerson: deps.twoPerson,
    createdAt: now,
    expiresAt: approvalExpiresAt(now, request.timeoutSeconds),
  });
  const message = approvalMessage(approval);
  const ref = await deps.slack.post(deps.channel, message);
  await deps.approvals.attachMessage(approval.id, ref);
  deps.log?.(`asked for ${request.kind} approval in Slack`, {
    approvalId: approval.id,
    incidentId: request.incidentId,
    channel: ref.channel,
    ts: ref.ts,
    approvers: deps.approvers,
    twoPerson: deps.twoPerson,
  });
  return { approval: { ...approval, message: ref }, message };
}
