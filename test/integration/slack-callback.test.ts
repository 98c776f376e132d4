import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SfnTaskCallback } from '#adapters/aws/sfn-task-callback.js';
import { DynamoApprovalStore } from '#adapters/dynamodb/approval-store.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { requestApproval } from '#commons/request-approval-core.js';
import {
  type HttpRequest,
  handleSlackInteraction,
  type SlackCallbackDeps,
} from '#commons/slack-callback-core.js';
import { CachedSecret } from '#commons/slack-secrets.js';
import type { Approval, SlackChat, SlackMessage, SlackMessageRef } from '#core/approval-ports.js';
import { slackSignature } from '#core/slack-signature.js';
import { freshTables } from '../support/dynamodb.js';
import { FakeClock } from '../support/fake-clock.js';

const SECRET = 'e3b0c44298fc1c149afbf4c8996fb924';
const ALICE = 'U01ALICE';
const BOB = 'U02BOB';
const MALLORY = 'U09MALLORY';

/** Slack's Web API as the callback sees it, recorded; `hang` never answers (a slow slack.com). */
class FakeSlack implements SlackChat {
  posts: { channel: string; message: SlackMessage }[] = [];
  updates: { ref: SlackMessageRef; message: SlackMessage }[] = [];
  ephemerals: { channel: string; user: string; text: string }[] = [];
  hang = false;
  async post(channel: string, message: SlackMessage) {
    this.posts.push({ channel, message });
    return { channel: 'C0FAILOVER', ts: `1700000000.00010${this.posts.length}` };
  }
  async update(ref: SlackMessageRef, message: SlackMessage) {
    this.updates.push({ ref, message });
    if (this.hang) await new Promise(() => {});
  }
  async ephemeral(channel: string, user: string, text: string) {
    this.ephemerals.push({ channel, user, text });
  }
}

const sfn = mockClient(SFNClient);
let approvals: DynamoApprovalStore;
let control: DynamoControlStore;
let slack: FakeSlack;
let clock: FakeClock;
let logs: { level: string; message: string; fields: Record<string, unknown> }[];
let deps: SlackCallbackDeps;
let incident = 0;

beforeAll(async () => {
  const t = await freshTables('slack');
  approvals = new DynamoApprovalStore(t.doc, t.names.control);
  control = new DynamoControlStore(t.doc, t.names.control);
});

beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({}).on(SendTaskFailureCommand).resolves({});
  slack = new FakeSlack();
  clock = new FakeClock();
  logs = [];
  const regions: string[] = [];
  deps = {
    signingSecret: SECRET,
    approvals,
    tasks: new SfnTaskCallback((region) => {
      regions.push(region);
      return new SFNClient({ region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    }),
    control,
    slack,
    clock,
    log: (level, message, fields) => logs.push({ level, message, fields }),
    slackBudgetMs: 200,
  };
});
afterEach(() => sfn.reset());

/** An approval as the request function leaves it: stored, posted, message attached. */
async function ask(over: { twoPerson?: boolean; timeoutSeconds?: number } = {}): Promise<Approval> {
  incident += 1;
  const { approval } = await requestApproval(
    {
      taskToken: `task-token-${incident}-${Math.random()}`,
      incidentId: `orders#${incident}#1`,
      application: 'orders',
      kind: 'failover',
      from: 'us-east-1',
      to: 'us-west-2',
      reason: 'votes split: 2 of 5 watchers see us-east-1 down',
      evidence: { epoch: incident, lagMs: 900, holder: 'us-east-1' },
      timeoutSeconds: over.timeoutSeconds ?? 900,
    },
    {
      approvals,
      slack,
      clock,
      channel: '#failover',
      approvers: [ALICE, BOB],
      twoPerson: over.twoPerson ?? false,
      taskRegion: 'us-east-2',
    },
  );
  slack.posts = [];
  return approval;
}

function clickPayload(approvalId: string, user: string, action: 'approve' | 'reject') {
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: 'T0CUTOVER' },
    team: { id: 'T0CUTOVER', domain: 'cutover' },
    api_app_id: 'A0CUTOVER',
    channel: { id: 'C0FAILOVER', name: 'failover' },
    container: { type: 'message', message_ts: '1700000000.000101', channel_id: 'C0FAILOVER' },
    actions: [
      { type: 'button', block_id: 'approval-actions', action_id: action, value: approvalId, action_ts: '1' },
    ],
    response_url: 'https://hooks.slack.com/actions/T0/1/xyz',
  };
}

