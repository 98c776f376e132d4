import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { WebClient } from '@slack/web-api';
import { CloudWatchLagReader } from '#adapters/aws/cloudwatch-lag-reader.js';
import { RdsDatabasePromoter } from '#adapters/aws/rds-database-promoter.js';
import { IamPermissionReader, readDefinition } from '#adapters/aws/readiness-readers.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { HttpHolderCheckReader } from '#adapters/http/holder-check-reader.js';
import { readSlack } from '#adapters/slack/slack-readiness.js';
import { controlTableClient } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { logger } from '#commons/logger.js';
import { type ReadinessDeps, takeReadings } from '#commons/readiness-readings.js';
import { secretByArnEnv } from '#commons/slack-secrets.js';
import { holderCheckUrlOf } from '#core/holder.js';
import { systemClock } from '#core/ports.js';
import {
  evaluateReadiness,
  parseReadinessInput,
  type Readiness,
  substituteDefinition,
} from '#core/readiness.js';
import failbackAsl from '../statemachines/failback.asl.json' with { type: 'json' };
import failoverAsl from '../statemachines/failover.asl.json' with { type: 'json' };

const config = configFromEnv();
const metrics = new Metrics({ namespace: 'Cutover', serviceName: 'cutover-readiness' });
metrics.addDimension('application', config.application);

const rds = new Map<string, RDSClient>();
const cloudWatch = new Map<string, CloudWatchClient>();
const perRegion =
  <C>(m: Map<string, C>, make: (region: string) => C) =>
  (region: string) => {
    const c = m.get(region) ?? make(region);
    m.set(region, c);
    return c;
  };
const engine = config.database?.engine;
const deps: ReadinessDeps = {
  permissions: new IamPermissionReader(new IAMClient({}), new LambdaClient({})),
  database:
    engine === 'rds' || engine === 'aurora'
      ? (() => {
          const promoter = new RdsDatabasePromoter(
            perRegion(rds, (region) => new RDSClient({ region })),
            config,
          );
          return {
            standing: (region: string) => promoter.standing(region),
            lag: new CloudWatchLagReader(
              perRegion(cloudWatch, (region) => new CloudWatchClient({ region })),
              config,
              systemClock,
            ),
          };
        })()
      : null,
  leases: new DynamoLeaseStore(controlTableClient, requiredEnv('CONTROL_TABLE'), config.lease, systemClock),
  holders: new HttpHolderCheckReader(
    Object.fromEntries([config.primary, config.standby].map((r) => [r.region, holderCheckUrlOf(r)])),
    config.probe.responseTimeoutMs,
  ),
  slack: config.approval.slack
    ? async () =>
        readSlack(
          new WebClient(await secretByArnEnv('SLACK_BOT_TOKEN_SECRET_ARN'), {
            retryConfig: { retries: 1 },
            timeout: 5000,
          }),
          config.approval.slack!.channel,
        )
    : null,
  definition: (arn) => readDefinition(new SFNClient({}), arn),
  clock: systemClock,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/**
 * The scheduled readiness evaluation, in each control region: the same readings and checks as
 * `cutover readiness`, for this region's machines. The CDK app hands it, in the schedule's input, what it cannot
 * derive here: each step role's needed statements (infra/iam.ts, resolved by CloudFormation) and the step
 * functions' ARNs the machines were built with. It logs a line per check and puts the number of failed checks
 * as the ReadinessChecksFailed metric, which alarms.
 */
export const handler = middy<unknown, Readiness>()
  .use(logMetrics(metrics))
  .handler(async (event) => {
    const input = parseReadinessInput(event);
    const asl = { failover: JSON.stringify(failoverAsl), failback: JSON.stringify(failbackAsl) };
    const readings = await takeReadings(deps, config, {
      plan: input.plan,
      machines: input.machines.map((m) => ({
        ...m,
        expected: substituteDefinition(asl[m.kind], input.substitutions),
      })),
      leaseWaitMs: config.lease.renewIntervalMs,
    });
    const result = evaluateReadiness(readings, config, systemClock.now());
    for (const r of result.results) {
      const line = { check: r.check, code: r.code, reason: r.reason };
      if (r.pass) logger.info(`readiness ${r.check}: ${r.code}`, line);
      else logger.warn(`readiness ${r.check}: ${r.code}`, line);
    }
    metrics.addMetric('ReadinessChecksFailed', MetricUnit.Count, result.failed);
    return result;
  });
