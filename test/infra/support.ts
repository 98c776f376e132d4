import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import { buildCutover, type CutoverStacks, readConfig } from '../../infra/cutover-app.js';

export const CONFIGS = {
  example: 'examples/cutover.example.json',
  witness: 'examples/cutover.mrsc-witness.json',
  arbiter: 'examples/cutover.arbiter.json',
  dynamodb: 'examples/cutover.dynamodb.json',
} as const;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
export type RawConfig = Record<string, any>;

/** A configuration generated from the example file with one change, validated like any other. */
export interface GeneratedConfig {
  name: string;
  raw: RawConfig;
}

/** What the infra tests synthesize: an example file, or a generated configuration. */
export type ConfigSource = string | GeneratedConfig;

const generate = (name: string, edit: (raw: RawConfig) => void): GeneratedConfig => {
  const raw = JSON.parse(readFileSync(CONFIGS.example, 'utf8')) as RawConfig;
  edit(raw);
  return { name, raw };
};

/**
 * The cases the three examples do not cover alone: each is the example with one thing changed. Regions that
 * hold several roles put two stacks in one region (test/infra/physical-names.test.ts); optional sections left
 * out must leave nothing half-built (no grant on a record or database that is not configured).
 */
export const GENERATED = {
  'control region = standby region': generate('control region = standby region', (r) => {
    r.controlRegions = ['us-east-2', 'us-west-2'];
  }),
  'control region = primary region': generate('control region = primary region', (r) => {
    r.controlRegions = ['us-east-1', 'us-east-2'];
  }),
  'control region = watcher region': generate('control region = watcher region', (r) => {
    r.controlRegions = ['eu-west-1', 'us-east-2'];
  }),
  'no traffic section': generate('no traffic section', (r) => {
    delete r.traffic;
    delete r.primary.setIdentifier;
    delete r.standby.setIdentifier;
  }),
  'database engine dynamodb': generate('database engine dynamodb', (r) => {
    r.database = { engine: 'dynamodb', tables: ['orders-items'] };
    delete r.primary.databaseId;
    delete r.standby.databaseId;
  }),
  'no database section': generate('no database section', (r) => {
    delete r.database;
    delete r.primary.databaseId;
    delete r.standby.databaseId;
  }),
  'no traffic and no database section': generate('no traffic and no database section', (r) => {
    delete r.traffic;
    delete r.database;
  }),
  'arbiter mode': generate('arbiter mode', (r) => {
    r.leaseAuthority = { mode: 'arbiter', region: 'us-east-2' };
  }),
  // Applications that are Lambda functions: the scheduled heartbeat instead of the in-process LeaseKeeper.
  'scheduled keeper': generate('scheduled keeper', (r) => {
    r.lease.keeper = 'scheduled';
  }),
  'Aurora engine': generate('Aurora engine', (r) => {
    r.database = { engine: 'aurora', globalClusterId: 'orders-global', promoteTimeoutSeconds: 900 };
    r.primary.databaseId = 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1';
    r.standby.databaseId = 'arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2';
  }),
  // The traffic modes (issue 10); the examples are all mode health-check with application-served checks.
  'traffic: function holder check, weighted records created, 3 checker regions': generate(
    'traffic: function holder check, weighted records created, 3 checker regions',
    (r) => {
      r.traffic.holderCheck = 'function';
      r.traffic.createRecords = true;
      r.traffic.healthCheck = {
        requestIntervalSeconds: 30,
        failureThreshold: 2,
        regions: ['us-east-1', 'us-west-2', 'eu-west-1'],
      };
    },
  ),
  'traffic: mode records, failover records created, arbiter': generate(
    'traffic: mode records, failover records created, arbiter',
    (r) => {
      r.leaseAuthority = { mode: 'arbiter', region: 'us-east-2' };
      r.traffic.mode = 'records';
      r.traffic.routing = 'failover';
      r.traffic.createRecords = true;
      r.primary.holderCheckUrl = 'https://holder.orders-use1.example.com:8443/ready?for=cutover';
    },
  ),
  'traffic: mode accelerator': generate('traffic: mode accelerator', (r) => {
    r.traffic.mode = 'accelerator';
    r.traffic.accelerator = {
      endpoints: {
        'us-east-1':
          'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders/0123456789abcdef',
        'us-west-2': 'eipalloc-0123456789abcdef0',
      },
      healthCheckIntervalSeconds: 30,
      thresholdCount: 2,
    };
  }),
  'traffic: mode arc, failover records created': generate(
    'traffic: mode arc, failover records created',
    (r) => {
      r.traffic.mode = 'arc';
      r.traffic.routing = 'failover';
      r.traffic.createRecords = true;
      r.traffic.failbackSteps = [100];
      r.traffic.arc = {
        clusterArn: 'arn:aws:route53-recovery-control::123456789012:cluster/orders-cluster',
        clusterEndpoints: [
          { region: 'us-west-2', endpoint: 'https://host-aaaaaa.us-west-2.example.com/v1' },
          { region: 'eu-west-1', endpoint: 'https://host-bbbbbb.eu-west-1.example.com/v1' },
        ],
        routingControls: {
          'us-east-1':
            'arn:aws:route53-recovery-control::123456789012:controlpanel/orders/routingcontrol/use1',
          'us-west-2':
            'arn:aws:route53-recovery-control::123456789012:controlpanel/orders/routingcontrol/usw2',
        },
      };
    },
  ),
  // Hook steps (issue 15): one of each kind, in the target, the source and a fixed region.
  hooks: generate('hooks', (r) => {
    r.hooks = {
      beforePromote: [
        {
          kind: 'ecs',
          name: 'scale-web',
          region: 'target',
          timeoutMs: 600_000,
          onFailure: 'continue',
          cluster: 'orders',
          service: 'web',
          desiredCount: 6,
        },
        {
          kind: 'autoscaling',
          name: 'scale-workers',
          region: 'target',
          timeoutMs: 600_000,
          onFailure: 'continue',
          groupName: 'orders-workers',
          desiredCapacity: 4,
          minSize: 2,
        },
        {
          kind: 'lambda-provisioned-concurrency',
          name: 'warm-api',
          region: 'target',
          timeoutMs: 300_000,
          onFailure: 'continue',
          functionName: 'orders-api',
          qualifier: 'live',
          count: 50,
        },
      ],
      afterTraffic: [
        {
          kind: 'ecs',
          name: 'shrink-web',
          region: 'source',
          timeoutMs: 300_000,
          onFailure: 'continue',
          cluster: 'orders',
          service: 'web',
          desiredCount: 1,
        },
        {
          kind: 'lambda',
          name: 'purge-cache',
          region: 'eu-west-1',
          timeoutMs: 10_000,
          onFailure: 'continue',
          function: 'arn:aws:lambda:eu-west-1:123456789012:function:purge',
        },
      ],
    };
  }),
} as const satisfies Record<string, GeneratedConfig>;

