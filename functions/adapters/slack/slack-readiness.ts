import type { WebClient } from '@slack/web-api';
import type { SlackReading } from '#core/readiness.js';

/**
 * Whether the bot token works and can reach the approval channel, with two read-only Web API methods: auth.test
 * (the token's user and workspace) and conversations.info (the channel exists for this token; `is_member` tells
 * whether the bot can post there). Neither posts anything.
 */
export async function readSlack(client: WebClient, channel: string): Promise<SlackReading> {
  const auth: SlackReading['auth'] = await client.auth
    .test()
    .then((r) => ({ team: r.team ?? r.team_id ?? '?', user: r.user ?? r.user_id ?? '?' }))
    .catch((err: Error) => ({ error: err.message }));
  if ('error' in auth) return { channel, auth, info: { error: 'not tried: the token does not work' } };
  const info: SlackReading['info'] = await client.conversations
    .info({ channel })
    .then((r) => ({ name: r.channel?.name ?? channel, isMember: r.channel?.is_member === true }))
    .catch((err: Error) => ({ error: err.message }));
  return { channel, auth, info };
}
