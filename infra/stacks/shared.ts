import { Aws, type CfnElement, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import type { Topology } from '../topology.js';

export interface RegionStackProps extends StackProps {
  config: CutoverConfig;
  topology: Topology;
}

const tableArn = (scope: Construct, region: string, name: string) =>
  `arn:${Aws.PARTITION}:dynamodb:${region}:${Stack.of(scope).account}:table/${name}`;

/**
 * The votes replica in this stack's region. Tables are referenced by their fixed names rather than by
 * CloudFormation exports, which cannot cross regions.
 */
export const votesReplica = (scope: Construct, topology: Topology): dynamodb.ITableV2 =>
  dynamodb.TableV2.fromTableArn(
    scope,
    'votes-table',
    tableArn(scope, Stack.of(scope).region, topology.names.votesTable),
  );

/** The control table that functions here use: the local MRSC replica, the nearest one, or the arbiter's. */
export const controlTableFor = (
  scope: Construct,
  topology: Topology,
): { table: dynamodb.ITableV2; region: string } => {
  const region = topology.controlTableRegionFor(Stack.of(scope).region);
  return {
    region,
    table: dynamodb.TableV2.fromTableArn(
      scope,
      'control-table',
      tableArn(scope, region, topology.names.controlTable),
    ),
  };
};

/**
 * Once a minute, EventBridge Scheduler's finest rate; the function loops inside its minute. A missed start
 * is not retried: the next minute's start replaces it, and a late retry would only overlap it.
 */
export function everyMinute(
  scope: Construct,
  id: string,
  fn: lambda.Function,
  description: string,
): scheduler.Schedule {
  const role = new iam.Role(scope, `${id}-role`, {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
  });
  const schedule = new scheduler.Schedule(scope, id, {
    description,
    schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
    target: new targets.LambdaInvoke(fn, { role, retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
  });
  const fnId = Stack.of(scope).getLogicalId(fn.node.defaultChild as CfnElement);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
    reason:
      'The Scheduler Lambda target grants invoke on the function and its qualifiers; it is this one function only.',
  });
  return schedule;
}