/** Every configuration the synthesis matrix covers, by name: the examples, then the generated ones. */
export const SYNTH_MATRIX: ReadonlyArray<[string, ConfigSource]> = [
  ...Object.entries(CONFIGS),
  ...Object.entries(GENERATED),
];

export function configOf(source: ConfigSource): CutoverConfig {
  return typeof source === 'string' ? readConfig(source) : loadConfig(source.raw);
}

export interface Synth {
  app: App;
  stacks: CutoverStacks;
  template(stack: Stack): Template;
}

const cache = new Map<string, Synth>();

/**
 * Synthesizes every stack for a configuration with asset bundling skipped (the CDK's own
 * `aws:cdk:bundling-stacks` switch, which `cdk synth --exclusively` uses too): esbuild for some 25 functions
 * would take minutes on a small machine. One test in cdk-synth.test.ts bundles for real.
 */
export function synth(config: ConfigSource, context: Record<string, unknown> = {}): Synth {
  const key = `${typeof config === 'string' ? config : `generated:${config.name}`} ${JSON.stringify(context)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'cutover-cdk-')),
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stacks = buildCutover(app, configOf(config));
  const templates = new Map<Stack, Template>();
  const result: Synth = {
    app,
    stacks,
    template(stack) {
      let t = templates.get(stack);
      if (!t) {
        t = Template.fromStack(stack);
        templates.set(stack, t);
      }
      return t;
    },
  };
  cache.set(key, result);
  return result;
}

/** Every IAM policy statement in a template, flattened. */
export function statements(template: Template): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
        .PolicyDocument.Statement,
  );
}

/** The statements of one function's role (found by the function's logical id prefix). */
export function functionStatements(template: Template, role: string): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy');
  const id = role.replace(/-/g, '');
  return Object.entries(policies)
    .filter(([logicalId]) => logicalId.startsWith(`${id}role`))
    .flatMap(
      ([, p]) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
          .PolicyDocument.Statement,
    );
}

export const actionsOf = (s: Record<string, unknown>): string[] => [s.Action].flat() as string[];
