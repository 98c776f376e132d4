import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { WebClient } from '@slack/web-api';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { SfnTaskCallback } from './adapters/aws/sfn-task-callback.js';
import { DynamoApprovalStore } from './adapters/dynamodb/approval-store.js';
import { DynamoControlStore } from './adapters/dynamodb/control-store.js';
import { WebApiSlackChat } from './adapters/slack/web-api-chat.js';
import { controlTableClient } from './commons/clients.js';
import { requiredEnv } from './commons/env-config.js';
import { logger } from './commons/logger.js';
import { handleSlackInteraction, type SlackCallbackDeps } from './commons/slack-callback-core.js';
import { secretByArnEnv } from './commons/slack-secrets.js';
import { systemClock } from './core/ports.js';

// Slack wants the answer within 3 s: one quick retry at most, and a short timeout, for every call on the path.
const sfnClients = new Map<string, SFNClient>();
const sfnFor = (region: string) => {
  let c = sfnClients.get(region);
  if (!c) {
    c = new SFNClient({ region, maxAttempts: 2, requestHandler: { requestTimeout: 1000 } });
    sfnClients.set(region, c);
  }
  return c;
};

let deps: Promise<SlackCallbackDeps> | undefined;

async function awsDeps(): Promise<SlackCallbackDeps> {
  const [botToken, signingSecret] = await Promise.all([
    secretByArnEnv('SLACK_BOT_TOKEN_SECRET_ARN'),
    secretByArnEnv('SLACK_SIGNING_SECRET_ARN'),
  ]);
  const controlTable = requiredEnv('CONTROL_TABLE');
  return {
    signingSecret,
    approvals: new DynamoApprovalStore(controlTableClient, controlTable),
    tasks: new SfnTaskCallback(sfnFor),
    control: new DynamoControlStore(controlTableClient, controlTable),
    slack: new WebApiSlackChat(new WebClient(botToken, { retryConfig: { retries: 0 }, timeout: 1200 })),
    clock: systemClock,
    log: (level, message, fields) => logger[level](message, fields),
    slackBudgetMs: 1500,
  };
}

/** The Slack app's interactivity request URL (a Lambda function URL, auth NONE: the signature is the auth). */
export const handler = middy<LambdaFunctionURLEvent, LambdaFunctionURLResult>().handler(async (event) => {
  deps ??= awsDeps().catch((err) => {
    deps = undefined;
    throw err;
  });
  return handleSlackInteraction(
    {
      method: event.requestContext.http.method,
      headers: event.headers,
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
    },
    await deps,
  );
});
