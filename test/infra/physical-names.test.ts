import { describe, expect, it } from 'vitest';
import { CONFIGS, type ConfigSource, SYNTH_MATRIX, synth } from './support.js';

/** The property that carries a resource's physical name, for every named resource type the app creates. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Events::EventBus': 'Name',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::Events::Rule': 'Name',
};
// IAM names are account-wide, not regional.
const GLOBAL = new Set(['AWS::IAM::Role', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User']);
const GLOBAL_NAME: Record<string, string> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::User': 'UserName',
};

/** Every physical name the app would create, as "scope type name" with scope the region (or "global" for IAM). */
function physicalNames(source: ConfigSource): { names: string[]; stacks: number } {
  const { stacks, template } = synth(source);
  const names: string[] = [];
  for (const stack of stacks.all) {
    const resources = template(stack).toJSON().Resources as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    for (const r of Object.values(resources)) {
      const prop = GLOBAL.has(r.Type) ? GLOBAL_NAME[r.Type] : NAME_PROPERTY[r.Type];
      const value = prop ? r.Properties?.[prop] : undefined;
      // A name CloudFormation generates (absent) or builds from tokens is unique by construction.
      if (typeof value !== 'string') continue;
      const scope = GLOBAL.has(r.Type) ? 'global' : stack.region;
      names.push(`${scope} ${r.Type} ${value}`);
    }
  }
  return { names, stacks: stacks.all.length };
}

const duplicates = (xs: string[]) => [...new Set(xs.filter((x, i) => xs.indexOf(x) !== i))];
describe('physical names per account and region, across every stack', () => {
  // The synthesis matrix (test/infra/support.ts): the examples, and generated configurations whose roles share
  // regions (a control region that is the standby, the primary or a watcher region) or leave sections out.
  it.each(SYNTH_MATRIX)('no two resources share a name: %s', (_name, source) => {
    const { names } = physicalNames(source);
    expect(names.length).toBeGreaterThan(20);
    expect(duplicates(names)).toEqual([]);
  });

  it('gives the control and the application stack of one region a bus and an alarm topic each', () => {
    const { names } = physicalNames(CONFIGS.witness);
    const inStandby = names.filter((n) => n.startsWith('us-west-2 '));
    expect(inStandby).toEqual(
      expect.arrayContaining([
        'us-west-2 AWS::Events::EventBus cutover-inventory',
        'us-west-2 AWS::Events::EventBus cutover-inventory-app',
        'us-west-2 AWS::SNS::Topic cutover-inventory-control-alarms',
        'us-west-2 AWS::SNS::Topic cutover-inventory-app-alarms',
      ]),
    );
  });
});
