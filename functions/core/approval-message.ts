import type { KnownBlock } from '@slack/web-api';
import type { Approval, SlackMessage } from './approval-ports.js';
import type { ApprovalKind } from './failover-ports.js';

/**
 * The Slack message of an approval, as Block Kit. Pure: the same approval renders the same message, so the
 * request function, the callback (chat.update) and the drill's timeline all show one thing. The task token is
 * not part of the view: the buttons carry the approval id and nothing else.
 */
export type ApprovalView = Omit<Approval, 'taskToken' | 'taskRegion' | 'message'>;

export const APPROVE_ACTION = 'approve';
export const REJECT_ACTION = 'reject';
export const ACTIONS_BLOCK = 'approval-actions';

// Slack's limits: header text 150 characters, section text 3000.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const VALUE_MAX = 300;

export function approvalMessage(view: ApprovalView): SlackMessage {
  const { request: r } = view;
  const title = truncate(titleOf(r.kind, r.application, r.from, r.to), HEADER_MAX);
  const choice = choices(r.kind, esc(r.from), esc(r.to));
  const label = labels(r.kind);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: title } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Why:* ${esc(r.reason) || 'no reason given'}`, SECTION_MAX) },
    },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Application*\n${esc(r.application)}` },
        { type: 'mrkdwn', text: `*Incident*\n${esc(r.incidentId)}` },
        { type: 'mrkdwn', text: `*From*\n${esc(r.from)}` },
        { type: 'mrkdwn', text: `*To*\n${esc(r.to)}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: evidenceText(r.evidence) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${label.approve}:* ${choice.approve}\n*${label.reject}:* ${choice.reject}`,
      },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: whoMayAnswer(view) }] },
  ];
  if (view.status === 'pending') {
    if (view.votes.length > 0) {
      blocks.push({
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `:ballot_box_with_check: ${view.votes.length} of 2 approvals: ${view.votes.map(mention).join(', ')}. A second, different approver is needed.`,
          },
        ],
      });
    }
    blocks.push({
      type: 'actions',
      block_id: ACTIONS_BLOCK,
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: label.approve },
          value: view.id,
          confirm: {
            title: { type: 'plain_text', text: `${label.approve}?` },
            text: { type: 'mrkdwn', text: choice.approve },
            confirm: { type: 'plain_text', text: label.approve },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        {
          type: 'button',
          action_id: REJECT_ACTION,
          style: 'danger',
          text: { type: 'plain_text', text: label.reject },
          value: view.id,
        },
      ],
    });
  } else if (view.decision) {
    const d = view.decision;
    const mark = d.approved ? `:white_check_mark: *${label.approved}*` : `:x: *${label.rejected}*`;
    const by = d.by.split(',').map(mention).join(' and ');
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${mark} by ${by} at ${slackDate(d.at)}. ${esc(d.reason)}` }],
    });
  }
  const verdict =
    view.status === 'pending' ? 'approval needed' : view.status === 'approved' ? 'approved' : 'rejected';
  // The fallback text is read as mrkdwn too (notifications); the header above is plain text and needs no escaping.
  return { text: `${esc(title)} (${verdict})`, blocks };
}

function titleOf(kind: ApprovalKind, app: string, from: string, to: string): string {
  switch (kind) {
    case 'failover':
      return `Fail over ${app} from ${from} to ${to}?`;
    case 'data-loss':
      return `Promote ${to} for ${app} and accept data loss?`;
    case 'failback':
      return `Fail back ${app} from ${from} to ${to}?`;
    case 'hook':
      return `A hook failed after ${app} moved to ${to}: continue or fail?`;
  }
}

/**
 * The buttons' words. The callback reads only the action ids (approve, reject); a failed hook's question is
 * answered "Continue" or "Fail", since the traffic has moved and neither answer approves a move.
 */
function labels(kind: ApprovalKind) {
  return kind === 'hook'
    ? { approve: 'Continue', reject: 'Fail', approved: 'Continued', rejected: 'Failed' }
    : { approve: 'Approve', reject: 'Reject', approved: 'Approved', rejected: 'Rejected' };
}

/** What each button does, in the words of the state machine that waits for it. */
export function choices(kind: ApprovalKind, from: string, to: string): { approve: string; reject: string } {
  switch (kind) {
    case 'failover':
      return {
        approve: `fence ${from} (its lease is revoked, it can no longer write), promote the standby database in ${to}, grant ${to} the lease and move the traffic to it.`,
        reject: `abort the failover. Nothing has changed yet: ${from} keeps the lease and the traffic.`,
      };
    case 'data-loss':
      return {
        approve: `promote ${to} although its replication lag is over the RPO budget: writes acknowledged in ${from} that have not reached ${to} are lost.`,
        reject: `abort before promotion. ${from} is already fenced: no region accepts writes until the lease is granted again.`,
      };
    case 'failback':
      return {
        approve: `planned switchover with zero data loss: fence ${from}, wait for replication lag 0, promote ${to}, grant it the lease and move the traffic.`,
        reject: `abort the failback: ${from} stays primary and nothing changes.`,
      };
    case 'hook':
      return {
        approve: `the run completes; the failed hook is recorded as continued, with your name, in the audit trail and the completed event. The traffic has already moved to ${to} and stays there.`,
        reject: `the run is reported failed at hooks-after-traffic, which pages. The traffic has already moved to ${to} and stays there: failing undoes nothing, it reports.`,
      };
  }
}

function whoMayAnswer(view: ApprovalView): string {
  const rule = !view.twoPerson
    ? 'One approver decides.'
    : view.request.kind === 'hook'
      ? 'Two different approvers must answer Continue; one Fail is enough to fail.'
      : 'Two different approvers must approve; one reject is enough to reject.';
  const timeout =
    view.request.kind === 'hook'
      ? 'that counts as Fail'
      : 'the timeout policy applies (a failback is always aborted)';
  return `Who may answer: ${view.approvers.map(mention).join(', ') || 'nobody'}. ${rule} If nobody answers by ${slackDate(view.expiresAt)}, ${timeout}.`;
}

function evidenceText(evidence: Record<string, unknown>): string {
  const lines = Object.entries(evidence).map(([k, v]) => `• *${esc(k)}*: ${esc(valueText(v))}`);
  return truncate(`*Evidence*\n${lines.length ? lines.join('\n') : 'none given'}`, SECTION_MAX);
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return 'unknown';
  if (typeof v === 'string') return truncate(v, VALUE_MAX);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return truncate(JSON.stringify(v), VALUE_MAX);
}

const mention = (user: string) => `<@${user}>`;

/** Slack renders it in the reader's time zone; the fallback is UTC. */
function slackDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time_secs}|${new Date(ms).toISOString()}>`;
}

/** Slack's mrkdwn control characters: without escaping, a reason could ping `<!channel>` or forge a link. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