function signed(
  body: string,
  opts: { secret?: string; timestamp?: number; base64?: boolean; headers?: Record<string, string> } = {},
): HttpRequest {
  const ts = String(opts.timestamp ?? Math.floor(clock.now() / 1000));
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, body),
      ...opts.headers,
    },
    body: opts.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: opts.base64 ?? false,
  };
}

const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
const click = (
  a: Approval,
  user: string,
  action: 'approve' | 'reject',
  opts?: Parameters<typeof signed>[1],
) => handleSlackInteraction(signed(form(clickPayload(a.id, user, action)), opts), deps);
const answer = (res: { body: string }) =>
  JSON.parse(res.body) as { ok: boolean; code: string; reason: string };

async function snapshot(a: Approval) {
  return {
    approval: await approvals.get(a.id),
    audit: await control.listAudit(a.request.application, a.request.incidentId),
  };
}

/** A refused request: the right status and code, logged as a warning, and nothing anywhere changed. */
async function expectRefused(
  a: Approval,
  send: () => Promise<{ statusCode: number; body: string }>,
  status: number,
  code: string,
) {
  const before = await snapshot(a);
  const sfnCallsBefore = sfn.calls().length;
  const res = await send();
  expect({ status: res.statusCode, code: answer(res).code }).toEqual({ status, code });
  expect(answer(res).ok).toBe(false);
  expect(await snapshot(a)).toEqual(before);
  expect(sfn.calls()).toHaveLength(sfnCallsBefore);
  expect(slack.updates).toHaveLength(0);
  expect(logs.at(-1)).toMatchObject({ level: 'warn', fields: { code, status } });
  expect(logs.at(-1)?.message).toContain(answer(res).reason);
  return answer(res);
}

describe('Slack callback: the happy paths', () => {
  it('approve: SendTaskSuccess with the decision, approval used, audit written, message updated', async () => {
    const a = await ask();
    clock.advance(30_000);
    const res = await click(a, ALICE, 'approve');
    expect(res.statusCode).toBe(200);
    expect(answer(res)).toMatchObject({ ok: true, code: 'APPROVED' });
    const decision = { approved: true, by: ALICE, at: clock.now(), reason: `approved in Slack by ${ALICE}` };
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: a.taskToken,
      output: JSON.stringify(decision),
    });
    expect(JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '')).toEqual(
      decision,
    );
    expect(await approvals.get(a.id)).toMatchObject({ status: 'approved', decision });
    expect(await control.listAudit('orders', a.request.incidentId)).toEqual([
      {
        at: clock.now(),
        step: 'slack-approval',
        outcome: 'approved',
        detail: { approvalId: a.id, kind: 'failover', ...decision, votes: [] },
      },
    ]);
    expect(slack.updates).toHaveLength(1);
    expect(slack.updates[0]?.ref).toEqual({ channel: 'C0FAILOVER', ts: '1700000000.000101' });
    expect(JSON.stringify(slack.updates[0]?.message)).toContain('*Approved* by <@U01ALICE>');
    expect(slack.updates[0]?.message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(slack.ephemerals).toEqual([]);
  });

  it('reject: SendTaskFailure with ApprovalRejectedError, approval used, audit written', async () => {
    const a = await ask();
    const res = await click(a, BOB, 'reject');
    expect(answer(res)).toMatchObject({ ok: true, code: 'REJECTED' });
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: a.taskToken,
      error: 'ApprovalRejectedError',
      cause: `${BOB} rejected the approval: rejected in Slack by ${BOB}`,
    });
    expect(await approvals.get(a.id)).toMatchObject({
      status: 'rejected',
      decision: { approved: false, by: BOB },
    });
    expect(
      (await control.listAudit('orders', a.request.incidentId)).map((e) => [e.outcome, e.detail?.by]),
    ).toEqual([['rejected', BOB]]);
  });

  it('reads a base64-encoded body, as a function URL hands it over', async () => {
    const a = await ask();
    const res = await click(a, ALICE, 'approve', { base64: true });
    expect(answer(res).code).toBe('APPROVED');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('two-person: the first approval is a vote, the second distinct approver decides', async () => {
    const a = await ask({ twoPerson: true });
    const first = await click(a, ALICE, 'approve');
    expect(answer(first)).toMatchObject({ ok: true, code: 'VOTE_RECORDED' });
    expect(sfn.calls()).toHaveLength(0);
    expect(await approvals.get(a.id)).toMatchObject({ status: 'pending', votes: [ALICE] });
    expect(JSON.stringify(slack.updates.at(-1)?.message)).toContain('1 of 2 approvals: <@U01ALICE>');

    clock.advance(5_000);
    const second = await click(a, BOB, 'approve');
    expect(answer(second)).toMatchObject({ ok: true, code: 'APPROVED' });
    const decision = {
      approved: true,
      by: `${ALICE},${BOB}`,
      at: clock.now(),
      reason: `approved in Slack by ${ALICE} and ${BOB}`,
    };
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: a.taskToken, output: JSON.stringify(decision) },
    ]);
    expect((await control.listAudit('orders', a.request.incidentId)).map((e) => e.outcome)).toEqual([
      'vote',
      'approved',
    ]);
  });

  it('two-person: one reject is enough, also after a first approval', async () => {
    const a = await ask({ twoPerson: true });
    await click(a, ALICE, 'approve');
    const res = await click(a, BOB, 'reject');
    expect(answer(res).code).toBe('REJECTED');
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('answers within the budget when slack.com hangs: the decision stands, the update is given up', async () => {
    const a = await ask();
    slack.hang = true;
    const started = Date.now();
    const res = await click(a, ALICE, 'approve');
    // slack.com never answers, so answering at all means the update was given up; Slack itself gives up on
    // a callback that has not answered within 3 s, which is the bound that matters.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(answer(res).code).toBe('APPROVED');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(logs.some((l) => l.message.includes('chat.update took over 200 ms'))).toBe(true);
  });

  it('a task that already timed out: 410, the approval is spent, the audit says the answer was not delivered', async () => {
    const a = await ask();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const res = await click(a, ALICE, 'approve');
    expect({ status: res.statusCode, code: answer(res).code }).toEqual({ status: 410, code: 'TASK_GONE' });
    expect((await control.listAudit('orders', a.request.incidentId)).map((e) => e.outcome)).toEqual([
      'approved-not-delivered',
    ]);
  });
});

