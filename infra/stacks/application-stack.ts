import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { leaseReplicaOrder } from '#core/lease-replicas.js';
import {
  bindEventBus,
  CutoverFunction,
  LOOP_MEMORY_MB,
  traceEveryFunction,
} from '../constructs/cutover-function.js';
import { acknowledgeTracing, ControlPlaneAlarms, ONE_MINUTE } from '../constructs/operations.js';
import { everyMinute, type RegionStackProps } from './shared.js';

/** EventBridge Scheduler starts the scheduled heartbeat once a minute (its finest rate). */
const SCHEDULE_PERIOD_MS = 60_000;

/**
 * An application region (primary or standby): the bus the lease keeper reports on, the pages for a failed
 * renewal and a self-fenced primary, and the policy the application's own role attaches so its LeaseKeeper can
 * renew (lease.keeper `process`, the default). Only for applications that are Lambda functions (lease.keeper
 * `scheduled`) does this stack also run the heartbeat Lambda. The write guard runs inside the application.
 */
export class ApplicationStack extends Stack {
  readonly heartbeat: CutoverFunction | undefined;
  readonly bus: events.EventBus;
  readonly alarms: ControlPlaneAlarms;
  /** What the application's task or instance role attaches to run the LeaseKeeper. */
  readonly keeperPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: RegionStackProps & { healthUrl: string }) {
    super(scope, id, props);
    const { config, topology } = props;
    const { names } = topology;
    const lease = config.lease;

    // The keeper reports on a bus in its own region, which it can reach when other regions are cut off.
    this.bus = new events.EventBus(this, 'event-bus', { eventBusName: names.eventBus('app') });

    // Renewal goes through any lease replica, this region's first (functions/core/lease-replicas.ts).
    const replicaArns = leaseReplicaOrder(config.leaseAuthority, this.region).map((region) =>
      Stack.of(this).formatArn({
        service: 'dynamodb',
        region,
        resource: 'table',
        resourceName: names.controlTable,
      }),
    );
    const leaseAccess = new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: replicaArns,
      // Only the lease item of this application (partition key = application, sort key "lease").
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [config.application] } },
    });
    const putEvents = new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [this.bus.eventBusArn],
    });
    this.keeperPolicy = new iam.ManagedPolicy(this, 'lease-keeper-policy', {
      description: `Cutover ${config.application}: what the application's role needs to run the LeaseKeeper and the LeaseGuard`,
      statements: [leaseAccess, putEvents],
    });

    this.alarms = new ControlPlaneAlarms(this, 'alarms', names, 'app');
    // The events themselves (holder, epoch, reason) go to the pager topic at once; MatchedEvents drives the alarms.
    const renewalFailed = this.page('lease-renewal-failed', 'Lease Renewal Failed', 'from the lease keeper');
    const selfFenced = this.page(
      'primary-self-fenced',
      'Primary Self-Fenced',
      'the holder refuses writes while no failover revoked its lease',
    );
    this.alarms.add('lease-not-renewed', {
      alarmName: `cutover-${config.application}-${this.region}-lease-not-renewed`,
      alarmDescription: `The lease holder in ${this.region} failed to renew its lease: it stops accepting writes when the lease runs out`,
      metric: this.matched(renewalFailed),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms.add('primary-self-fenced', {
      alarmName: `cutover-${config.application}-${this.region}-primary-self-fenced`,
      alarmDescription: `The lease holder in ${this.region} refuses writes and no failover revoked its lease: an outage nobody else sees (docs/lease-keeper.md)`,
      metric: this.matched(selfFenced),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (lease.keeper !== 'scheduled') return;

    // The heartbeat starts a trace a minute; every tick's code and reason are in its logs (see traceEveryFunction).
    const tracing = traceEveryFunction(this);
    if (tracing) acknowledgeTracing(this);
    // Runs last scheduledRunMs, longer than the period, so they overlap: one missed start leaves no gap. The
    // Lambda timeout is above the run by one tick's budget, so the run ends by itself, never killed mid-renewal.
    const tickBudgetMs =
      Math.max(config.probe.connectTimeoutMs, config.probe.responseTimeoutMs) + lease.retryTimeoutMs + 5_000;
    const overlapping = Math.ceil(lease.scheduledRunMs / SCHEDULE_PERIOD_MS);
    const heartbeat = new CutoverFunction(this, 'heartbeat', {
      entry: 'functions/heartbeat.ts',
      role: 'heartbeat',
      names,
      config,
      description: 'Renews this region’s lease every renew interval while the region is locally healthy',
      timeout: Duration.seconds(Math.ceil((lease.scheduledRunMs + tickBudgetMs) / 1_000)),
      memorySize: LOOP_MEMORY_MB,
      tracing,
      // Reserved: no other function in the account can take the overlapping runs' capacity. One more than the
      // runs alive at once, so a start that comes a little early is not throttled.
      reservedConcurrency: overlapping + 1,
      environment: { HEALTH_URL: props.healthUrl, CONTROL_TABLE: names.controlTable },
    });
    this.heartbeat = heartbeat;
    heartbeat.addToRolePolicy(leaseAccess);
    bindEventBus(heartbeat, 'EVENT_BUS_NAME', this.bus);
    // A failed start is not retried by Lambda either (its default is two async retries): the next start, less
    // than a minute later and overlapping the runs still alive, replaces it (Lambda developer guide,
    // "Configuring error handling for asynchronous invocation").
    heartbeat.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    everyMinute(
      this,
      'heartbeat-schedule',
      heartbeat,
      `Cutover ${config.application}: start the lease heartbeat`,
    );

    this.alarms.add('heartbeat-errors', {
      alarmName: `${names.function('heartbeat')}-${this.region}-errors`,
      alarmDescription: `The heartbeat in ${this.region} crashed twice in 3 minutes: the lease may not be renewed`,
      metric: heartbeat.metricErrors({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms.add('heartbeat-silent', {
      alarmName: `${names.function('heartbeat')}-${this.region}-silent`,
      alarmDescription: `The heartbeat in ${this.region} has not started for 3 minutes: nothing renews the lease here`,
      metric: heartbeat.metricInvocations({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  /** A rule that sends every `detailType` event on this region's bus straight to the alarm topic. */
  private page(id: string, detailType: string, what: string): events.Rule {
    return new events.Rule(this, `${id}-rule`, {
      eventBus: this.bus,
      description: `${detailType} events: ${what}`,
      eventPattern: { source: ['cutover'], detailType: [detailType] },
      targets: [new eventTargets.SnsTopic(this.alarms.topic)],
    });
  }

  private matched(rule: events.Rule): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'MatchedEvents',
      dimensionsMap: { EventBusName: this.bus.eventBusName, RuleName: rule.ruleName },
      period: ONE_MINUTE,
      statistic: cloudwatch.Stats.SUM,
    });
  }
}
