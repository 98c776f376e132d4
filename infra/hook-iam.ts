import { Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import { HOOK_PHASES, type Hook } from '#core/hooks.js';

/**
 * What the hook step may do: exactly the configured hooks' actions on their own resources, in the regions each
 * hook can act in (`target` and `source` are either application region, since failover and failback move both
 * ways). Actions and resource types: Service Authorization Reference, Amazon ECS / Amazon EC2 Auto Scaling /
 * AWS Lambda.
 */
export function hookStatements(scope: Construct, config: CutoverConfig): iam.PolicyStatement[] {
  const hooks: Hook[] = HOOK_PHASES.flatMap((p) => config.hooks?.[p] ?? []);
  if (hooks.length === 0) return [];
  const account = Stack.of(scope).account;
  const regionsOf = (hook: Hook) =>
    hook.region === 'target' || hook.region === 'source'
      ? [config.primary.region, config.standby.region]
      : [hook.region];
  const arn = (service: string, region: string, resource: string) =>
    `arn:${Aws.PARTITION}:${service}:${region}:${account}:${resource}`;
  const out: iam.PolicyStatement[] = [];
  const allow = (actions: string[], resources: string[]) =>
    out.push(new iam.PolicyStatement({ actions, resources: [...new Set(resources)] }));

  const ecs = hooks.filter((h) => h.kind === 'ecs');
  if (ecs.length) {
    allow(
      ['ecs:UpdateService', 'ecs:DescribeServices'],
      ecs.flatMap((h) => regionsOf(h).map((r) => arn('ecs', r, `service/${h.cluster}/${h.service}`))),
    );
  }
  const groups = hooks.filter((h) => h.kind === 'autoscaling');
  if (groups.length) {
    // A group's ARN carries a generated id (autoScalingGroup:<uuid>:autoScalingGroupName/<name>): only the name is known.
    allow(
      ['autoscaling:SetDesiredCapacity', 'autoscaling:UpdateAutoScalingGroup'],
      groups.flatMap((h) =>
        regionsOf(h).map((r) =>
          arn('autoscaling', r, `autoScalingGroup:*:autoScalingGroupName/${h.groupName}`),
        ),
      ),
    );
    // DescribeAutoScalingGroups supports no resource-level permissions.
    allow(['autoscaling:DescribeAutoScalingGroups'], ['*']);
  }
  const provisioned = hooks.filter((h) => h.kind === 'lambda-provisioned-concurrency');
  if (provisioned.length) {
    allow(
      ['lambda:PutProvisionedConcurrencyConfig', 'lambda:GetProvisionedConcurrencyConfig'],
      provisioned.flatMap((h) =>
        regionsOf(h).map((r) => arn('lambda', r, `function:${h.functionName}:${h.qualifier}`)),
      ),
    );
  }
  const invoked = hooks.filter((h) => h.kind === 'lambda');
  if (invoked.length) {
    allow(
      ['lambda:InvokeFunction'],
      invoked.flatMap((h) =>
        h.function.startsWith('arn:')
          ? [h.function]
          : regionsOf(h).map((r) => arn('lambda', r, `function:${h.function}`)),
      ),
    );
  }
  return out;
}

/** The Auto Scaling groups of the configured hooks, with the regions each may act in. */
export function hookGroups(config: CutoverConfig): { groupName: string; regions: string[] }[] {
  return HOOK_PHASES.flatMap((p) => config.hooks?.[p] ?? []).flatMap((h) =>
    h.kind === 'autoscaling'
      ? [
          {
            groupName: h.groupName,
            regions:
              h.region === 'target' || h.region === 'source'
                ? [config.primary.region, config.standby.region]
                : [h.region],
          },
        ]
      : [],
  );
}

/** The one wildcard of the hook grants, acknowledged for cdk-nag with its reason. */
export function acknowledgeHookFindings(stack: Construct, config: CutoverConfig): void {
  for (const g of hookGroups(config)) {
    for (const region of g.regions) {
      Validations.of(stack).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${region}:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${g.groupName}]`,
        reason:
          "An Auto Scaling group's ARN carries an id generated when the group is created; the grant names the configured group by its name, in its region and this account.",
      });
    }
  }
}