describe('Slack callback: every bad request gets a 4xx, is logged, and changes nothing', () => {
  it('no signature headers → 401 SIGNATURE_MISSING', async () => {
    const a = await ask();
    const body = form(clickPayload(a.id, ALICE, 'approve'));
    await expectRefused(
      a,
      () => handleSlackInteraction({ method: 'POST', headers: {}, body }, deps),
      401,
      'SIGNATURE_MISSING',
    );
  });

  it('signed with another secret (forged) → 401 SIGNATURE_INVALID', async () => {
    const a = await ask();
    await expectRefused(
      a,
      () => click(a, ALICE, 'approve', { secret: 'not-the-signing-secret' }),
      401,
      'SIGNATURE_INVALID',
    );
  });

  it('a body changed after signing (reject signed, approve sent) → 401 SIGNATURE_INVALID', async () => {
    const a = await ask();
    const req = signed(form(clickPayload(a.id, ALICE, 'reject')));
    req.body = form(clickPayload(a.id, ALICE, 'approve'));
    await expectRefused(a, () => handleSlackInteraction(req, deps), 401, 'SIGNATURE_INVALID');
  });

  it('a replay: a valid request sent again 6 minutes later → 401 TIMESTAMP_STALE', async () => {
    const a = await ask();
    const req = signed(form(clickPayload(a.id, ALICE, 'approve')));
    clock.advance(6 * 60_000);
    await expectRefused(a, () => handleSlackInteraction(req, deps), 401, 'TIMESTAMP_STALE');
  });

  it('a timestamp that is not a number → 401 TIMESTAMP_INVALID', async () => {
    const a = await ask();
    const req = signed(form(clickPayload(a.id, ALICE, 'approve')));
    req.headers['x-slack-request-timestamp'] = 'yesterday';
    await expectRefused(a, () => handleSlackInteraction(req, deps), 401, 'TIMESTAMP_INVALID');
  });

  it('not a POST → 405', async () => {
    const a = await ask();
    const req = { ...signed(form(clickPayload(a.id, ALICE, 'approve'))), method: 'GET' };
    await expectRefused(a, () => handleSlackInteraction(req, deps), 405, 'METHOD_NOT_ALLOWED');
  });

  it.each([
    ['no payload field', 'token=abc&user=U01ALICE'],
    ['payload not JSON', 'payload=%7Bnot-json'],
    ['not block_actions', form({ type: 'view_submission', user: { id: ALICE } })],
    [
      'an unknown action',
      form({ ...clickPayload('x', ALICE, 'approve'), actions: [{ action_id: 'delete', value: 'x' }] }),
    ],
    [
      'two actions at once',
      form({
        ...clickPayload('x', ALICE, 'approve'),
        actions: [
          { action_id: 'approve', value: 'a' },
          { action_id: 'approve', value: 'b' },
        ],
      }),
    ],
    ['a value that is not an approval id', form(clickPayload('../../etc/passwd', ALICE, 'approve'))],
    ['an empty body', ''],
  ])('a malformed body (%s), correctly signed → 400 MALFORMED', async (_name, body) => {
    const a = await ask();
    await expectRefused(a, () => handleSlackInteraction(signed(body), deps), 400, 'MALFORMED');
    expect(slack.ephemerals).toEqual([]);
  });

  it('an unknown approval id → 404 UNKNOWN_APPROVAL, and the person is told privately', async () => {
    const a = await ask();
    const ghost = { ...a, id: '0b6c7d3e-1111-4222-8333-444455556666' };
    const res = await expectRefused(a, () => click(ghost, ALICE, 'approve'), 404, 'UNKNOWN_APPROVAL');
    expect(slack.ephemerals).toEqual([{ channel: 'C0FAILOVER', user: ALICE, text: res.reason }]);
  });

  it('an approval id used already → 409 ALREADY_DECIDED; Step Functions is called once in all', async () => {
    const a = await ask();
    expect(answer(await click(a, ALICE, 'approve')).code).toBe('APPROVED');
    slack.updates = [];
    await expectRefused(a, () => click(a, BOB, 'reject'), 409, 'ALREADY_DECIDED');
    await expectRefused(a, () => click(a, ALICE, 'approve'), 409, 'ALREADY_DECIDED');
    expect(sfn.calls()).toHaveLength(1);
  });

  it('a user who is not an approver → 403 NOT_AN_APPROVER, also for reject', async () => {
    const a = await ask();
    const res = await expectRefused(a, () => click(a, MALLORY, 'approve'), 403, 'NOT_AN_APPROVER');
    expect(res.reason).toBe(`${MALLORY} is not an approver of approval ${a.id}`);
    await expectRefused(a, () => click(a, MALLORY, 'reject'), 403, 'NOT_AN_APPROVER');
    expect(slack.ephemerals.map((e) => e.user)).toEqual([MALLORY, MALLORY]);
  });

  it('the same user twice under the two-person rule → 409 SAME_APPROVER', async () => {
    const a = await ask({ twoPerson: true });
    expect(answer(await click(a, ALICE, 'approve')).code).toBe('VOTE_RECORDED');
    slack.updates = [];
    clock.advance(1_000);
    await expectRefused(a, () => click(a, ALICE, 'approve'), 409, 'SAME_APPROVER');
    expect(await approvals.get(a.id)).toMatchObject({ status: 'pending', votes: [ALICE] });
  });

  it('after the approval expired (the task timed out) → 410 EXPIRED', async () => {
    const a = await ask({ timeoutSeconds: 60 });
    clock.advance(60_000);
    await expectRefused(a, () => click(a, ALICE, 'approve'), 410, 'EXPIRED');
  });

  it('stops taking answers before the task’s wait ends (heartbeat: timeout − 1 s), with a second to deliver', async () => {
    // The task state's HeartbeatSeconds is 59 for a 60 s timeout: its wait ends 59 s after it began, at the latest
    // 59 s after this approval was created. An answer accepted after that would be recorded and never delivered.
    const late = await ask({ timeoutSeconds: 60 });
    clock.advance(58_000);
    await expectRefused(late, () => click(late, ALICE, 'approve'), 410, 'EXPIRED');
    const inTime = await ask({ timeoutSeconds: 60 });
    clock.advance(57_999);
    expect(answer(await click(inTime, ALICE, 'approve')).code).not.toBe('EXPIRED');
  });

  it('a forged request is not answered in Slack at all (no ephemeral to whoever it names)', async () => {
    const a = await ask();
    await expectRefused(a, () => click(a, ALICE, 'approve', { secret: 'forged' }), 401, 'SIGNATURE_INVALID');
    expect(slack.ephemerals).toEqual([]);
  });
});

