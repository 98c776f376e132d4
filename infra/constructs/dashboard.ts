import { Aws, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import type { Topology } from '../topology.js';

/**
 * One dashboard for the whole control plane. Widgets name their region, so metrics and logs of watchers,
 * control regions and application regions sit side by side although the dashboard lives in one region.
 */
export class CutoverDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: { config: CutoverConfig; topology: Topology }) {
    super(scope, id);
    const { topology } = props;
    const { names } = topology;
    const lambdaMetric = (region: string, role: string, metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { FunctionName: names.function(role) },
        region,
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.SUM,
        label: `${role} ${metricName} ${region}`,
      });
    const logs = (title: string, role: string, regions: string[], query: string[]) =>
      regions.map(
        (region) =>
          new cloudwatch.LogQueryWidget({
            title: `${title} (${region})`,
            region,
            logGroupNames: [names.logGroup(role)],
            queryLines: query,
            width: 12,
            height: 6,
          }),
      );

    this.dashboard = new cloudwatch.Dashboard(this, 'dashboard', {
      dashboardName: names.dashboard,
      defaultInterval: Duration.hours(3),
    });
    // AWS::CloudWatch::Dashboard takes Tags (CloudFormation template reference; the CDK's L1 has them), but
    // cfn-lint 1.51's schema for it predates them: E3002 there is the linter's, not the template's.
    (this.dashboard.node.defaultChild as CfnResource).addMetadata('cfn-lint', {
      config: { ignore_checks: ['E3002'] },
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Cutover: ${props.config.application}\nprimary ${props.config.primary.region} · standby ${props.config.standby.region} · quorum ${props.config.quorum} of ${topology.watchers.length} watchers`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Votes: prober runs per watcher region',
        left: topology.watchers.map((r) => lambdaMetric(r, 'prober', 'Invocations')),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Prober errors per watcher region',
        left: topology.watchers.map((r) => lambdaMetric(r, 'prober', 'Errors')),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      ...logs('Verdicts', 'aggregator', topology.controlRegions, [
        'fields @timestamp, code, kind, message',
        'filter ispresent(code)',
        'sort @timestamp desc',
        'limit 50',
      ]),
    );
    this.dashboard.addWidgets(
      ...logs('Lease holder and epoch', 'heartbeat', topology.applicationRegions, [
        'fields @timestamp, region, code, epoch, expiresAt',
        'filter ispresent(epoch)',
        'sort @timestamp desc',
        'limit 20',
      ]),
    );
    this.dashboard.addWidgets(
      ...logs('Last failover: step timings', 'notify', topology.controlRegions, [
        'fields @timestamp, @message',
        'filter @message like /timings/',
        'sort @timestamp desc',
        'limit 5',
      ]),
    );
    this.dashboard.addWidgets(
      ...topology.controlRegions.map(
        (region) =>
          new cloudwatch.GraphWidget({
            title: `Executions (${region})`,
            left: (['failover', 'failback'] as const).flatMap((kind) =>
              ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map(
                (metricName) =>
                  new cloudwatch.Metric({
                    namespace: 'AWS/States',
                    metricName,
                    region,
                    dimensionsMap: {
                      StateMachineArn: `arn:${Aws.PARTITION}:states:${region}:${Stack.of(this).account}:stateMachine:${names.stateMachine(kind)}`,
                    },
                    period: Duration.minutes(5),
                    statistic: cloudwatch.Stats.SUM,
                    label: `${kind} ${metricName}`,
                  }),
              ),
            ),
            width: 12,
          }),
      ),
    );
  }
}
