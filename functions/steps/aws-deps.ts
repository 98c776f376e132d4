import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GlobalAcceleratorClient } from '@aws-sdk/client-global-accelerator';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { WebClient } from '@slack/web-api';
import { CloudWatchLagReader } from '#adapters/aws/cloudwatch-lag-reader.js';
import { GlobalTablesPromoter, ReplicationLatencyReader } from '#adapters/aws/dynamodb-global-tables.js';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-publisher.js';
import { AwsHookActuator } from '#adapters/aws/hook-actuator.js';
import { LambdaFenceActions } from '#adapters/aws/lambda-fence-actions.js';
import { RdsDatabasePromoter } from '#adapters/aws/rds-database-promoter.js';
import { type TrafficClients, trafficRouterFor } from '#adapters/aws/traffic-ports.js';
import { AuthoritativeDnsResolver } from '#adapters/dns/authoritative-resolver.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { HttpHealthVerifier } from '#adapters/http/health-verifier.js';
import { SlackNotifier } from '#adapters/slack/slack-notifier.js';
import { WebApiSlackChat } from '#adapters/slack/web-api-chat.js';
import { NoDatabaseLagReader, NoDatabasePromoter } from '#adapters/unconfigured/database.js';
import { controlTableClient, documentClient, eventBridge } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { logger, logTo } from '#commons/logger.js';
import { boundedRequests } from '#commons/request-timeouts.js';
import { secretByArnEnv } from '#commons/slack-secrets.js';
import type { CutoverConfig } from '#core/config.js';
import type { Notifier } from '#core/failover-ports.js';
import { type Clock, systemClock } from '#core/ports.js';
import type { StepDeps } from './core/deps.js';

/** One client per region, created on first use and kept for the life of the container. */
function perRegion<T>(make: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  return (region) => {
    let c = clients.get(region);
    if (!c) {
      c = make(region);
      clients.set(region, c);
    }
    return c;
  };
}

// Every client below whose timeout a step relies on throws when it passes (throwOnRequestTimeout, see
// functions/commons/request-timeouts.ts): the Node handler's default only logs a warning.
// Route 53 is global; its API lives in us-east-1. Bounded: on the unplanned path (mode records) a change is
// best effort, and a silent API must not hold the step until its timeout.
const route53 = new Route53Client({
  region: 'us-east-1',
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
});
// Global Accelerator's API is served from us-west-2 only (Global Accelerator API Reference).
const accelerator = new GlobalAcceleratorClient({ region: 'us-west-2' });
const rdsFor = perRegion((region) => new RDSClient({ region }));
const cloudWatchFor = perRegion((region) => new CloudWatchClient({ region }));
// Global tables' lag is read in the source region, the one a failover leaves: fail fast, it may be down.
const cloudWatchSourceFor = perRegion(
  (region) => new CloudWatchClient({ region, maxAttempts: 2, requestHandler: boundedRequests(3_000) }),
);
// A fence action calls into a region that may be down: fail fast rather than hold the step.
const lambdaFor = perRegion(
  (region) => new LambdaClient({ region, maxAttempts: 2, requestHandler: boundedRequests(3_000) }),
);

// Hooks act in the target and in the source region, which may be down: one attempt each (the hook loop reads
// again), bounded like the step's own per-call budget; an Invoke is bounded by the hook's timeout instead.
const hookClients = {
  ecsFor: perRegion(
    (region) => new ECSClient({ region, maxAttempts: 1, requestHandler: boundedRequests(8_000) }),
  ),
  autoScalingFor: perRegion(
    (region) => new AutoScalingClient({ region, maxAttempts: 1, requestHandler: boundedRequests(8_000) }),
  ),
  // No retry: a second Invoke would run the hook's function twice.
  lambdaFor: perRegion(
    (region) => new LambdaClient({ region, maxAttempts: 1, requestHandler: boundedRequests(45_000) }),
  ),
};

/** Without Slack in the configuration, notifications are structured log lines. */
const logNotifier: Notifier = {
  notify: async (message, detail) => logger.warn(message, { notification: detail }),
};

