import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestApproval } from '#commons/request-approval-core.js';
import {
  type HttpRequest,
  type HttpResponse,
  handleSlackInteraction,
  type SlackCallbackDeps,
} from '#commons/slack-callback-core.js';
import { TaskCallbackError } from '#core/approval-errors.js';
import { ACTIONS_BLOCK, APPROVE_ACTION, REJECT_ACTION } from '#core/approval-message.js';
import type {
  ApprovalStore,
  SlackChat,
  SlackMessage,
  SlackMessageRef,
  TaskCallback,
  TaskRef,
} from '#core/approval-ports.js';
import type { ApprovalChannel, ApprovalDecision, ApprovalRequest } from '#core/failover-ports.js';
import { type Clock, type ControlStore, systemClock } from '#core/ports.js';
import { slackSignature } from '#core/slack-signature.js';

/**
 * The drill's Slack: an ApprovalChannel that takes the real path end to end. It stores the approval through
 * the real ApprovalStore (with a local task token), renders the real Block Kit message, then plays the person in
 * the channel: it reads the approval id off the message's button, builds a block_actions request signed with
 * the signing secret (or a forged one) and hands it to the real callback core, in process or over HTTP. The
 * callback's TaskCallback is the LocalTaskCallback below, which resolves the promise the local runner awaits.
 */

/** What the stand-in's person does with the message. */
export type SlackAnswer = 'approve' | 'reject' | 'forged' | 'silent';

/** The stand-in's workspace and app, as a real Slack app's clicks carry them. */
export const DRILL_TEAM = 'T0DRILL';
export const DRILL_APP = 'A0DRILL';

export interface SlackStandInOptions {
  approvals: ApprovalStore;
  control: Pick<ControlStore, 'appendAudit'>;
  /** config.approval.slack.approvers: Slack user ids. */
  approvers: string[];
  answer: SlackAnswer;
  twoPerson?: boolean;
  channel?: string;
  /** Who clicks, in order; by default the first approver (the first two under the two-person rule). */
  clickers?: string[];
  /** The app's signing secret; a random one by default. A forged request is signed with another. */
  signingSecret?: string;
  /** A human-like pause before the click. */
  answerAfterMs?: number;
  /** 'http' sends the click over a local HTTP server that wraps the callback core, like the function URL. */
  transport?: 'in-process' | 'http';
  clock?: Clock;
  /** For the drill's timeline: approval_requested, slack_message, slack_click, approval_granted/rejected. */
  onEvent?: (type: string, detail: Record<string, unknown>) => void;
}

export interface PostedMessage {
  at: number;
  method: 'chat.postMessage' | 'chat.update' | 'chat.postEphemeral';
  channel: string;
  ts?: string;
  user?: string;
  message?: SlackMessage;
  text: string;
}

export interface Click {
  at: number;
  user: string;
  action: 'approve' | 'reject';
  approvalId: string;
  forged: boolean;
  statusCode: number;
  code: string;
  reason: string;
}

export interface ClickOptions {
  /** Sign with this secret instead of the app's (a forgery). */
  secret?: string;
  /** Sign at this Unix time in seconds instead of now (a replay). */
  timestampSeconds?: number;
  /** Send no signature headers at all. */
  unsigned?: boolean;
}

/** The local TaskCallback: each task token is a promise the runner awaits; a reject resolves approved: false. */
export class LocalTaskCallback implements TaskCallback {
  private readonly waiting = new Map<string, (d: ApprovalDecision) => void>();

  /** A new task token and the promise that settles when the callback answers it. */
  open(): { token: string; decision: Promise<ApprovalDecision> } {
    const token = `local-task:${randomUUID()}`;
    const decision = new Promise<ApprovalDecision>((resolve) => this.waiting.set(token, resolve));
    return { token, decision };
  }

  async approve(task: TaskRef, decision: ApprovalDecision): Promise<void> {
    this.settle(task, decision);
  }

  async reject(task: TaskRef, decision: ApprovalDecision): Promise<void> {
    this.settle(task, { ...decision, approved: false });
  }

  /** Tokens still waiting for an answer. */
  get pending(): number {
    return this.waiting.size;
  }