describe('request-approval core', () => {
  it('stores the approval first, posts a message without the token, and attaches the message', async () => {
    incident += 1;
    const posted: string[] = [];
    const recording: SlackChat = {
      ...slack,
      post: async (channel, message) => {
        posted.push(JSON.stringify(message));
        // The approval exists before the message does: a click cannot race the store.
        const id = /"value":"([^"]+)"/.exec(posted[0] ?? '')?.[1] ?? '';
        expect(await approvals.get(id)).not.toBeNull();
        return { channel: `C-${channel.slice(1)}`, ts: '1700000000.000999' };
      },
      update: slack.update.bind(slack),
      ephemeral: slack.ephemeral.bind(slack),
    };
    const { approval } = await requestApproval(
      {
        taskToken: 'the-secret-task-token',
        incidentId: `orders#${incident}#1`,
        application: 'orders',
        kind: 'failback',
        from: 'us-west-2',
        to: 'us-east-1',
        reason: 'operator asked',
        evidence: { lagMs: 0 },
        timeoutSeconds: 600,
      },
      {
        approvals,
        slack: recording,
        clock,
        channel: '#failover',
        approvers: [ALICE],
        twoPerson: false,
        taskRegion: 'eu-west-1',
      },
    );
    expect(posted).toHaveLength(1);
    expect(posted[0]).not.toContain('the-secret-task-token');
    expect(await approvals.get(approval.id)).toMatchObject({
      taskToken: 'the-secret-task-token',
      taskRegion: 'eu-west-1',
      // 600 s asked: the task's heartbeat ends its wait at 599 s; answers stop a second before.
      expiresAt: clock.now() + 598_000,
      message: { channel: 'C-failover', ts: '1700000000.000999' },
    });
  });
});

