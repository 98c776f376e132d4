import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoApprovalStore } from '#adapters/dynamodb/approval-store.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import type { ApprovalRequest } from '#core/failover-ports.js';
import { systemClock } from '#core/ports.js';
import { localApproval } from '#steps/core/approval.js';
import type { StepDeps } from '#steps/core/deps.js';
import { SlackStandIn, type SlackStandInOptions } from '../../infra/local/slack-standin.js';
import { freshTables } from '../support/dynamodb.js';

const ALICE = 'U01ALICE';
const BOB = 'U02BOB';

let approvals: DynamoApprovalStore;
let control: DynamoControlStore;
let n = 0;

beforeAll(async () => {
  const t = await freshTables('standin');
  approvals = new DynamoApprovalStore(t.doc, t.names.control);
  control = new DynamoControlStore(t.doc, t.names.control);
});

function request(): ApprovalRequest {
  n += 1;
  return {
    incidentId: `orders#${n}#1`,
    application: 'orders',
    kind: 'data-loss',
    from: 'us-east-1',
    to: 'us-west-2',
    reason: 'replication lag 4200 ms is over the RPO budget of 1000 ms',
    evidence: { lagMs: 4200, budgetMs: 1000, epoch: n },
    timeoutSeconds: 30,
  };
}

function standIn(over: Partial<SlackStandInOptions> & Pick<SlackStandInOptions, 'answer'>) {
  const events: { type: string; detail: Record<string, unknown> }[] = [];
  const slack = new SlackStandIn({
    approvals,
    control,
    approvers: [ALICE, BOB],
    onEvent: (type, detail) => events.push({ type, detail }),
    ...over,
  });
  return { slack, events };
}

/** The local runner's approval task, bound to the stand-in as the drill binds it. */
const approvalTask = (slack: SlackStandIn, req: ApprovalRequest) =>
  localApproval({ FunctionName: 'request-approval', Payload: { ...req, taskToken: 'ignored-locally' } }, {
    approval: slack,
    control,
    clock: systemClock,
  } as unknown as StepDeps);

/** Whether a promise has settled, read after the fact; it never waits. */
function watch<T>(p: Promise<T>) {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return { settled: () => settled };
}

/** Lets every already-resolved continuation run, so that a decision the click resolved has settled. */
const drain = () => new Promise((r) => setImmediate(r));

