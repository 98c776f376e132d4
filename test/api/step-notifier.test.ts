import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type WebAPICallResult, WebClient } from '@slack/web-api';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SlackNotifier } from '#adapters/slack/slack-notifier.js';
import { logger } from '#commons/logger.js';
import { notifierFor } from '#steps/aws-deps.js';
import { exampleConfig } from '../support/fixtures.js';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:cutover/orders/slack-bot-token-AbCdEf';

// Slack's Web API without the network: every chat method of WebClient goes through apiCall.
const apiCall = vi.spyOn(WebClient.prototype, 'apiCall');

beforeEach(() => {
  vi.stubEnv('AWS_REGION', 'us-east-2');
  vi.stubEnv('SLACK_BOT_TOKEN_SECRET_ARN', ARN);
  sm.on(GetSecretValueCommand).resolves({ SecretString: 'xoxb-test-token\n' });
  apiCall.mockResolvedValue({
    ok: true,
    channel: 'C0123456789',
    ts: '1700000000.000100',
  } as WebAPICallResult);
});
afterEach(() => {
  sm.reset();
  apiCall.mockReset();
});
afterAll(() => {
  sm.restore();
  apiCall.mockRestore();
  vi.unstubAllEnvs();
});

describe('the step functions’ notifier on AWS', () => {
  it('posts to the approval channel with the bot token from Secrets Manager, read once', async () => {
    const notifier = notifierFor(exampleConfig());
    expect(notifier).toBeInstanceOf(SlackNotifier);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    await notifier.notify('Failover of orders completed', {
      incidentId: 'orders#7#1',
      application: 'orders',
    });
    await notifier.notify('second', {});
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([ARN]);
    expect(
      apiCall.mock.calls.map(([method, options]) => [method, (options as { channel: string }).channel]),
    ).toEqual([
      ['chat.postMessage', 'C0123456789'],
      ['chat.postMessage', 'C0123456789'],
    ]);
    expect(apiCall.mock.calls[0]?.[1]).toMatchObject({ text: 'Failover of orders completed' });
    expect(apiCall.mock.contexts.map((client) => (client as WebClient).token)).toEqual([
      'xoxb-test-token',
      'xoxb-test-token',
    ]);
  });

  it('logs the notification when Slack is not configured', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => {});
    const notifier = notifierFor(exampleConfig((c) => (c.approval = { ambiguousPolicy: 'abort' })));
    expect(notifier).not.toBeInstanceOf(SlackNotifier);
    await notifier.notify('Failover of orders completed', { incidentId: 'orders#7#1' });
    expect(warn).toHaveBeenCalledWith('Failover of orders completed', {
      notification: { incidentId: 'orders#7#1' },
    });
    expect(apiCall).not.toHaveBeenCalled();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    warn.mockRestore();
  });

  it('is what the step deps use, from the configuration in the environment', async () => {
    vi.stubEnv('CONTROL_TABLE', 'cutover-orders-control');
    vi.stubEnv('VOTES_TABLE', 'cutover-orders-votes');
    vi.stubEnv('EVENT_BUS_NAME', 'cutover-orders');
    vi.stubEnv(
      'CUTOVER_CONFIG',
      readFileSync(new URL('../../examples/cutover.example.json', import.meta.url), 'utf8'),
    );
    const { awsStepDeps } = await import('#steps/aws-deps.js');
    expect(awsStepDeps().notifier).toBeInstanceOf(SlackNotifier);
  });
});