describe('Slack callback: a rotated signing secret, and the workspace', () => {
  it('re-reads a rotated secret once on a mismatch, and a flood of forgeries reads it at most once a window', async () => {
    const ROTATED = 'f00dfacefeedbeefcafe0123456789ab';
    const reads: string[] = [];
    let stored = SECRET;
    const source = new CachedSecret(
      async () => {
        reads.push(stored);
        return stored;
      },
      clock,
      { maxAgeMs: 300_000, minRefreshGapMs: 30_000 },
    );
    deps.signingSecret = source;
    expect(await source.current()).toBe(SECRET);
    // Rotated in Secrets Manager; Slack signs with the new secret at once, this container still has the old one.
    stored = ROTATED;
    const a = await ask();
    const res = await click(a, ALICE, 'approve', { secret: ROTATED });
    expect(answer(res)).toMatchObject({ ok: true, code: 'APPROVED' });
    expect(reads).toEqual([SECRET, ROTATED]);
    slack.updates = [];

    // Forged requests right after: each is refused, and none reaches Secrets Manager inside the window.
    const b = await ask();
    for (let i = 0; i < 20; i++) {
      await expectRefused(
        b,
        () => click(b, ALICE, 'approve', { secret: 'not-the-secret' }),
        401,
        'SIGNATURE_INVALID',
      );
    }
    expect(reads).toHaveLength(2);
    // After the window, one more forgery may cost one read; the value is unchanged, so it is still refused.
    clock.advance(30_000);
    await expectRefused(
      b,
      () => click(b, ALICE, 'approve', { secret: 'not-the-secret' }),
      401,
      'SIGNATURE_INVALID',
    );
    expect(reads).toHaveLength(3);
  });

  it('refuses a validly signed click from another workspace or for another app, before any read or write', async () => {
    deps.workspace = { teamId: 'T0CUTOVER', appId: 'A0CUTOVER' };
    const a = await ask();
    const other = { ...clickPayload(a.id, ALICE, 'approve'), team: { id: 'T0ELSEWHERE', domain: 'x' } };
    const r1 = await expectRefused(
      a,
      () => handleSlackInteraction(signed(form(other)), deps),
      403,
      'WRONG_WORKSPACE',
    );
    expect(r1.reason).toBe('the click comes from workspace T0ELSEWHERE, not T0CUTOVER');
    const otherApp = { ...clickPayload(a.id, ALICE, 'approve'), api_app_id: 'A0OTHERAPP' };
    const r2 = await expectRefused(
      a,
      () => handleSlackInteraction(signed(form(otherApp)), deps),
      403,
      'WRONG_WORKSPACE',
    );
    expect(r2.reason).toBe('the click is for app A0OTHERAPP, not A0CUTOVER');
    // The right workspace and app: accepted.
    expect(answer(await click(a, ALICE, 'approve'))).toMatchObject({ ok: true, code: 'APPROVED' });
  });
});
