import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { READINESS_RATE } from '../../infra/constructs/readiness.js';
import { actionsOf, CONFIGS, functionStatements, synth } from './support.js';

type Statement = Record<string, unknown>;

/** The readiness function's own policy statements (its role's logical id starts with the construct path). */
function readinessStatements(t: ReturnType<ReturnType<typeof synth>['template']>): Statement[] {
  return Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('readinessfunction'))
    .flatMap(
      ([, p]) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
}

describe('the scheduled readiness evaluation', () => {
  const { stacks, template } = synth(CONFIGS.example);
  const t = template(stacks.control[0]!);

  it('runs every 30 minutes with the step plan and the machines in its input', () => {
    expect(READINESS_RATE.toMinutes()).toBe(30);
    const schedules = Object.values(t.findResources('AWS::Scheduler::Schedule')).filter((s) =>
      JSON.stringify(s).includes('rate(30 minutes)'),
    );
    expect(schedules).toHaveLength(1);
    const input = JSON.stringify(
      (schedules[0] as { Properties: { Target: { Input: unknown } } }).Properties.Target.Input,
    );
    for (const needed of [
      'rds:PromoteReadReplica',
      'route53:ChangeResourceRecordSets',
      'PromoteFunctionArn',
      'failback',
    ]) {
      expect(input).toContain(needed);
    }
  });

  it('asks IAM about each planned step role and reads only: simulate, function configuration, describes, lag', () => {
    const s = readinessStatements(t);
    const actions = s.flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining([
        'iam:SimulatePrincipalPolicy',
        'lambda:GetFunctionConfiguration',
        'states:DescribeStateMachine',
        'rds:DescribeDBInstances',
        'cloudwatch:GetMetricData',
      ]),
    );
    // Nothing that changes anything: no write, promote, change, update or put beyond its own logs and traces.
    expect(
      actions.filter(
        (a) =>
          /:(Put|Update|Delete|Promote|Change|Create|Failover|Switchover|Start)/.test(a) &&
          !a.startsWith('xray:') &&
          !a.startsWith('logs:'),
      ),
    ).toEqual([]);
    const simulate = s.find((x) => actionsOf(x).includes('iam:SimulatePrincipalPolicy'))!;
    for (const role of ['promoterole', 'stoptrafficrole', 'rpoguardrole']) {
      expect(JSON.stringify(simulate.Resource)).toContain(role);
    }
  });

  it('the plan holds exactly what the control stack grants the steps (one source: infra/iam.ts)', () => {
    const input = JSON.stringify(
      (
        Object.values(t.findResources('AWS::Scheduler::Schedule')).find((s) =>
          JSON.stringify(s).includes('rate(30 minutes)'),
        ) as {
          Properties: { Target: { Input: unknown } };
        }
      ).Properties.Target.Input,
    );
    for (const role of ['promote', 'stop-traffic', 'rpo-guard', 'fence']) {
      for (const a of functionStatements(t, role).flatMap(actionsOf)) {
        if (
          a.startsWith('dynamodb:') ||
          a.startsWith('events:') ||
          a.startsWith('xray:') ||
          a.startsWith('logs:')
        )
          continue;
        expect(input, `${role} ${a}`).toContain(a);
      }
    }
  });

  it('alarms when a check fails, or when no evaluation reported within the hour', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cutover-orders-readiness-failed',
      Namespace: 'Cutover',
      MetricName: 'ReadinessChecksFailed',
      Dimensions: Match.arrayWith([{ Name: 'service', Value: 'cutover-readiness' }]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: Match.anyValue(),
    });
  });
});
