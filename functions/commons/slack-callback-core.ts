import { z } from 'zod';
import { TaskCallbackError } from '#core/approval-errors.js';
import { APPROVE_ACTION, approvalMessage, REJECT_ACTION } from '#core/approval-message.js';
import type {
  Approval,
  ApprovalRefusal,
  ApprovalStore,
  ApprovalWrite,
  SlackChat,
  SlackMessageRef,
  TaskCallback,
} from '#core/approval-ports.js';
import type { ApprovalDecision } from '#core/failover-ports.js';
import type { Clock, ControlStore } from '#core/ports.js';
import { verifySlackSignature } from '#core/slack-signature.js';
import type { SecretSource } from './slack-secrets.js';

/**
 * The Slack interactivity endpoint's core: one signed click in, one answer out. Every refusal is a 4xx with a
 * stable code and a sentence (the log line and the test oracle) and happens before any write, so a forged,
 * replayed, malformed, unknown, used or unauthorised request changes nothing.
 */

export interface HttpRequest {
  /** Slack always POSTs; anything else is refused. Absent means POST (the drill's in-process calls). */
  method?: string;
  headers: Record<string, string | undefined>;
  body: string | undefined;
  isBase64Encoded?: boolean;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type CallbackCode =
  | 'APPROVED'
  | 'REJECTED'
  | 'VOTE_RECORDED'
  | 'SIGNATURE_MISSING'
  | 'TIMESTAMP_INVALID'
  | 'TIMESTAMP_STALE'
  | 'SIGNATURE_INVALID'
  | 'WRONG_WORKSPACE'
  | 'METHOD_NOT_ALLOWED'
  | 'MALFORMED'
  | 'UNKNOWN_APPROVAL'
  | 'ALREADY_DECIDED'
  | 'EXPIRED'
  | 'NOT_AN_APPROVER'
  | 'SAME_APPROVER'
  | 'TASK_GONE'
  | 'CALLBACK_FAILED';

export interface CallbackOutcome {
  status: number;
  code: CallbackCode;
  reason: string;
  approvalId?: string;
  user?: string;
}

export interface SlackCallbackDeps {
  /** The signing secret, or a source that may re-read it once when a signature does not match (rotation). */
  signingSecret: string | SecretSource;
  /**
   * The Slack workspace (team id, T…) and app (A…) whose clicks count. The signature proves the request comes
   * from an app that knows the signing secret; these make sure it is this app in this workspace.
   */
  workspace?: { teamId?: string; appId?: string };
  approvals: ApprovalStore;
  tasks: TaskCallback;
  control: Pick<ControlStore, 'appendAudit'>;
  slack: SlackChat;
  clock: Clock;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>) => void;
  /**
   * How long the answer may wait for chat.update / chat.postEphemeral. Slack wants the answer within 3 s, and a
   * Lambda function URL cannot keep working after it has answered, so the message update is raced against
   * this budget instead of being sent afterwards.
   */
  slackBudgetMs?: number;
}

const DEFAULT_SLACK_BUDGET_MS = 1500;

const interactionSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1) }),
  actions: z
    .array(
      z.object({
        action_id: z.enum([APPROVE_ACTION, REJECT_ACTION]),
        value: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an approval id'),
      }),
    )
    .length(1),
  channel: z.object({ id: z.string().min(1) }).optional(),
  container: z.object({ channel_id: z.string().optional(), message_ts: z.string().optional() }).optional(),
  // Top-level in a block_actions payload (docs.slack.dev/reference/interaction-payloads/block_actions-payload).
  team: z.object({ id: z.string().min(1) }).nullish(),
  api_app_id: z.string().min(1).optional(),
});

export interface Interaction {
  user: string;
  action: 'approve' | 'reject';
  approvalId: string;
  channel: string | null;
  teamId: string | null;
  appId: string | null;
}

/** Pure: a form-encoded block_actions body (`payload=<json>`) to the one click Cutover understands. */
export function parseInteraction(
  body: string,
): { ok: true; interaction: Interaction } | { ok: false; reason: string } {
  const payload = new URLSearchParams(body).get('payload');
  if (!payload) return { ok: false, reason: 'the body has no payload field' };
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'the payload field is not JSON' };
  }
  const parsed = interactionSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `the payload is not a Cutover approval click: ${issue ? `${issue.path.join('.') || 'payload'} ${issue.message}` : 'invalid'}`,
    };
  }
  const p = parsed.data;
  const action = p.actions[0]!;
  return {
    ok: true,
    interaction: {
      user: p.user.id,
      action: action.action_id,
      approvalId: action.value,
      channel: p.channel?.id ?? p.container?.channel_id ?? null,
      teamId: p.team?.id ?? null,
      appId: p.api_app_id ?? null,
    },
  };
}

