import type { KnownBlock } from '@slack/web-api';
import type { ApprovalDecision, ApprovalRequest } from './failover-ports.js';

/**
 * The ports of the Slack approval (issue 5): where approvals live, how the waiting execution hears the answer,
 * and how messages reach Slack. The AWS adapters, the DynamoDB store and the drill's Slack stand-in implement them.
 */

export type ApprovalStatus = 'pending' | 'approved' | 'rejected';

/** What the request-approval function stores. The task token stays here: only the approval id goes to Slack. */
export interface NewApproval {
  taskToken: string;
  /**
   * Where the waiting execution runs: a task token is answered in its own region, and the callback may run in
   * another control region than the execution that won the incident.
   */
  taskRegion: string;
  request: ApprovalRequest;
  /** Slack user ids that may answer, copied from the configuration when the approval is created. */
  approvers: string[];
  /** Two distinct approvers must approve; one reject is enough to reject. */
  twoPerson: boolean;
  createdAt: number;
  /** After this instant (ms) nobody can answer: the task has timed out and its policy applies. */
  expiresAt: number;
}

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface Approval extends NewApproval {
  /** Random and single-use (crypto.randomUUID): the only thing the Slack buttons carry. */
  id: string;
  status: ApprovalStatus;
  /** Who approved so far, in the order they did (the two-person rule). */
  votes: string[];
  decision: ApprovalDecision | null;
  message: SlackMessageRef | null;
}

export type ApprovalRefusal = 'UNKNOWN_APPROVAL' | 'ALREADY_DECIDED' | 'EXPIRED' | 'SAME_APPROVER';

export type ApprovalWrite =
  | { ok: true; approval: Approval }
  | { ok: false; code: ApprovalRefusal; approval: Approval | null };

export interface ApprovalStore {
  create(approval: NewApproval): Promise<Approval>;
  get(id: string): Promise<Approval | null>;
  /** Remembers where the message was posted, so that the callback can update it. */
  attachMessage(id: string, message: SlackMessageRef): Promise<void>;
  /** Adds an approving vote; refused unless the approval is pending, unexpired and user has not voted yet. */
  recordVote(id: string, user: string, now: number): Promise<ApprovalWrite>;
  /** pending → approved | rejected, once: every later call is refused with ALREADY_DECIDED. */
  decide(id: string, decision: ApprovalDecision): Promise<ApprovalWrite>;
}

/**
 * Hands the answer to the waiting execution. On AWS SendTaskSuccess (output = the decision) or SendTaskFailure
 * (error ApprovalRejectedError); in the drill a promise that the local runner awaits.
 */
export interface TaskRef {
  token: string;
  region: string;
}

export interface TaskCallback {
  approve(task: TaskRef, decision: ApprovalDecision): Promise<void>;
  reject(task: TaskRef, decision: ApprovalDecision): Promise<void>;
}

/** A Slack message: the fallback text (notifications, screen readers) and the Block Kit blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** The three Web API methods Cutover calls: chat.postMessage, chat.update, chat.postEphemeral. */
export interface SlackChat {
  post(channel: string, message: SlackMessage): Promise<SlackMessageRef>;
  update(ref: SlackMessageRef, message: SlackMessage): Promise<void>;
  ephemeral(channel: string, user: string, text: string): Promise<void>;
}
