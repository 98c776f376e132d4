import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import type { ReadinessInput } from '#core/readiness.js';
import { rdsDescribeStatements, replicationLagStatements } from '../iam.js';
import { stepPermissionPlan } from '../readiness-plan.js';
import type { Names } from '../topology.js';
import type { WorkflowKind } from '../workflows.js';
import { bindSecret, bindTable, CutoverFunction } from './cutover-function.js';
import type { ControlPlaneAlarms } from './operations.js';

/**
 * How often the readiness evaluation runs. AWS's own Region switch evaluates its plans every 30 minutes (ARC
 * Region switch, "plan evaluation"); a gap found between two runs is still found hours before anyone needs it.
 */
export const READINESS_RATE = Duration.minutes(30);

export interface ReadinessProps {
  names: Names;
  /** The configuration the steps were built with (holder-check URLs filled in). */
  config: CutoverConfig;
  controlTable: ITableV2;
  environment: Record<string, string>;
  /** The step functions, by ASL placeholder, as the machines reference them. */
  steps: ReadonlyMap<string, lambda.Function>;
  stateMachines: Record<WorkflowKind, sfn.StateMachine>;
  slackBotToken: ISecret;
  alarms: ControlPlaneAlarms;
}

/**
 * The scheduled `cutover readiness` of one control region (functions/readiness.ts): every 30 minutes it checks,
 * changing nothing, that this region's machines could fail over now, and puts the number of failed checks as
 * Cutover/ReadinessChecksFailed, which alarms. It may only read: IAM's policy simulator on the step roles, the
 * step functions' configuration, the machines' definitions, the databases and their lag, the lease.
 */
export class ReadinessEvaluation extends Construct {
  readonly fn: CutoverFunction;
  readonly schedule: scheduler.Schedule;
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReadinessProps) {
    super(scope, id);
    const { names, config } = props;
    this.fn = new CutoverFunction(this, 'function', {
      entry: 'functions/readiness.ts',
      role: 'readiness',
      names,
      config,
      description: 'Checks, changing nothing, that a failover would work now; puts ReadinessChecksFailed',
      // The lease may need a second read one renew interval later; holder checks and Slack are bounded too.
      timeout: Duration.seconds(60),
      environment: props.environment,
    });
    bindTable(this.fn, 'CONTROL_TABLE', props.controlTable, 'read');
    if (config.approval.slack) bindSecret(this.fn, 'SLACK_BOT_TOKEN_SECRET_ARN', props.slackBotToken);

    const plan = stepPermissionPlan(this, config);
    const byRole = new Map([...props.steps.values()].map((fn) => [fn.node.id, fn]));
    const planned = plan.map((p) => {
      const fn = byRole.get(p.role);
      if (!fn) throw new Error(`readiness: no step function for role ${p.role}`);
      return fn;
    });
    if (planned.length) {
      // SimulatePrincipalPolicy takes the role as its resource (Service Authorization Reference, IAM).
      this.fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iam:SimulatePrincipalPolicy'],
          resources: planned.map((fn) => fn.role!.roleArn),
        }),
      );
      this.fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['lambda:GetFunctionConfiguration'],
          resources: planned.map((fn) => fn.functionArn),
        }),
      );
    }
    const machines = Object.entries(props.stateMachines) as Array<[WorkflowKind, sfn.StateMachine]>;
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeStateMachine'],
        resources: machines.map(([, sm]) => sm.stateMachineArn),
      }),
    );
    for (const s of [...rdsDescribeStatements(this, config), ...replicationLagStatements(config)]) {
      this.fn.addToRolePolicy(s);
    }

    const substitutions: Record<string, string> = {};
    for (const [placeholder, fn] of props.steps) {
      substitutions[placeholder] = placeholder.endsWith('FunctionName') ? fn.functionName : fn.functionArn;
    }
    const input: ReadinessInput = {
      plan,
      substitutions,
      machines: machines.map(([kind, sm]) => ({ kind, arn: sm.stateMachineArn })),
    };
    const role = new iam.Role(this, 'schedule-role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
    });
    this.schedule = new scheduler.Schedule(this, 'schedule', {
      description: `Cutover ${config.application}: readiness evaluation of the machines in this region`,
      schedule: scheduler.ScheduleExpression.rate(READINESS_RATE),
      // A missed run is not retried: the next one comes within the rate.
      target: new targets.LambdaInvoke(this.fn, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject(input),
        retryAttempts: 0,
      }),
    });
    const fnId = Stack.of(this).getLogicalId(this.fn.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason:
        'The Scheduler Lambda target grants invoke on the function and its qualifiers; it is this one function only.',
    });
    this.alarm = props.alarms.add('readiness-failed', {
      alarmName: `${names.function('readiness')}-failed`,
      alarmDescription: `A readiness check failed in ${Stack.of(this).region}: a failover would not work now. Run \`cutover readiness --config FILE --machine-region ${Stack.of(this).region}\` for the checks and their reasons (docs/runbook.md)`,
      // Powertools adds the service dimension to every metric it puts.
      metric: new cloudwatch.Metric({
        namespace: 'Cutover',
        metricName: 'ReadinessChecksFailed',
        dimensionsMap: { service: 'cutover-readiness', application: config.application },
        period: Duration.hours(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      // No evaluation in an hour (two missed runs, or a function that fails) means readiness is unknown.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}
