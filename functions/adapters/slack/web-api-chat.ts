import type { WebClient } from '@slack/web-api';
import { SlackError } from '#core/approval-errors.js';
import type { SlackChat, SlackMessage, SlackMessageRef } from '#core/approval-ports.js';

/** The three chat methods on the official Web API client. Its errors (platform, HTTP, rate limit) become SlackError. */
export class WebApiSlackChat implements SlackChat {
  constructor(private readonly client: WebClient) {}

  async post(channel: string, message: SlackMessage): Promise<SlackMessageRef> {
    const res = await this.client.chat
      .postMessage({ channel, text: message.text, blocks: message.blocks })
      .catch((err) => {
        throw new SlackError(`chat.postMessage to ${channel} failed: ${(err as Error).message}`, {
          cause: err,
        });
      });
    if (!res.ts || !res.channel) throw new SlackError(`chat.postMessage to ${channel} returned no ts`);
    // The answer's channel is the id, also when the configuration names the channel (#failover).
    return { channel: res.channel, ts: res.ts };
  }

  async update(ref: SlackMessageRef, message: SlackMessage): Promise<void> {
    await this.client.chat
      .update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks })
      .catch((err) => {
        throw new SlackError(`chat.update of ${ref.channel}/${ref.ts} failed: ${(err as Error).message}`, {
          cause: err,
        });
      });
  }

  async ephemeral(channel: string, user: string, text: string): Promise<void> {
    await this.client.chat.postEphemeral({ channel, user, text }).catch((err) => {
      throw new SlackError(`chat.postEphemeral to ${user} failed: ${(err as Error).message}`, { cause: err });
    });
  }
}
