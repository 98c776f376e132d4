import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HOLDER_CHECK_PATH } from '#core/holder.js';
import { HOLDER_CHECK_CONCURRENCY } from '../../infra/stacks/holder-check-stack.js';
import { CONFIGS, configOf, functionStatements, GENERATED, statements, synth } from './support.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

const resources = (t: { toJSON(): unknown }, type: string): Array<[string, Resource]> =>
  Object.entries((t.toJSON() as { Resources: Record<string, Resource> }).Resources).filter(
    ([, r]) => r.Type === type,
  );

const healthCheckOf = (
  t: { toJSON(): unknown },
  region: string,
): [string, { HealthCheckConfig: Record<string, unknown> }] => {
  const found = resources(t, 'AWS::Route53::HealthCheck').filter(([id]) =>
    id.includes(region.replace(/-/g, '')),
  );
  expect(found, region).toHaveLength(1);
  const [id, r] = found[0]!;
  return [id, r.Properties as { HealthCheckConfig: Record<string, unknown> }];
};

describe('the traffic stack: one, global, placed by mode', () => {
  it.each([
    ['example', CONFIGS.example, 'us-east-2'],
    ['arbiter', CONFIGS.arbiter, 'us-east-2'],
    ['witness', CONFIGS.witness, 'us-east-2'],
    ['accelerator', GENERATED['traffic: mode accelerator'], 'us-west-2'],
  ] as const)('%s: in %s (first control region; us-west-2 for Global Accelerator)', (_n, source, region) => {
    const { stacks } = synth(source);
    expect(stacks.traffic?.region).toBe(region);
    expect(stacks.all.filter((s) => s.stackName.endsWith('-traffic'))).toHaveLength(1);
  });

  it('no traffic section: no traffic stack and no holder-check function', () => {
    const { stacks } = synth(GENERATED['no traffic section']);
    expect(stacks.traffic).toBeUndefined();
    expect(stacks.holderChecks).toEqual([]);
  });
});

describe('mode health-check, holder check served by the application (the examples)', () => {
  // The examples in mode health-check (the DynamoDB one uses Global Accelerator, checked with the generated configs).
  const healthCheckExamples = Object.entries(CONFIGS).filter(
    ([, f]) => configOf(f).traffic?.mode === 'health-check',
  );
  it('covers every example but the accelerator one', () => {
    expect(healthCheckExamples.map(([name]) => name)).toEqual(['example', 'witness', 'arbiter']);
  });
  it.each(healthCheckExamples)(
    '%s: each region health-checks /cutover/holder on its own origin at the configured interval and threshold',
    (_name, file) => {
      const config = configOf(file);
      const { stacks, template } = synth(file);
      const t = template(stacks.traffic!);
      t.resourceCountIs('AWS::Route53::HealthCheck', 2);
      for (const r of [config.primary, config.standby]) {
        const [, props] = healthCheckOf(t, r.region);
        expect(props.HealthCheckConfig).toEqual({
          Type: 'HTTPS',
          FullyQualifiedDomainName: new URL(r.healthUrl).hostname,
          Port: 443,
          ResourcePath: HOLDER_CHECK_PATH,
          EnableSNI: true,
          RequestInterval: config.traffic!.healthCheck.requestIntervalSeconds,
          FailureThreshold: config.traffic!.healthCheck.failureThreshold,
        });
      }
      // createRecords is off in the examples: the checks are outputs, the records the operator's.
      t.resourceCountIs('AWS::Route53::RecordSet', 0);
      expect(Object.keys(t.findOutputs('*')).filter((k) => k.includes('healthcheck'))).toHaveLength(2);
      expect(stacks.holderChecks).toEqual([]);
    },
  );
});

