import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizedRecordName, recordChangeActions } from '../../infra/iam.js';
import {
  actionsOf,
  CONFIGS,
  type ConfigSource,
  configOf,
  functionStatements,
  GENERATED,
  type GeneratedConfig,
  type RawConfig,
  statements,
  synth,
} from './support.js';

/** The traffic actions a statement grants: Route 53, Global Accelerator, ARC. */
const TRAFFIC = /^(route53|globalaccelerator|route53-recovery-cluster|route53-recovery-control-config):/;
const trafficOnly = (ss: Array<Record<string, unknown>>) =>
  ss.filter((s) => actionsOf(s).some((a) => TRAFFIC.test(a)));

const ZONE = 'Z0123456789ABCDEFGHIJ';
const zoneArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${ZONE}`]] };
const changeArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::change/*']] };
const ga = (resource: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':globalaccelerator::', { Ref: 'AWS::AccountId' }, `:${resource}`],
  ],
});

const recordStatements = (recordName: string, actions: string[]) => [
  { Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: zoneArn },
  {
    Effect: 'Allow',
    Action: 'route53:ChangeResourceRecordSets',
    Resource: zoneArn,
    Condition: {
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': [normalizedRecordName(recordName)],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
        'route53:ChangeResourceRecordSetsActions': actions,
      },
    },
  },
];
const getChange = [{ Effect: 'Allow', Action: 'route53:GetChange', Resource: changeArn }];

const edited = (name: string, edit: (r: RawConfig) => void): GeneratedConfig => {
  const raw = JSON.parse(readFileSync(CONFIGS.example, 'utf8')) as RawConfig;
  edit(raw);
  return { name, raw };
};

/**
 * Per mode and routing type, exactly what the traffic steps may do beyond the tables and the bus: the change
 * steps (stop-traffic, route-traffic) and the status step (traffic-status).
 */
const CASES: Array<[string, ConfigSource, { change: unknown[]; status: unknown[] }]> = [
  [
    'health-check + weighted (example): UPSERT for failback weighted steps only',
    CONFIGS.example,
    { change: recordStatements('orders.example.com', ['UPSERT']), status: getChange },
  ],
  [
    'health-check + failover (arbiter example): no Route 53 write at all',
    CONFIGS.arbiter,
    { change: [], status: [] },
  ],
  [
    'records + weighted: UPSERT',
    edited('records + weighted', (r) => {
      r.traffic.mode = 'records';
    }),
    { change: recordStatements('orders.example.com', ['UPSERT']), status: getChange },
  ],
  [
    'records + failover: DELETE and CREATE in one batch, never UPSERT',
    GENERATED['traffic: mode records, failover records created, arbiter'],
    { change: recordStatements('orders.example.com', ['CREATE', 'DELETE']), status: getChange },
  ],
  [
    'accelerator: find the endpoint groups, UpdateEndpointGroup (dials); DescribeAccelerator for the status',
    GENERATED['traffic: mode accelerator'],
    {
      change: [
        { Effect: 'Allow', Action: 'globalaccelerator:ListAccelerators', Resource: '*' },
        { Effect: 'Allow', Action: 'globalaccelerator:ListListeners', Resource: ga('accelerator/*') },
        {
          Effect: 'Allow',
          Action: 'globalaccelerator:ListEndpointGroups',
          Resource: ga('accelerator/*/listener/*'),
        },
        {
          Effect: 'Allow',
          Action: 'globalaccelerator:UpdateEndpointGroup',
          Resource: ga('accelerator/*/listener/*/endpoint-group/*'),
        },
      ],
      status: [
        { Effect: 'Allow', Action: 'globalaccelerator:DescribeAccelerator', Resource: ga('accelerator/*') },
      ],
    },
  ],
  [
    'arc: UpdateRoutingControlStates on the two routing controls only',
    GENERATED['traffic: mode arc, failover records created'],
    {
      change: [
        {
          Effect: 'Allow',
          Action: 'route53-recovery-cluster:UpdateRoutingControlStates',
          Resource: [
            'arn:aws:route53-recovery-control::123456789012:controlpanel/orders/routingcontrol/use1',
            'arn:aws:route53-recovery-control::123456789012:controlpanel/orders/routingcontrol/usw2',
          ],
        },
      ],
      status: [],
    },
  ],
  ['no traffic section: nothing', GENERATED['no traffic section'], { change: [], status: [] }],
];

describe.each(CASES)('traffic IAM, %s', (_name, source, expected) => {
  it('the change steps get exactly these statements', () => {
    const { stacks, template } = synth(source);
    for (const stack of stacks.control) {
      for (const role of ['stop-traffic', 'route-traffic']) {
        expect(trafficOnly(functionStatements(template(stack), role)), `${stack.region} ${role}`).toEqual(
          expected.change,
        );
      }
    }
  });

  it('the status step gets exactly these, and no other function any traffic action', () => {
    const { stacks, template } = synth(source);
    for (const stack of stacks.control) {
      const t = template(stack);
      expect(trafficOnly(functionStatements(t, 'traffic-status')), stack.region).toEqual(expected.status);
      const all = trafficOnly(statements(t)).length;
      const steps = ['stop-traffic', 'route-traffic', 'traffic-status'].reduce(
        (n, role) => n + trafficOnly(functionStatements(t, role)).length,
        0,
      );
      expect(all, `${stack.region}: traffic statements outside the traffic steps`).toBe(steps);
    }
  });
});

describe('recordChangeActions: what the record router sends, per mode and routing', () => {
  it.each([
    ['health-check', 'weighted', ['UPSERT']],
    ['health-check', 'failover', null],
    ['records', 'weighted', ['UPSERT']],
    ['records', 'failover', ['CREATE', 'DELETE']],
    ['accelerator', 'weighted', null],
    ['arc', 'failover', null],
  ] as const)('%s + %s → %j', (mode, routing, actions) => {
    // Only the mode and the routing matter here; the other sections each mode needs are not the point.
    const example = configOf(CONFIGS.example);
    const config = { ...example, traffic: { ...example.traffic!, mode, routing } };
    expect(recordChangeActions(config)).toEqual(actions);
  });
});
