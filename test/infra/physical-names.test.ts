import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#core/config.js';
import { buildCutover } from '../../infra/cutover-app.js';
import { CONFIGS } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
type Raw = Record<string, any>;

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
function physicalNames(raw: Raw): { names: string[]; stacks: number } {
  const config = loadConfig(raw);
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'cutover-names-')),
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  const stacks = buildCutover(app, config);
  const names: string[] = [];
  for (const stack of stacks.all) {
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
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
const read = (file: string): Raw => JSON.parse(readFileSync(file, 'utf8'));

/** Configurations whose roles share regions, the cases where two stacks land in one region. */
const OVERLAPS: Record<string, (r: Raw) => void> = {
  'a control region that is the standby region (the witness example)': () => {},
  'a control region that is the primary region': (r) => {
    r.controlRegions = ['us-east-1', 'us-east-2'];
  },
  'a control region that is also a watcher region': (r) => {
    r.controlRegions = ['eu-west-1', 'us-east-2'];
  },
  'no traffic and no database section': (r) => {
    delete r.traffic;
    delete r.database;
  },
};

describe('physical names per account and region, across every stack', () => {
  it.each(Object.entries(OVERLAPS))('no two resources share a name: %s', (_name, edit) => {
    const raw = read(CONFIGS.witness);
    edit(raw);
    const { names } = physicalNames(raw);
    expect(names.length).toBeGreaterThan(20);
    expect(duplicates(names)).toEqual([]);
  });

  it.each(Object.values(CONFIGS))('no two resources share a name: %s', (file) => {
    expect(duplicates(physicalNames(read(file)).names)).toEqual([]);
  });

  it('gives the control and the application stack of one region a bus and an alarm topic each', () => {
    const { names } = physicalNames(read(CONFIGS.witness));
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
