import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-publisher.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { eventBridge } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { runHeartbeat } from '#commons/heartbeat-loop.js';
import { logger, logTo } from '#commons/logger.js';
import { boundedRequests } from '#commons/request-timeouts.js';
import { systemClock } from '#core/ports.js';

const config = configFromEnv();
const region = requiredEnv('AWS_REGION');
// The lease table may live in another region (an arbiter, or the nearest MRSC replica). A renewal that takes
// longer than retryTimeout is abandoned, so that two attempts fit in the lease (config rule I6).
const leaseClient = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: process.env.LEASE_TABLE_REGION || region,
    maxAttempts: 1,
    requestHandler: boundedRequests(config.lease.retryTimeoutMs),
  }),
);
const leases = new DynamoLeaseStore(leaseClient, requiredEnv('CONTROL_TABLE'), config.lease, systemClock);
const publisher = new EventBridgePublisher(eventBridge, requiredEnv('EVENT_BUS_NAME'));

/**
 * Runs in each application region, started once a minute; renews the lease every renew interval inside the
 * invocation while the region's own health check passes.
 */
export const handler = middy<ScheduledEvent, { ticks: number; last: string | null }>().handler(
  async (_event, context: Context) => {
    const ticks = await runHeartbeat({
      config,
      region,
      leases,
      probe: probeHealth,
      publisher,
      clock: systemClock,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      remainingMs: () => context.getRemainingTimeInMillis(),
      ...(process.env.HEALTH_URL ? { healthUrl: process.env.HEALTH_URL } : {}),
      log: logTo(logger),
    });
    return { ticks: ticks.length, last: ticks.at(-1)?.code ?? null };
  },
);
