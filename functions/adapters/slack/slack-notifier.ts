import type { KnownBlock } from '@slack/web-api';
import type { SlackChat } from '#core/approval-ports.js';
import type { Notifier } from '#core/failover-ports.js';

// Slack's limits: section text 3000 characters, context element text 3000.
const TEXT_MAX = 3000;

/**
 * Notifications (completed, aborted, failed) as a plain Slack message in the approval channel. The chat is
 * resolved on first use, because the bot token comes from Secrets Manager after the deps are built.
 */
export class SlackNotifier implements Notifier {
  private chat: Promise<SlackChat> | undefined;

  constructor(
    private readonly chatFor: () => Promise<SlackChat>,
    private readonly channel: string,
  ) {}

  async notify(message: string, detail: Record<string, unknown>): Promise<void> {
    this.chat ??= this.chatFor().catch((err) => {
      this.chat = undefined;
      throw err;
    });
    const facts = ['incidentId', 'application', 'kind', 'from', 'to', 'code', 'step']
      .filter((k) => detail[k] !== undefined && detail[k] !== null)
      .map((k) => `${k}: ${String(detail[k])}`)
      .join(' · ');
    const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(esc(message)) } }];
    if (facts) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(esc(facts)) }] });
    await (await this.chat).post(this.channel, { text: clip(esc(message)), blocks });
  }
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string): string {
  return s.length <= TEXT_MAX ? s : `${s.slice(0, TEXT_MAX - 1)}…`;
}
