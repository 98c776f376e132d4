import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { WebClient } from '@slack/web-api';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SfnTaskCallback } from '#adapters/aws/sfn-task-callback.js';
import { SlackNotifier } from '#adapters/slack/slack-notifier.js';
import { WebApiSlackChat } from '#adapters/slack/web-api-chat.js';

const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

const decision = {
  approved: true,
  by: 'U01ALICE',
  at: 1_700_000_000_000,
  reason: 'approved in Slack by U01ALICE',
};

describe('SfnTaskCallback', () => {
  it('answers in the region of the waiting execution, with the exact commands', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({}).on(SendTaskFailureCommand).resolves({});
    const regions: string[] = [];
    const tasks = new SfnTaskCallback((region) => {
      regions.push(region);
      return new SFNClient({ region });
    });
    await tasks.approve({ token: 'tok-1', region: 'us-east-2' }, decision);
    await tasks.reject(
      { token: 'tok-2', region: 'eu-west-1' },
      { ...decision, approved: false, reason: 'no' },
    );
    expect(regions).toEqual(['us-east-2', 'eu-west-1']);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tok-1', output: JSON.stringify(decision) },
    ]);
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tok-2', error: 'ApprovalRejectedError', cause: 'U01ALICE rejected the approval: no' },
    ]);
  });

  it('maps a task that is gone to TASK_GONE and anything else to CALLBACK_FAILED', async () => {
    const tasks = new SfnTaskCallback((region) => new SFNClient({ region, maxAttempts: 1 }));
    sfn.on(SendTaskSuccessCommand).rejectsOnce(new TaskDoesNotExist({ message: 'gone', $metadata: {} }));
    await expect(tasks.approve({ token: 't', region: 'us-east-2' }, decision)).rejects.toMatchObject({
      name: 'TaskCallbackError',
      code: 'TASK_GONE',
    });
    sfn.on(SendTaskFailureCommand).rejectsOnce(new InvalidToken({ message: 'bad token', $metadata: {} }));
    await expect(tasks.reject({ token: 't', region: 'us-east-2' }, decision)).rejects.toMatchObject({
      code: 'TASK_GONE',
    });
    sfn.reset();
    sfn
      .on(SendTaskSuccessCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    await expect(tasks.approve({ token: 't', region: 'us-east-2' }, decision)).rejects.toMatchObject({
      code: 'CALLBACK_FAILED',
    });
  });
});

/** slack.com, standing in on 127.0.0.1: records each Web API call and answers like Slack does. */
let server: Server;
let base: string;
const calls: { method: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
let fail: string | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '');
      const form = Object.fromEntries(new URLSearchParams(raw));
      const body = Object.fromEntries(
        Object.entries(form).map(([k, v]) => [k, k === 'blocks' ? JSON.parse(v) : v]),
      );
      calls.push({ method, auth: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      if (fail) return res.end(JSON.stringify({ ok: false, error: fail }));
      res.end(JSON.stringify({ ok: true, channel: 'C0FAILOVER', ts: '1700000000.000100' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('WebApiSlackChat against a local slack.com', () => {
  const client = () =>
    new WebApiSlackChat(new WebClient('xoxb-test-token', { slackApiUrl: base, retryConfig: { retries: 0 } }));
  const message = {
    text: 'Fail over orders? (approval needed)',
    blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'hello' } }],
  };

  it('posts, updates and answers privately with the bot token; post returns the channel id and ts', async () => {
    calls.length = 0;
    fail = undefined;
    const chat = client();
    const ref = await chat.post('#failover', message);
    expect(ref).toEqual({ channel: 'C0FAILOVER', ts: '1700000000.000100' });
    await chat.update(ref, message);
    await chat.ephemeral('C0FAILOVER', 'U09MALLORY', 'you are not an approver');
    expect(calls.map((c) => [c.method, c.auth])).toEqual([
      ['chat.postMessage', 'Bearer xoxb-test-token'],
      ['chat.update', 'Bearer xoxb-test-token'],
      ['chat.postEphemeral', 'Bearer xoxb-test-token'],
    ]);
    expect(calls[0]?.body).toMatchObject({
      channel: '#failover',
      text: message.text,
      blocks: message.blocks,
    });
    expect(calls[1]?.body).toMatchObject({ channel: 'C0FAILOVER', ts: '1700000000.000100' });
    expect(calls[2]?.body).toMatchObject({ user: 'U09MALLORY', text: 'you are not an approver' });
  });

  it("turns Slack's errors into SlackError", async () => {
    fail = 'channel_not_found';
    await expect(client().post('#nope', message)).rejects.toMatchObject({
      name: 'SlackError',
      message: expect.stringContaining('channel_not_found'),
    });
    fail = undefined;
  });
});

describe('SlackNotifier', () => {
  it('posts the notification and its key facts to the channel, resolving the chat once', async () => {
    const posts: { channel: string; text: string; blocks: unknown }[] = [];
    let built = 0;
    const notifier = new SlackNotifier(async () => {
      built += 1;
      return {
        post: async (channel, m) => {
          posts.push({ channel, text: m.text, blocks: m.blocks });
          return { channel: 'C0FAILOVER', ts: '1.1' };
        },
        update: async () => {},
        ephemeral: async () => {},
      };
    }, '#failover');
    await notifier.notify('Failover of orders aborted at approval: <@U1> rejected.', {
      incidentId: 'orders#7#1',
      application: 'orders',
      kind: 'failover',
      code: 'APPROVAL_REJECTED',
      timings: { totalMs: 1 },
    });
    await notifier.notify('second', {});
    expect(built).toBe(1);
    expect(posts[0]).toEqual({
      channel: '#failover',
      text: 'Failover of orders aborted at approval: &lt;@U1&gt; rejected.',
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'Failover of orders aborted at approval: &lt;@U1&gt; rejected.' },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'incidentId: orders#7#1 · application: orders · kind: failover · code: APPROVAL_REJECTED',
            },
          ],
        },
      ],
    });
    expect(posts[1]?.blocks).toHaveLength(1);
  });
});