  private settle(task: TaskRef, decision: ApprovalDecision): void {
    const resolve = this.waiting.get(task.token);
    // Like SendTaskSuccess on a finished task: the token is spent, a second answer is refused.
    if (!resolve) throw new TaskCallbackError(`task ${task.token} is not waiting`, 'TASK_GONE');
    this.waiting.delete(task.token);
    resolve(decision);
  }
}

export class SlackStandIn implements ApprovalChannel {
  readonly tasks = new LocalTaskCallback();
  /** Every message as posted and updated: the drill keeps them for its timeline. */
  readonly messages: PostedMessage[] = [];
  readonly clicks: Click[] = [];
  readonly signingSecret: string;
  private readonly clock: Clock;
  private readonly channel: string;
  private readonly callback: SlackCallbackDeps;
  private server: Promise<{ server: Server; url: string }> | undefined;
  private seq = 0;
  private readonly acting = new Set<Promise<void>>();

  constructor(private readonly opts: SlackStandInOptions) {
    this.signingSecret = opts.signingSecret ?? randomBytes(16).toString('hex');
    this.clock = opts.clock ?? systemClock;
    this.channel = opts.channel ?? '#cutover-drill';
    this.callback = {
      signingSecret: this.signingSecret,
      // The stand-in is one Slack app in one workspace; its callback checks both, as the deployed one does.
      workspace: { teamId: DRILL_TEAM, appId: DRILL_APP },
      approvals: opts.approvals,
      tasks: this.tasks,
      control: opts.control,
      slack: this.chat,
      clock: this.clock,
      log: (level, message, fields) => this.emit(`callback_${level}`, { message, ...fields }),
    };
  }

  /** The three Slack Web API methods, answered locally and recorded. */
  readonly chat: SlackChat = {
    post: async (channel, message) => {
      // Slack answers with the channel id, also when it was asked by name.
      const id = channel.startsWith('#') ? 'C0DRILL' : channel;
      const ref = {
        channel: id,
        ts: `${Math.floor(this.clock.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`,
      };
      this.record({ method: 'chat.postMessage', channel: id, ts: ref.ts, message, text: message.text });
      return ref;
    },
    update: async (ref, message) => {
      this.record({ method: 'chat.update', channel: ref.channel, ts: ref.ts, message, text: message.text });
    },
    ephemeral: async (channel, user, text) => {
      this.record({ method: 'chat.postEphemeral', channel, user, text });
    },
  };

  async requestApproval(request: ApprovalRequest): Promise<ApprovalDecision> {
    const { token, decision } = this.tasks.open();
    const { approval } = await requestApproval(
      { ...request, taskToken: token },
      {
        approvals: this.opts.approvals,
        slack: this.chat,
        clock: this.clock,
        channel: this.channel,
        approvers: this.opts.approvers,
        twoPerson: this.opts.twoPerson ?? false,
        taskRegion: 'local',
      },
    );
    this.emit('approval_requested', {
      approvalId: approval.id,
      incidentId: request.incidentId,
      kind: request.kind,
      reason: request.reason,
      answer: this.opts.answer,
    });
    const acting = this.act(approval.message!).finally(() => this.acting.delete(acting));
    this.acting.add(acting);
    const d = await decision;
    // The answer settles inside the click; let the click finish so that the timeline has it before the decision.
    await acting;
    this.emit(d.approved ? 'approval_granted' : 'approval_rejected', { approvalId: approval.id, ...d });
    return d;
  }

