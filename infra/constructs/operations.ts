import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Names, StackRole } from '../topology.js';

/**
 * The alarms of one stack and the topic they notify. CloudWatch alarms are regional, so every stack that
 * runs a part of Cutover watches that part where it runs; operators subscribe their pager to each topic.
 */
export class ControlPlaneAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, names: Names, role: StackRole) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'topic', { topicName: names.alarmTopic(role), enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry metric names and states only; encrypting with the AWS managed key would stop CloudWatch from publishing, and a customer key per region adds cost without protecting anything secret.',
    });
  }

  /** An alarm that notifies the topic when it fires and when it recovers. */
  add(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, { actionsEnabled: true, ...props });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}

export const ONE_MINUTE = Duration.minutes(1);

/** X-Ray's PutTraceSegments/PutTelemetryRecords take no resource (Service Authorization Reference, X-Ray). */
export function acknowledgeTracing(stack: Construct, more = ''): void {
  Validations.of(stack).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      `X-Ray tracing actions (xray:PutTraceSegments, xray:PutTelemetryRecords) support no resource-level permissions. ${more}`.trim(),
  });
}
