import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { WebClient } from '@slack/web-api';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { SfnTaskCallback } from '#adapters/aws/sfn-task-callback.js';
import { DynamoApprovalStore } from '#adapters/dynamodb/approval-store.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { WebApiSlackChat } from '#adapters/slack/web-api-chat.js';
import { controlTableClient } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { logger } from '#commons/logger.js';
import { boundedRequests } from '#commons/request-timeouts.js';
import { handleSlackInteraction, type SlackCallbackDeps } from '#commons/slack-callback-core.js';
import { secretSourceByArnEnv } from '#commons/slack-secrets.js';
import { systemClock } from '#core/ports.js';

// Slack wants the answer within 3 s: one quick retry at most, and a short timeout, for every call on the path.
const sfnClients = new Map<string, SFNClient>();
const sfnFor = (region: string) => {
  let c = sfnClients.get(region);
  if (!c) {
    c = new SFNClient({ region, maxAttempts: 2, requestHandler: boundedRequests(1000) });
    sfnClients.set(region, c);
  }
  return c;
};

const controlTable = requiredEnv('CONTROL_TABLE');
const approvals = new DynamoApprovalStore(controlTableClient, controlTable);
const control = new DynamoControlStore(controlTableClient, controlTable);
const tasks = new SfnTaskCallback(sfnFor);
const signingSecret = secretSourceByArnEnv('SLACK_SIGNING_SECRET_ARN');
const botToken = secretSourceByArnEnv('SLACK_BOT_TOKEN_SECRET_ARN');
const slackConfig = configFromEnv().approval.slack;
const workspace = { teamId: slackConfig?.teamId, appId: slackConfig?.appId };

/** Per invocation: the secrets are cached with a bounded age (commons/slack-secrets.ts), so rotation reaches us. */
async function awsDeps(): Promise<SlackCallbackDeps> {
  const token = await botToken.current();
  return {
    signingSecret,
    workspace,
    approvals,
    tasks,
    control,
    slack: new WebApiSlackChat(new WebClient(token, { retryConfig: { retries: 0 }, timeout: 1200 })),
    clock: systemClock,
    log: (level, message, fields) => logger[level](message, fields),
    slackBudgetMs: 1500,
  };
}

/** The Slack app's interactivity request URL (a Lambda function URL, auth NONE: the signature is the auth). */
export const handler = middy<LambdaFunctionURLEvent, LambdaFunctionURLResult>().handler(async (event) => {
  const deps = await awsDeps();
  return handleSlackInteraction(
    {
      method: event.requestContext.http.method,
      headers: event.headers,
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
    },
    deps,
  );
});
