import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-publisher.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { aggregate } from '#commons/aggregate.js';
import { controlTableClient, documentClient, eventBridge } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { logger, logTo } from '#commons/logger.js';
import { systemClock } from '#core/ports.js';

const config = configFromEnv();
const controlTable = requiredEnv('CONTROL_TABLE');
const deps = {
  config,
  region: requiredEnv('AWS_REGION'),
  votes: new DynamoVoteStore(documentClient, requiredEnv('VOTES_TABLE'), config.watchers),
  leases: new DynamoLeaseStore(controlTableClient, controlTable, config.lease, systemClock),
  control: new DynamoControlStore(controlTableClient, controlTable),
  events: new EventBridgePublisher(eventBridge, requiredEnv('EVENT_BUS_NAME')),
  clock: systemClock,
  log: logTo(logger),
};

/** Stream-triggered: the event source mapping reports batch item failures (ReportBatchItemFailures). */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>().handler(async (event) => {
  const result = await aggregate(event.Records, deps);
  for (const s of result.skipped) logger.warn('stream record skipped', s);
  return { batchItemFailures: result.batchItemFailures };
});
