import { describe, expect, it } from 'vitest';
import { actionsOf, CONFIGS, functionStatements, GENERATED, synth } from './support.js';

const HOOK_ACTIONS =
  /^(ecs|autoscaling):|^lambda:(PutProvisionedConcurrencyConfig|GetProvisionedConcurrencyConfig|InvokeFunction)$/;
const hookOnly = (ss: Array<Record<string, unknown>>) =>
  ss.filter((s) => actionsOf(s).some((a) => HOOK_ACTIONS.test(a)));

const arn = (service: string, region: string, resource: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${region}:`, { Ref: 'AWS::AccountId' }, `:${resource}`],
  ],
});
const both = (service: string, resource: string) =>
  ['us-east-1', 'us-west-2'].map((r) => arn(service, r, resource));

describe('hook IAM', () => {
  it('the hook step may act on exactly the configured hooks, in the regions each can act in', () => {
    const { stacks, template } = synth(GENERATED.hooks);
    for (const stack of stacks.control) {
      expect(hookOnly(functionStatements(template(stack), 'hook')), stack.region).toEqual([
        // `target` and `source` are either application region: failover and failback move both ways.
        {
          Effect: 'Allow',
          Action: ['ecs:UpdateService', 'ecs:DescribeServices'],
          Resource: both('ecs', 'service/orders/web'),
        },
        {
          Effect: 'Allow',
          Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:UpdateAutoScalingGroup'],
          Resource: both('autoscaling', 'autoScalingGroup:*:autoScalingGroupName/orders-workers'),
        },
        { Effect: 'Allow', Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' },
        {
          Effect: 'Allow',
          Action: ['lambda:PutProvisionedConcurrencyConfig', 'lambda:GetProvisionedConcurrencyConfig'],
          Resource: both('lambda', 'function:orders-api:live'),
        },
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:purge',
        },
      ]);
      // No other step may touch them.
      for (const role of ['promote', 'fence', 'route-traffic', 'notify']) {
        expect(hookOnly(functionStatements(template(stack), role)), role).toEqual([]);
      }
    }
  });

  it('without hooks the hook step gets no hook permission at all', () => {
    const { stacks, template } = synth(CONFIGS.example);
    for (const stack of stacks.control) {
      expect(hookOnly(functionStatements(template(stack), 'hook'))).toEqual([]);
    }
  });
});
