import { describe, expect, it } from 'vitest';
import { ACTIONS_BLOCK, approvalMessage } from '#core/approval-message.js';
import type { Approval } from '#core/approval-ports.js';

const TOKEN = 'AAAAKgAAAAIAAAAAAAAAAfake-task-token-must-never-reach-slack';

function approval(over: Partial<Approval> = {}): Approval {
  return {
    id: '6f1c2a5e-9b1d-4c1e-8f3a-2d4b5c6d7e8f',
    taskToken: TOKEN,
    taskRegion: 'us-east-2',
    request: {
      incidentId: 'orders#7#1',
      application: 'orders',
      kind: 'failover',
      from: 'us-east-1',
      to: 'us-west-2',
      reason: 'votes split: 2 of 5 watchers see us-east-1 down',
      evidence: {
        unhealthyVoters: ['eu-west-1', 'ap-south-1'],
        healthyVoters: ['eu-central-1', 'sa-east-1', 'ca-central-1'],
        lagMs: 1200,
        holder: 'us-east-1',
        epoch: 7,
        standbyHealthy: true,
        note: null,
      },
      timeoutSeconds: 900,
    },
    approvers: ['U012AB3CD', 'U045EF6GH'],
    twoPerson: false,
    createdAt: 1_700_000_000_000,
    expiresAt: 1_700_000_900_000,
    status: 'pending',
    votes: [],
    decision: null,
    message: { channel: 'C0FAILOVER', ts: '1700000000.000100' },
    ...over,
  };
}

const json = (x: unknown) => JSON.stringify(x);
const actions = (m: ReturnType<typeof approvalMessage>) => m.blocks.filter((b) => b.type === 'actions');

describe('approval message (Block Kit)', () => {
  it('never carries the task token; both buttons carry only the approval id', () => {
    const a = approval();
    const m = approvalMessage(a);
    expect(json(m)).not.toContain(TOKEN);
    expect(json(m)).not.toContain('us-east-2'); // the task region is not Slack's business either
    const [block] = actions(m);
    expect(block).toMatchObject({ block_id: ACTIONS_BLOCK });
    const buttons = block?.type === 'actions' ? block.elements : [];
    expect(buttons.map((b) => (b.type === 'button' ? [b.action_id, b.value] : null))).toEqual([
      ['approve', a.id],
      ['reject', a.id],
    ]);
  });

  it('says what is happening, shows the evidence and what each choice will do', () => {
    const text = json(approvalMessage(approval()));
    expect(text).toContain('Fail over orders from us-east-1 to us-west-2?');
    expect(text).toContain('votes split: 2 of 5 watchers see us-east-1 down');
    expect(text).toContain('*lagMs*: 1200');
    expect(text).toContain('*holder*: us-east-1');
    expect(text).toContain('*epoch*: 7');
    expect(text).toContain('*unhealthyVoters*: [\\"eu-west-1\\",\\"ap-south-1\\"]');
    expect(text).toContain('*note*: unknown');
    expect(text).toContain('*Approve:* fence us-east-1');
    expect(text).toContain('*Reject:* abort the failover');
    expect(text).toContain('<@U012AB3CD>, <@U045EF6GH>');
  });

  it('words each kind for what its state machine does', () => {
    const dataLoss = json(
      approvalMessage(approval({ request: { ...approval().request, kind: 'data-loss' } })),
    );
    expect(dataLoss).toContain('accept data loss');
    expect(dataLoss).toContain('are lost');
    const failback = json(
      approvalMessage(approval({ request: { ...approval().request, kind: 'failback' } })),
    );
    expect(failback).toContain('Fail back orders');
    expect(failback).toContain('zero data loss');
  });

  it('asks about a failed afterTraffic hook as Continue or Fail, says the traffic has moved and a timeout is Fail', () => {
    const a = approval({
      request: {
        ...approval().request,
        kind: 'hook',
        reason:
          'hook purge-cache (lambda in us-west-2) after the traffic moved failed (CDN refused); its onFailure is ask',
        evidence: { 'hook purge-cache': 'lambda in us-west-2, INVOKE_FAILED: CDN refused' },
      },
    });
    const m = approvalMessage(a);
    const text = json(m);
    expect(text).toContain('A hook failed after orders moved to us-west-2: continue or fail?');
    expect(text).toContain('hook purge-cache (lambda in us-west-2)');
    expect(text).toContain('*hook purge-cache*: lambda in us-west-2, INVOKE_FAILED: CDN refused');
    expect(text).toContain('*Continue:* the run completes');
    expect(text).toContain(
      '*Fail:* the run is reported failed at hooks-after-traffic, which pages. The traffic has already moved to us-west-2 and stays there',
    );
    expect(text).toContain('that counts as Fail.');
    const buttons = actions(m).flatMap((b) => (b.type === 'actions' ? b.elements : []));
    // The callback reads the action ids, unchanged; only the words differ.
    expect(buttons.map((b) => (b.type === 'button' ? [b.action_id, b.text.text, b.value] : null))).toEqual([
      ['approve', 'Continue', a.id],
      ['reject', 'Fail', a.id],
    ]);
    const decided = approvalMessage({
      ...a,
      status: 'approved',
      decision: { approved: true, by: 'U012AB3CD', at: 1_700_000_100_000, reason: 'ok' },
    });
    expect(json(decided)).toContain(':white_check_mark: *Continued* by <@U012AB3CD>');
    expect(json(approvalMessage({ ...a, twoPerson: true }))).toContain(
      'Two different approvers must answer Continue; one Fail is enough to fail.',
    );
  });

  it('escapes mrkdwn in what it did not write, so a reason cannot ping the channel', () => {
    const m = approvalMessage(
      approval({ request: { ...approval().request, reason: '<!channel> & <https://evil|click>' } }),
    );
    expect(json(m)).not.toContain('<!channel>');
    expect(json(m)).toContain('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
  });

  it("keeps within Slack's limits with huge evidence", () => {
    const evidence = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'x'.repeat(1000)]));
    const m = approvalMessage(
      approval({ request: { ...approval().request, evidence, application: 'a'.repeat(400) } }),
    );
    for (const b of m.blocks) {
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
    }
    expect(m.blocks.length).toBeLessThanOrEqual(50);
  });

  it('shows the first vote under the two-person rule and keeps the buttons', () => {
    const m = approvalMessage(approval({ twoPerson: true, votes: ['U012AB3CD'] }));
    expect(json(m)).toContain('1 of 2 approvals: <@U012AB3CD>');
    expect(json(m)).toContain('Two different approvers must approve; one reject is enough to reject.');
    expect(actions(m)).toHaveLength(1);
  });

  it('once decided, shows who and when, and has no buttons left to click', () => {
    const approved = approvalMessage(
      approval({
        status: 'approved',
        votes: ['U012AB3CD', 'U045EF6GH'],
        decision: {
          approved: true,
          by: 'U012AB3CD,U045EF6GH',
          at: 1_700_000_060_000,
          reason: 'approved in Slack',
        },
      }),
    );
    expect(actions(approved)).toHaveLength(0);
    expect(json(approved)).toContain('*Approved* by <@U012AB3CD> and <@U045EF6GH> at <!date^1700000060^');
    expect(approved.text).toContain('(approved)');
    const rejected = approvalMessage(
      approval({
        status: 'rejected',
        decision: { approved: false, by: 'U045EF6GH', at: 1_700_000_060_000, reason: 'rejected in Slack' },
      }),
    );
    expect(actions(rejected)).toHaveLength(0);
    expect(json(rejected)).toContain('*Rejected* by <@U045EF6GH>');
  });
});