describe('mode health-check, holder check served by the function URL, weighted records created', () => {
  const source = GENERATED['traffic: function holder check, weighted records created, 3 checker regions'];

  it('a holder-check function in each lease-authority region: read-only on the lease item, public URL, capped', () => {
    const { stacks, template } = synth(source);
    expect(stacks.holderChecks.map((s) => s.region).sort()).toEqual(['us-east-1', 'us-east-2', 'us-west-2']);
    for (const stack of stacks.holderChecks) {
      const t = template(stack);
      t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
      t.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'cutover-orders-holder-check',
        ReservedConcurrentExecutions: HOLDER_CHECK_CONCURRENCY,
        Environment: { Variables: Match.objectLike({ CONTROL_TABLE: 'cutover-orders-control' }) },
      });
      const onTable = functionStatements(t, 'holder-check').filter((s) =>
        JSON.stringify(s.Resource).includes(':table/'),
      );
      expect(onTable, stack.region).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: expect.anything(),
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['orders'] } },
        },
      ]);
      // Its own region's replica: the strongly consistent read is local.
      expect(JSON.stringify(onTable[0]!.Resource)).toContain(`:dynamodb:${stack.region}:`);
      const everything = statements(t).flatMap((s) => [s.Action].flat() as string[]);
      expect(everything.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem']);
      expect(Object.keys(t.findOutputs('*')).some((k) => k.startsWith('holdercheckurl'))).toBe(true);
    }
  });

  it("each health check polls its region's function (nearest lease replica) with ?region=, interval, threshold, checker regions", () => {
    const { stacks, template } = synth(source);
    const t = template(stacks.traffic!);
    for (const region of ['us-east-1', 'us-west-2']) {
      const [, props] = healthCheckOf(t, region);
      expect(props.HealthCheckConfig).toEqual({
        Type: 'HTTPS',
        // The host of the function URL in the region's own lease replica, looked up at deploy time.
        FullyQualifiedDomainName: {
          'Fn::Select': [
            2,
            {
              'Fn::Split': [
                '/',
                {
                  'Fn::GetAtt': [
                    expect.stringMatching(`^holdercheckurl${region.replace(/-/g, '')}`),
                    'FunctionUrl',
                  ],
                },
              ],
            },
          ],
        },
        Port: 443,
        ResourcePath: `/?region=${region}`,
        EnableSNI: true,
        RequestInterval: 30,
        FailureThreshold: 2,
        Regions: ['us-east-1', 'us-west-2', 'eu-west-1'],
      });
    }
    // The lookup reads the function URL in that region, by the function's fixed name.
    const lookups = resources(t, 'Custom::AWS').map(([, r]) => JSON.parse(r.Properties.Create as string));
    expect(lookups.map((l) => [l.action, l.region, l.parameters.FunctionName]).sort()).toEqual([
      ['getFunctionUrlConfig', 'us-east-1', 'cutover-orders-holder-check'],
      ['getFunctionUrlConfig', 'us-west-2', 'cutover-orders-holder-check'],
    ]);
    // And it deploys after the holder-check stacks.
    expect(stacks.traffic!.dependencies.map((d) => d.stackName)).toEqual(
      expect.arrayContaining(stacks.holderChecks.map((h) => h.stackName)),
    );
  });

  it('-c holderCheckUrlRefresh=N runs the lookups again (a new physical id), in the traffic and control stacks', () => {
    const ids = (context: Record<string, unknown>) => {
      const { stacks, template } = synth(source, context);
      return [stacks.traffic!, stacks.control[0]!].flatMap((stack) =>
        resources(template(stack), 'Custom::AWS')
          .map(([, r]) => JSON.parse(r.Properties.Create as string))
          .filter((c) => c.action === 'getFunctionUrlConfig')
          .map((c) => c.physicalResourceId.id as string),
      );
    };
    expect(ids({}).sort()).toEqual([
      'cutover-orders-holder-check-url-us-east-1-0',
      'cutover-orders-holder-check-url-us-east-1-0',
      'cutover-orders-holder-check-url-us-west-2-0',
      'cutover-orders-holder-check-url-us-west-2-0',
    ]);
    expect(ids({ holderCheckUrlRefresh: '2' }).every((id) => id.endsWith('-2'))).toBe(true);
  });

  it('weighted records 100/100 for both regions, each with its set identifier, TTL and its own health check', () => {
    const config = configOf(source);
    const { stacks, template } = synth(source);
    const t = template(stacks.traffic!);
    const records = resources(t, 'AWS::Route53::RecordSet');
    expect(records).toHaveLength(2);
    for (const r of [config.primary, config.standby]) {
      const [hcId] = healthCheckOf(t, r.region);
      const record = records.find(([, x]) => x.Properties.SetIdentifier === r.setIdentifier);
      expect(record?.[1].Properties, r.region).toEqual({
        HostedZoneId: config.traffic!.hostedZoneId,
        Name: config.traffic!.recordName,
        Type: 'CNAME',
        TTL: String(config.traffic!.ttlSeconds),
        ResourceRecords: [new URL(r.healthUrl).hostname],
        SetIdentifier: r.setIdentifier,
        Weight: 100,
        HealthCheckId: { 'Fn::GetAtt': [hcId, 'HealthCheckId'] },
      });
    }
  });

  it("the traffic steps read the same function URL: it is the region's holderCheckUrl in their CUTOVER_CONFIG", () => {
    const { stacks, template } = synth(source);
    for (const stack of stacks.control) {
      const fns = template(stack).findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: 'cutover-orders-traffic-status' },
      });
      const env = JSON.stringify(Object.values(fns)[0]);
      expect(env, stack.region).toContain('holderCheckUrl');
      expect(env).toContain('?region=us-east-1');
      expect(env).toContain('?region=us-west-2');
      for (const r of ['useast1', 'uswest2']) {
        expect(env).toMatch(new RegExp(`"Fn::GetAtt":\\["holdercheckurl${r}[0-9A-F]+","FunctionUrl"\\]`));
      }
    }
  });
});