export async function handleSlackInteraction(
  req: HttpRequest,
  deps: SlackCallbackDeps,
): Promise<HttpResponse> {
  const outcome = await interact(req, deps);
  const level = outcome.status < 300 ? 'info' : outcome.status >= 500 ? 'error' : 'warn';
  deps.log?.(level, `slack interaction ${outcome.code}: ${outcome.reason}`, { ...outcome });
  return {
    statusCode: outcome.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ok: outcome.status < 300, code: outcome.code, reason: outcome.reason }),
  };
}

async function interact(req: HttpRequest, deps: SlackCallbackDeps): Promise<CallbackOutcome> {
  const now = deps.clock.now();
  if (req.method && req.method.toUpperCase() !== 'POST') {
    return {
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      reason: `${req.method} is not how Slack calls; it POSTs`,
    };
  }
  const raw = rawBody(req);
  const signature = await verify(req, raw, deps, now);
  if (!signature.ok) return { status: 401, code: signature.code, reason: signature.reason };

  const parsed = parseInteraction(raw.toString('utf8'));
  if (!parsed.ok) return { status: 400, code: 'MALFORMED', reason: parsed.reason };
  const click = parsed.interaction;
  const wrong = wrongWorkspace(click, deps.workspace);
  if (wrong) return { status: 403, code: 'WRONG_WORKSPACE', reason: wrong };
  const who = { approvalId: click.approvalId, user: click.user };

  // From here on the request is Slack's: a refusal is also told to the person, privately.
  const refuse = async (status: number, code: CallbackCode, reason: string): Promise<CallbackOutcome> => {
    if (click.channel) {
      await bounded(deps, 'chat.postEphemeral', deps.slack.ephemeral(click.channel, click.user, reason));
    }
    return { status, code, reason, ...who };
  };
  const refuseWrite = (w: Extract<ApprovalWrite, { ok: false }>) => {
    const [status, reason] = refusalText(w.code, click.approvalId, click.user);
    return refuse(status, w.code, reason);
  };

  const approval = await deps.approvals.get(click.approvalId);
  if (!approval) return refuseWrite({ ok: false, code: 'UNKNOWN_APPROVAL', approval });
  if (approval.status !== 'pending') return refuseWrite({ ok: false, code: 'ALREADY_DECIDED', approval });
  if (approval.expiresAt <= now) return refuseWrite({ ok: false, code: 'EXPIRED', approval });
  if (!approval.approvers.includes(click.user)) {
    return refuse(403, 'NOT_AN_APPROVER', `${click.user} is not an approver of approval ${approval.id}`);
  }

  let decision: ApprovalDecision;
  if (click.action === REJECT_ACTION) {
    decision = { approved: false, by: click.user, at: now, reason: `rejected in Slack by ${click.user}` };
  } else if (approval.twoPerson) {
    const vote = await deps.approvals.recordVote(approval.id, click.user, now);
    if (!vote.ok) return refuseWrite(vote);
    const votes = vote.approval.votes;
    if (votes.length < 2) {
      await audit(deps, vote.approval, now, 'vote', { by: click.user, votes });
      await updateMessage(deps, vote.approval);
      return {
        status: 200,
        code: 'VOTE_RECORDED',
        reason: `${click.user} approved approval ${approval.id}; a second, different approver is needed`,
        ...who,
      };
    }
    decision = {
      approved: true,
      by: votes.join(','),
      at: now,
      reason: `approved in Slack by ${votes.join(' and ')}`,
    };
  } else {
    decision = { approved: true, by: click.user, at: now, reason: `approved in Slack by ${click.user}` };
  }

  // The conditional write is what makes the id single-use: only its winner talks to the execution.
  const decided = await deps.approvals.decide(approval.id, decision);
  if (!decided.ok) return refuseWrite(decided);
  return deliver(deps, decided.approval, decision, who);
}