/**
 * Notifications go to the approval channel when Slack is configured. The bot token is read on the first
 * notification, not at cold start, so that a step that never notifies never needs the secret.
 */
export function notifierFor(config: CutoverConfig): Notifier {
  const slack = config.approval.slack;
  if (!slack) return logNotifier;
  return new SlackNotifier(
    async () =>
      new WebApiSlackChat(
        // A few quick retries only: a notification must not hold the step until its timeout.
        new WebClient(await secretByArnEnv('SLACK_BOT_TOKEN_SECRET_ARN'), {
          retryConfig: { retries: 2, maxTimeout: 2000 },
          timeout: 5000,
        }),
      ),
    slack.channel,
  );
}

export interface PartClients extends TrafficClients {
  rdsFor: (region: string) => RDSClient;
  cloudWatchFor: (region: string) => CloudWatchClient;
  /** CloudWatch in a region that may be the failed one (global tables' ReplicationLatency); cloudWatchFor if absent. */
  cloudWatchSourceFor?: (region: string) => CloudWatchClient;
}

/**
 * The database promoter and lag reader of the configured engine: RDS and Aurora promote through RDS and read their
 * lag in the replica's region; DynamoDB global tables promote nothing and read ReplicationLatency in the source
 * region; without a database section there is neither.
 */
export function databasePorts(
  config: CutoverConfig,
  clients: Pick<PartClients, 'rdsFor' | 'cloudWatchFor' | 'cloudWatchSourceFor'>,
  clock: Clock,
): Pick<StepDeps, 'database' | 'lag'> {
  if (!config.database) return { database: new NoDatabasePromoter(), lag: new NoDatabaseLagReader() };
  if (config.database.engine === 'dynamodb') {
    return {
      database: new GlobalTablesPromoter(config),
      lag: new ReplicationLatencyReader(clients.cloudWatchSourceFor ?? clients.cloudWatchFor, config, clock),
    };
  }
  return {
    database: new RdsDatabasePromoter(clients.rdsFor, config),
    lag: new CloudWatchLagReader(clients.cloudWatchFor, config, clock),
  };
}

/**
 * The traffic, database and lag ports for the parts the configuration has. `traffic` and `database` are
 * optional, and the Route 53, RDS and CloudWatch adapters refuse to exist without them; a part that is not
 * configured gets the port that says so (functions/adapters/unconfigured): no record changed, nothing promoted.
 */
export function partPorts(
  config: CutoverConfig,
  clients: PartClients,
  clock: Clock,
): Pick<StepDeps, 'traffic' | 'database' | 'lag'> {
  return {
    traffic: trafficRouterFor(config, clients),
    ...databasePorts(config, clients, clock),
  };
}

let cached: StepDeps | undefined;

/** The step functions' dependencies on AWS, built once per cold start from the environment. */
export function awsStepDeps(): StepDeps {
  if (cached) return cached;
  const config = configFromEnv();
  const controlTable = requiredEnv('CONTROL_TABLE');
  cached = {
    config,
    clock: systemClock,
    leases: new DynamoLeaseStore(controlTableClient, controlTable, config.lease, systemClock),
    control: new DynamoControlStore(controlTableClient, controlTable),
    votes: new DynamoVoteStore(documentClient, requiredEnv('VOTES_TABLE'), config.watchers),
    events: new EventBridgePublisher(eventBridge, requiredEnv('EVENT_BUS_NAME')),
    ...partPorts(config, { route53, accelerator, rdsFor, cloudWatchFor, cloudWatchSourceFor }, systemClock),
    health: new HttpHealthVerifier(config.probe),
    dns: new AuthoritativeDnsResolver({ timeoutMs: 2_000 }),
    notifier: notifierFor(config),
    ...(config.fence?.lambdaFunctions.length
      ? { fenceActions: new LambdaFenceActions(lambdaFor, config.fence.lambdaFunctions) }
      : {}),
    ...(config.hooks ? { hooks: new AwsHookActuator(hookClients) } : {}),
    log: logTo(logger),
  };
  return cached;
}
