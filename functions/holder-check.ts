import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { answerHolderCheck } from '#commons/holder-check-core.js';
import { logger } from '#commons/logger.js';
import { boundedRequests } from '#commons/request-timeouts.js';
import { systemClock } from '#core/ports.js';

const config = configFromEnv();
// A Route 53 health checker wants the status within two seconds of connecting ("How Amazon Route 53 determines
// whether a health check is healthy", Route 53 developer guide): one read, bounded, no retry. A failed read is
// one failed check, and the health check's failure threshold absorbs a single one.
export const READ_TIMEOUT_MS = 1_000;
// This function runs only in regions that hold the control table, so the read is local to the replica.
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ maxAttempts: 1, requestHandler: boundedRequests(READ_TIMEOUT_MS) }),
);
const leases = new DynamoLeaseStore(client, requiredEnv('CONTROL_TABLE'), config.lease, systemClock, {
  attempts: 1,
  baseDelayMs: 0,
});
const applicationRegions = [config.primary.region, config.standby.region];

/**
 * The holder check as a function URL (auth NONE: Route 53 health checkers cannot sign requests), for
 * applications that cannot serve `/cutover/holder` themselves: `GET ?region=us-east-1` answers 200 only while
 * that region holds an unexpired lease, on this lease-authority region's clock.
 */
export const handler = middy<LambdaFunctionURLEvent, LambdaFunctionURLResult>().handler(async (event) =>
  answerHolderCheck(
    { method: event.requestContext.http.method, rawQuery: event.rawQueryString ?? '' },
    {
      application: config.application,
      applicationRegions,
      leases,
      timing: config.lease,
      clock: systemClock,
      log: (message, fields) => logger.warn(message, fields),
    },
  ),
);