async function deliver(
  deps: SlackCallbackDeps,
  approval: Approval,
  decision: ApprovalDecision,
  who: { approvalId: string; user: string },
): Promise<CallbackOutcome> {
  const task = { token: approval.taskToken, region: approval.taskRegion };
  const verb = decision.approved ? 'approved' : 'rejected';
  try {
    if (decision.approved) await deps.tasks.approve(task, decision);
    else await deps.tasks.reject(task, decision);
  } catch (err) {
    const gone = err instanceof TaskCallbackError && err.code === 'TASK_GONE';
    const reason = gone
      ? `approval ${approval.id} was ${verb} by ${decision.by}, but the execution no longer waits for it (its task timed out or ended)`
      : `approval ${approval.id} was ${verb} by ${decision.by}, but Step Functions did not take the answer: ${(err as Error).message}`;
    await audit(deps, approval, decision.at, `${verb}-not-delivered`, { ...decision, error: reason });
    return { status: gone ? 410 : 502, code: gone ? 'TASK_GONE' : 'CALLBACK_FAILED', reason, ...who };
  }
  await audit(deps, approval, decision.at, verb, { ...decision, votes: approval.votes });
  await updateMessage(deps, approval);
  return {
    status: 200,
    code: decision.approved ? 'APPROVED' : 'REJECTED',
    reason: `${decision.by} ${verb} the ${approval.request.kind} of ${approval.request.application} (approval ${approval.id})`,
    ...who,
  };
}

function refusalText(code: ApprovalRefusal, id: string, user: string): [number, string] {
  switch (code) {
    case 'UNKNOWN_APPROVAL':
      return [404, `approval ${id} does not exist`];
    case 'ALREADY_DECIDED':
      return [409, `approval ${id} is already decided: each approval id is used once`];
    case 'EXPIRED':
      return [410, `approval ${id} has expired: the timeout policy applies`];
    case 'SAME_APPROVER':
      return [
        409,
        `${user} has already approved approval ${id}: the two-person rule needs a different approver`,
      ];
  }
}

/** Who decided and when goes to the incident's audit trail (I5); the approval item keeps it too. */
async function audit(
  deps: SlackCallbackDeps,
  approval: Approval,
  at: number,
  outcome: string,
  detail: Record<string, unknown>,
): Promise<void> {
  try {
    await deps.control.appendAudit(approval.request.application, approval.request.incidentId, {
      at,
      step: 'slack-approval',
      outcome,
      detail: { approvalId: approval.id, kind: approval.request.kind, ...detail },
    });
  } catch (err) {
    // The decision already stands (the approval item records it); a lost audit line must not undo it.
    deps.log?.('error', `could not audit approval ${approval.id}: ${(err as Error).message}`, {
      approvalId: approval.id,
    });
  }
}

async function updateMessage(deps: SlackCallbackDeps, approval: Approval): Promise<void> {
  const ref: SlackMessageRef | null = approval.message;
  if (!ref) return;
  await bounded(deps, 'chat.update', deps.slack.update(ref, approvalMessage(approval)));
}

/** A Slack call that may not hold up the answer: it gets the budget, then the answer goes out regardless. */
async function bounded(deps: SlackCallbackDeps, what: string, call: Promise<void>): Promise<void> {
  const budget = deps.slackBudgetMs ?? DEFAULT_SLACK_BUDGET_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), budget);
  });
  try {
    const r = await Promise.race([call.then(() => 'done' as const), timeout]);
    if (r === 'timeout') deps.log?.('warn', `${what} took over ${budget} ms; answering Slack without it`, {});
  } catch (err) {
    deps.log?.('warn', `${what} failed: ${(err as Error).message}`, {});
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The signature checked against the current signing secret; on a mismatch, once more against a fresh read of
 * it (rate-limited by the source), since a rotated secret may not have reached this container yet.
 */
async function verify(req: HttpRequest, raw: Buffer, deps: SlackCallbackDeps, now: number) {
  const check = (signingSecret: string) =>
    verifySlackSignature({
      signingSecret,
      timestamp: header(req, 'x-slack-request-timestamp'),
      signature: header(req, 'x-slack-signature'),
      rawBody: raw,
      nowMs: now,
    });
  const source = deps.signingSecret;
  if (typeof source === 'string') return check(source);
  const first = check(await source.current());
  if (first.ok || first.code !== 'SIGNATURE_INVALID') return first;
  const fresh = await source.refreshed().catch(() => null);
  if (fresh === null) return first;
  deps.log?.('info', 'signing secret re-read after a signature mismatch', {});
  return check(fresh);
}

function wrongWorkspace(click: Interaction, expected: SlackCallbackDeps['workspace']): string | null {
  if (expected?.teamId && click.teamId !== expected.teamId) {
    return `the click comes from workspace ${click.teamId ?? '(none)'}, not ${expected.teamId}`;
  }
  if (expected?.appId && click.appId !== expected.appId) {
    return `the click is for app ${click.appId ?? '(none)'}, not ${expected.appId}`;
  }
  return null;
}

function rawBody(req: HttpRequest): Buffer {
  const body = req.body ?? '';
  return req.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

function header(req: HttpRequest, name: string): string | undefined {
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}