  /**
   * One click on the message's button, as Slack would send it. Public so that tests can send what the person
   * would not: another user, a replay, a forgery.
   */
  async click(
    ref: SlackMessageRef,
    user: string,
    action: 'approve' | 'reject',
    options: ClickOptions = {},
  ): Promise<HttpResponse> {
    const approvalId = this.buttonValue(ref, action);
    const timestamp = String(options.timestampSeconds ?? Math.floor(this.clock.now() / 1000));
    const payload = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase() },
      team: { id: DRILL_TEAM },
      api_app_id: DRILL_APP,
      channel: { id: ref.channel },
      container: { type: 'message', message_ts: ref.ts, channel_id: ref.channel },
      actions: [
        {
          type: 'button',
          block_id: ACTIONS_BLOCK,
          action_id: action === 'approve' ? APPROVE_ACTION : REJECT_ACTION,
          value: approvalId,
          action_ts: timestamp,
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const forged = options.secret !== undefined && options.secret !== this.signingSecret;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (!options.unsigned) {
      headers['x-slack-request-timestamp'] = timestamp;
      headers['x-slack-signature'] = slackSignature(options.secret ?? this.signingSecret, timestamp, body);
    }
    const res = await this.send({ method: 'POST', headers, body });
    const answer = JSON.parse(res.body) as { code: string; reason: string };
    const click: Click = {
      at: this.clock.now(),
      user,
      action,
      approvalId,
      forged: forged || !!options.unsigned || options.timestampSeconds !== undefined,
      statusCode: res.statusCode,
      code: answer.code,
      reason: answer.reason,
    };
    this.clicks.push(click);
    this.emit('slack_click', { ...click });
    return res;
  }

  /** The latest posted or updated message for a ts, as the channel shows it. */
  latest(ref: SlackMessageRef): SlackMessage | undefined {
    return this.messages.filter((m) => m.ts === ref.ts && m.message).at(-1)?.message;
  }

  /** Waits for the person's scheduled clicks; stops the HTTP server if one was started. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.acting]);
    if (this.server) {
      const { server } = await this.server;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      this.server = undefined;
    }
  }

  /** The callback core behind a local HTTP server, as the Lambda function URL puts it on the Internet. */
  async url(): Promise<string> {
    this.server ??= new Promise((resolve, reject) => {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
          // Function URLs hand over a form body base64-encoded; so does this server.
          const answer = await handleSlackInteraction(
            {
              method: req.method,
              headers,
              body: Buffer.concat(chunks).toString('base64'),
              isBase64Encoded: true,
            },
            this.callback,
          );
          res.writeHead(answer.statusCode, answer.headers).end(answer.body);
        });
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        resolve({ server, url: `http://127.0.0.1:${port}/slack/interactivity` });
      });
    });
    return (await this.server).url;
  }

  private async send(req: HttpRequest): Promise<HttpResponse> {
    if (this.opts.transport !== 'http') return handleSlackInteraction(req, this.callback);
    const res = await fetch(await this.url(), {
      method: 'POST',
      headers: req.headers as Record<string, string>,
      body: req.body ?? '',
    });
    return {
      statusCode: res.status,
      headers: { 'content-type': res.headers.get('content-type') ?? '' },
      body: await res.text(),
    };
  }

  private async act(ref: SlackMessageRef): Promise<void> {
    const { answer, approvers } = this.opts;
    if (answer === 'silent') return;
    if (this.opts.answerAfterMs) await new Promise((r) => setTimeout(r, this.opts.answerAfterMs));
    const twoPerson = this.opts.twoPerson ?? false;
    const clickers = this.opts.clickers ?? approvers.slice(0, twoPerson ? 2 : 1);
    try {
      if (answer === 'forged') {
        // Right shape, right id, wrong key: what an attacker who saw the message could send.
        await this.click(ref, clickers[0] ?? 'U0FORGER', 'approve', {
          secret: randomBytes(16).toString('hex'),
        });
      } else if (answer === 'reject') {
        await this.click(ref, clickers[0] ?? 'U0NOBODY', 'reject');
      } else {
        for (const user of clickers.length ? clickers : ['U0NOBODY']) await this.click(ref, user, 'approve');
      }
    } catch (err) {
      this.emit('slack_click_failed', { error: (err as Error).message });
    }
  }

  /** The newest version of the message that still shows the button: a person may click a stale view. */
  private buttonValue(ref: SlackMessageRef, action: 'approve' | 'reject'): string {
    const versions = this.messages.filter((m) => m.ts === ref.ts && m.message).reverse();
    for (const block of versions.flatMap((v) => v.message?.blocks ?? [])) {
      if (block.type !== 'actions') continue;
      for (const el of block.elements) {
        const id = action === 'approve' ? APPROVE_ACTION : REJECT_ACTION;
        if (el.type === 'button' && el.action_id === id && el.value) return el.value;
      }
    }
    throw new Error(`message ${ref.ts} never had a ${action} button`);
  }

  private record(m: Omit<PostedMessage, 'at'>): void {
    const posted = { at: this.clock.now(), ...m };
    this.messages.push(posted);
    this.emit('slack_message', { method: m.method, channel: m.channel, ts: m.ts, text: m.text });
  }

  private emit(type: string, detail: Record<string, unknown>): void {
    this.opts.onEvent?.(type, detail);
  }
}