describe('Slack stand-in: the real store, message, signature check and callback core', () => {
  it('a signed approve resolves the waiting approval with the decision', async () => {
    const { slack, events } = standIn({ answer: 'approve' });
    const req = request();
    const decision = await approvalTask(slack, req);
    expect(decision).toMatchObject({ approved: true, by: ALICE });
    expect(slack.clicks).toEqual([
      expect.objectContaining({ user: ALICE, statusCode: 200, code: 'APPROVED' }),
    ]);
    // The message went through chat.postMessage, then chat.update once decided; the token never did.
    expect(slack.messages.map((m) => m.method)).toEqual(['chat.postMessage', 'chat.update']);
    expect(JSON.stringify(slack.messages)).not.toContain('local-task:');
    const approvalId = slack.clicks[0]?.approvalId ?? '';
    expect(await approvals.get(approvalId)).toMatchObject({ status: 'approved', taskRegion: 'local' });
    expect((await control.listAudit('orders', req.incidentId)).map((e) => [e.step, e.outcome])).toEqual(
      expect.arrayContaining([
        ['slack-approval', 'approved'],
        ['approval-data-loss', 'approved'],
      ]),
    );
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['approval_requested', 'slack_message', 'slack_click', 'approval_granted']),
    );
    expect(slack.tasks.pending).toBe(0);
    await slack.close();
  });

  it('a forged request is refused and changes nothing: the approval stays pending until the timeout', async () => {
    const { slack, events } = standIn({ answer: 'forged' });
    const req = request();
    const waiting = watch(slack.requestApproval(req));
    // The forged click has been answered: anything it could have decided would have settled by now.
    await vi.waitFor(() => expect(events.map((e) => e.type)).toContain('slack_click'));
    await drain();
    expect(waiting.settled()).toBe(false);
    expect(slack.clicks).toEqual([
      expect.objectContaining({ forged: true, statusCode: 401, code: 'SIGNATURE_INVALID' }),
    ]);
    const approval = await approvals.get(slack.clicks[0]?.approvalId ?? '');
    expect(approval).toMatchObject({ status: 'pending', votes: [], decision: null });
    expect(await control.listAudit('orders', req.incidentId)).toEqual([]);
    expect(slack.messages.map((m) => m.method)).toEqual(['chat.postMessage']);
    expect(slack.tasks.pending).toBe(1);
    await slack.close();
  });

  it('a signed reject resolves approved: false and the approval task throws ApprovalRejectedError', async () => {
    const { slack } = standIn({ answer: 'reject', clickers: [BOB] });
    const req = request();
    await expect(approvalTask(slack, req)).rejects.toMatchObject({
      name: 'ApprovalRejectedError',
      message: expect.stringContaining(`${BOB} rejected the data-loss approval`),
    });
    expect(slack.clicks).toEqual([expect.objectContaining({ user: BOB, statusCode: 200, code: 'REJECTED' })]);
    expect((await control.listAudit('orders', req.incidentId)).map((e) => e.outcome)).toEqual(
      expect.arrayContaining(['rejected']),
    );
    await slack.close();
  });

  it('two-person: two distinct approvers click, the second decides', async () => {
    const { slack } = standIn({ answer: 'approve', twoPerson: true });
    const decision = await slack.requestApproval(request());
    expect(decision).toMatchObject({ approved: true, by: `${ALICE},${BOB}` });
    expect(slack.clicks.map((c) => c.code)).toEqual(['VOTE_RECORDED', 'APPROVED']);
    await slack.close();
  });

  it('over HTTP (base64 body, like a function URL): approve works, then a second click on the stale message is refused', async () => {
    const { slack } = standIn({ answer: 'approve', transport: 'http' });
    const decision = await slack.requestApproval(request());
    expect(decision.approved).toBe(true);
    const ref = { channel: 'C0DRILL', ts: slack.messages[0]?.ts ?? '' };
    const again = await slack.click(ref, BOB, 'reject');
    expect(again.statusCode).toBe(409);
    expect(JSON.parse(again.body)).toMatchObject({ code: 'ALREADY_DECIDED' });
    expect(slack.messages.at(-1)).toMatchObject({ method: 'chat.postEphemeral', user: BOB });
    await slack.close();
  });

  it('a replayed or unsigned click is refused like a forged one', async () => {
    const { slack } = standIn({ answer: 'silent' });
    const req = request();
    const waiting = watch(slack.requestApproval(req));
    const posted = await vi.waitFor(() => {
      const m = slack.messages.find((x) => x.method === 'chat.postMessage');
      if (!m?.ts) throw new Error('the approval message is not posted yet');
      return { channel: m.channel, ts: m.ts };
    });
    const ref = posted;
    const stale = await slack.click(ref, ALICE, 'approve', {
      timestampSeconds: Math.floor(Date.now() / 1000) - 600,
    });
    const unsigned = await slack.click(ref, ALICE, 'approve', { unsigned: true });
    expect([stale.statusCode, unsigned.statusCode]).toEqual([401, 401]);
    expect(slack.clicks.map((c) => c.code)).toEqual(['TIMESTAMP_STALE', 'SIGNATURE_MISSING']);
    // Refused means nothing changed: the approval, its audit, the message and the waiting task.
    await drain();
    expect(waiting.settled()).toBe(false);
    expect(await approvals.get(slack.clicks[0]?.approvalId ?? '')).toMatchObject({
      status: 'pending',
      votes: [],
      decision: null,
    });
    expect(await control.listAudit('orders', req.incidentId)).toEqual([]);
    expect(slack.messages.map((m) => m.method)).toEqual(['chat.postMessage']);
    expect(slack.tasks.pending).toBe(1);
    await slack.close();
  });
});
