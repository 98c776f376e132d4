import middy from '@middy/core';
import { WebClient } from '@slack/web-api';
import { DynamoApprovalStore } from '#adapters/dynamodb/approval-store.js';
import { WebApiSlackChat } from '#adapters/slack/web-api-chat.js';
import { controlTableClient } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { logger, logTo } from '#commons/logger.js';
import { type RequestApprovalDeps, requestApproval } from '#commons/request-approval-core.js';
import { secretByArnEnv } from '#commons/slack-secrets.js';
import { approvalPayloadSchema } from '#core/approval-payload.js';
import { ValidationError } from '#core/errors.js';
import { StepInputError } from '#core/failover-errors.js';
import { systemClock } from '#core/ports.js';

let deps: Promise<RequestApprovalDeps> | undefined;

/** Built once per container; the bot token comes from Secrets Manager by ARN. */
async function awsDeps(): Promise<RequestApprovalDeps> {
  const slack = configFromEnv().approval.slack;
  if (!slack) {
    throw new ValidationError('the approval task needs Slack', [
      { field: 'approval.slack', message: 'is required for an approval task to reach a person' },
    ]);
  }
  const token = await secretByArnEnv('SLACK_BOT_TOKEN_SECRET_ARN');
  // A few quick retries only: the state machine retries the whole invocation on Lambda errors.
  const web = new WebClient(token, { retryConfig: { retries: 2, maxTimeout: 2000 }, timeout: 5000 });
  return {
    approvals: new DynamoApprovalStore(controlTableClient, requiredEnv('CONTROL_TABLE')),
    slack: new WebApiSlackChat(web),
    clock: systemClock,
    channel: slack.channel,
    approvers: slack.approvers,
    twoPerson: slack.twoPerson,
    taskRegion: requiredEnv('AWS_REGION'),
    log: logTo(logger),
  };
}

/**
 * Failover and failback: the `lambda:invoke.waitForTaskToken` approval tasks (ApproveFailover, ApproveDataLoss,
 * ApproveFailback). Stores the approval, posts to Slack and returns; the execution waits for the callback.
 */
export const handler = middy<unknown, { approvalId: string; channel: string; ts: string }>().handler(
  async (event) => {
    const parsed = approvalPayloadSchema.safeParse(event);
    if (!parsed.success) throw new StepInputError(`bad approval payload: ${parsed.error.message}`);
    deps ??= awsDeps().catch((err) => {
      deps = undefined;
      throw err;
    });
    const { approval } = await requestApproval(parsed.data, await deps);
    return { approvalId: approval.id, channel: approval.message!.channel, ts: approval.message!.ts };
  },
);