describe('mode records with failover routing, a configured holder-check URL', () => {
  const source = GENERATED['traffic: mode records, failover records created, arbiter'];

  it('a configured holderCheckUrl is polled as given (port, path and query); the other region keeps /cutover/holder', () => {
    const { stacks, template } = synth(source);
    const t = template(stacks.traffic!);
    expect(healthCheckOf(t, 'us-east-1')[1].HealthCheckConfig).toMatchObject({
      Type: 'HTTPS',
      FullyQualifiedDomainName: 'holder.orders-use1.example.com',
      Port: 8443,
      ResourcePath: '/ready?for=cutover',
    });
    expect(healthCheckOf(t, 'us-west-2')[1].HealthCheckConfig).toMatchObject({
      FullyQualifiedDomainName: 'orders-usw2.example.com',
      ResourcePath: HOLDER_CHECK_PATH,
    });
  });

  it('PRIMARY for the primary, SECONDARY for the standby, each on its health check; a warning on drift', () => {
    const { stacks, template } = synth(source);
    const t = template(stacks.traffic!);
    const records = resources(t, 'AWS::Route53::RecordSet');
    for (const [role, region] of [
      ['PRIMARY', 'us-east-1'],
      ['SECONDARY', 'us-west-2'],
    ] as const) {
      const [hcId] = healthCheckOf(t, region);
      const record = records.find(([, r]) => r.Properties.Failover === role)?.[1].Properties;
      expect(record, role).toMatchObject({
        SetIdentifier: `orders-${region}`,
        HealthCheckId: { 'Fn::GetAtt': [hcId, 'HealthCheckId'] },
      });
      expect(record?.Weight).toBeUndefined();
    }
    Annotations.fromStack(stacks.traffic!).hasWarning('*', Match.stringLikeRegexp('DELETE and CREATE'));
  });
});

describe('mode accelerator', () => {
  const source = GENERATED['traffic: mode accelerator'];

  it('one endpoint group per region: its endpoint, health check on the holder check, dial 100, interval and threshold', () => {
    const config = configOf(source);
    const { stacks, template } = synth(source);
    const t = template(stacks.traffic!);
    t.resourceCountIs('AWS::GlobalAccelerator::Accelerator', 1);
    t.resourceCountIs('AWS::Route53::HealthCheck', 0);
    t.hasResourceProperties('AWS::GlobalAccelerator::Listener', {
      Protocol: 'TCP',
      PortRanges: [{ FromPort: 443, ToPort: 443 }],
    });
    const groups = resources(t, 'AWS::GlobalAccelerator::EndpointGroup');
    expect(groups.map(([, g]) => g.Properties.EndpointGroupRegion).sort()).toEqual([
      'us-east-1',
      'us-west-2',
    ]);
    for (const [, g] of groups) {
      const region = g.Properties.EndpointGroupRegion as string;
      expect(g.Properties).toMatchObject({
        EndpointConfigurations: [{ EndpointId: config.traffic!.accelerator!.endpoints[region] }],
        TrafficDialPercentage: 100,
        HealthCheckProtocol: 'HTTPS',
        HealthCheckPort: 443,
        HealthCheckPath: HOLDER_CHECK_PATH,
        HealthCheckIntervalSeconds: 30,
        ThresholdCount: 2,
      });
    }
    expect(Object.keys(t.findOutputs('*')).some((k) => k.includes('acceleratordnsname'))).toBe(true);
    // A load balancer endpoint ignores these settings: the warning says which target group check to set.
    Annotations.fromStack(stacks.traffic!).hasWarning(
      '*',
      Match.stringLikeRegexp("us-east-1's endpoint is a load balancer"),
    );
  });
});

describe('mode arc', () => {
  it('a RECOVERY_CONTROL health check per region on its routing control, attached to its failover record', () => {
    const source = GENERATED['traffic: mode arc, failover records created'];
    const config = configOf(source);
    const { stacks, template } = synth(source);
    const t = template(stacks.traffic!);
    for (const r of [config.primary, config.standby]) {
      const [hcId, props] = healthCheckOf(t, r.region);
      expect(props.HealthCheckConfig).toEqual({
        Type: 'RECOVERY_CONTROL',
        RoutingControlArn: config.traffic!.arc!.routingControls[r.region],
      });
      t.hasResourceProperties('AWS::Route53::RecordSet', {
        SetIdentifier: r.setIdentifier,
        HealthCheckId: { 'Fn::GetAtt': [hcId, 'HealthCheckId'] },
      });
    }
  });
});
