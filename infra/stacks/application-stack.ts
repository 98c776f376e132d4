import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import {
  bindEventBus,
  bindTable,
  CutoverFunction,
  LOOP_MEMORY_MB,
  traceEveryFunction,
} from '../constructs/cutover-function.js';
import { acknowledgeTracing, ControlPlaneAlarms, ONE_MINUTE } from '../constructs/operations.js';
import { controlTableFor, everyMinute, type RegionStackProps } from './shared.js';

/**
 * An application region (primary or standby): the lease heartbeat, which renews this region's lease while
 * the region is locally healthy. The write guard runs inside the application, not here.
 */
export class ApplicationStack extends Stack {
  readonly heartbeat: CutoverFunction;
  readonly bus: events.EventBus;
  readonly alarms: ControlPlaneAlarms;

  constructor(scope: Construct, id: string, props: RegionStackProps & { healthUrl: string }) {
    super(scope, id, props);
    // The heartbeat starts a trace a minute; every tick's code and reason are in its logs (see traceEveryFunction).
    const tracing = traceEveryFunction(this);
    if (tracing) acknowledgeTracing(this);
    const { config, topology } = props;
    const { names } = topology;
    const control = controlTableFor(this, topology);

    // The heartbeat reports a failed renewal on a bus in its own region, which it can reach when others are cut off.
    this.bus = new events.EventBus(this, 'event-bus', { eventBusName: names.eventBus('app') });

    this.heartbeat = new CutoverFunction(this, 'heartbeat', {
      entry: 'functions/heartbeat.ts',
      role: 'heartbeat',
      names,
      config,
      description: 'Renews this region’s lease every renew interval while the region is locally healthy',
      // The loop stops while 2 × retryTimeout + 1 s remain, so the last renewal ends inside the minute.
      timeout: Duration.minutes(1),
      memorySize: LOOP_MEMORY_MB,
      tracing,
      environment: { HEALTH_URL: props.healthUrl, LEASE_TABLE_REGION: control.region },
    });
    bindTable(this.heartbeat, 'CONTROL_TABLE', control.table, 'readWrite');
    bindEventBus(this.heartbeat, 'EVENT_BUS_NAME', this.bus);
    everyMinute(
      this,
      'heartbeat-schedule',
      this.heartbeat,
      `Cutover ${config.application}: start the lease heartbeat`,
    );

    this.alarms = new ControlPlaneAlarms(this, 'alarms', names, 'app');
    // The event itself (holder, epoch, reason) goes to the pager topic; its MatchedEvents metric drives the alarm.
    const renewalFailed = new events.Rule(this, 'lease-renewal-failed-rule', {
      eventBus: this.bus,
      description: 'Lease Renewal Failed events from the heartbeat',
      eventPattern: { source: ['cutover'], detailType: ['Lease Renewal Failed'] },
      targets: [new eventTargets.SnsTopic(this.alarms.topic)],
    });

    this.alarms.add('lease-not-renewed', {
      alarmName: `cutover-${config.application}-${this.region}-lease-not-renewed`,
      alarmDescription: `The lease holder in ${this.region} failed to renew its lease: it stops accepting writes when the lease runs out`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'MatchedEvents',
        dimensionsMap: { EventBusName: this.bus.eventBusName, RuleName: renewalFailed.ruleName },
        period: ONE_MINUTE,
        statistic: cloudwatch.Stats.SUM,
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms.add('heartbeat-errors', {
      alarmName: `${names.function('heartbeat')}-${this.region}-errors`,
      alarmDescription: `The heartbeat in ${this.region} crashed twice in 3 minutes: the lease may not be renewed`,
      metric: this.heartbeat.metricErrors({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms.add('heartbeat-silent', {
      alarmName: `${names.function('heartbeat')}-${this.region}-silent`,
      alarmDescription: `The heartbeat in ${this.region} has not started for 3 minutes: nothing renews the lease here`,
      metric: this.heartbeat.metricInvocations({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}
