import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-publisher.js';
import { replicaLeaseStore } from '#adapters/dynamodb/replica-lease-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { eventBridge } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { runHeartbeat } from '#commons/heartbeat-loop.js';
import { logger, logTo } from '#commons/logger.js';
import { boundedLeaseClient } from '#commons/request-timeouts.js';
import { systemClock } from '#core/ports.js';

const config = configFromEnv();
const region = requiredEnv('AWS_REGION');
// Every lease-authority replica, this region's first: a renewal that one cannot answer within its share of
// retryTimeout goes to the next, and the whole renewal ends within retryTimeout (config rule I6).
const leases = replicaLeaseStore({
  config,
  region,
  tableName: requiredEnv('CONTROL_TABLE'),
  clock: systemClock,
  clientFor: (r) => boundedLeaseClient(r, config.lease.retryTimeoutMs),
  onFallback: (from, to, error) =>
    logger.warn('lease replica did not answer; trying the next', { from, to, error: String(error) }),
});
const publisher = new EventBridgePublisher(eventBridge, requiredEnv('EVENT_BUS_NAME'));
const metrics = new Metrics({ namespace: 'Cutover', serviceName: 'cutover-heartbeat' });
metrics.addDimension('application', config.application);

/**
 * For applications that are Lambda functions (lease.keeper `scheduled`): started once a minute in each
 * application region, each run renews for lease.scheduledRunMs (longer than the minute, so runs overlap and one
 * missed start leaves no gap; the conditional renewal makes the overlap harmless). Its Lambda timeout is above
 * the run, so the run, not Lambda, decides when it ends.
 */
export const handler = middy<ScheduledEvent, { ticks: number; last: string | null }>()
  .use(logMetrics(metrics))
  .handler(async (_event, context: Context) => {
    const runEnd = Date.now() + config.lease.scheduledRunMs;
    const ticks = await runHeartbeat({
      config,
      region,
      leases,
      probe: probeHealth,
      publisher,
      clock: systemClock,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      remainingMs: () => Math.min(context.getRemainingTimeInMillis(), runEnd - Date.now()),
      ...(process.env.HEALTH_URL ? { healthUrl: process.env.HEALTH_URL } : {}),
      metric: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
      log: logTo(logger),
    });
    return { ticks: ticks.length, last: ticks.at(-1)?.code ?? null };
  });
