import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildCutover, readConfig } from '../../infra/cutover-app.js';
import { topology } from '../../infra/topology.js';
import { CONFIGS } from './support.js';

const withTraffic = (traffic: Record<string, unknown>) => {
  const config = readConfig(CONFIGS.example);
  return { ...config, traffic: { ...config.traffic!, ...traffic } } as typeof config;
};

const withLease = (leaseAuthority: unknown) => {
  const config = readConfig(CONFIGS.example);
  return { ...config, leaseAuthority } as typeof config;
};

describe('topology', () => {
  it('votes replicas: every watcher and control region, home in the first control region', () => {
    const t = topology(readConfig(CONFIGS.example));
    expect(t.votes.home).toBe('us-east-2');
    expect(t.votes.regions.sort()).toEqual(
      [
        'us-east-2',
        'eu-central-1',
        'eu-west-1',
        'ap-southeast-2',
        'ca-central-1',
        'sa-east-1',
        'ap-northeast-1',
      ].sort(),
    );
  });

  it('the control table region: the local replica, else one on the same continent, else the home', () => {
    const t = topology(readConfig(CONFIGS.example));
    expect(t.controlTableRegionFor('us-west-2')).toBe('us-west-2');
    expect(t.controlTableRegionFor('us-west-1')).toBe('us-east-2');
    expect(t.controlTableRegionFor('eu-central-1')).toBe('us-east-2');
    expect(topology(readConfig(CONFIGS.arbiter)).controlTableRegionFor('eu-central-1')).toBe('us-east-2');
  });

  it('refuses MRSC regions outside one region set, naming the field, before any stack is built', () => {
    const bad = withLease({ mode: 'mrsc', regions: ['us-east-2', 'us-west-1', 'eu-central-1'] });
    expect(() => topology(bad)).toThrow(
      /^leaseAuthority\.regions: MRSC replicas and witness must all lie in one region set/,
    );
    const badWitness = withLease({
      mode: 'mrsc',
      regions: ['us-east-2', 'us-west-2'],
      witnessRegion: 'eu-west-1',
    });
    expect(() => buildCutover(new App(), badWitness)).toThrow(
      /^leaseAuthority\.witnessRegion: .*eu-west-1 is outside the US set/,
    );
  });

  it('keeps function names within Lambda’s 64 characters for a long application name', () => {
    const config = { ...readConfig(CONFIGS.example), application: 'a'.repeat(41) };
    const name = topology(config).names.function('failback-preconditions');
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/^cutover-a+-.*-[0-9a-f]{8}$/);
  });

  it('places the holder checks: the application origin by default, a configured URL as given, the function by region', () => {
    const example = readConfig(CONFIGS.example);
    expect(topology(example).traffic?.holderChecks).toEqual({
      'us-east-1': { served: 'application', url: 'https://orders-use1.example.com/cutover/holder' },
      'us-west-2': { served: 'application', url: 'https://orders-usw2.example.com/cutover/holder' },
    });
    const fn = withTraffic({ holderCheck: 'function' });
    fn.standby = { ...fn.standby, holderCheckUrl: 'https://holder.example.com/usw2' };
    const t = topology(fn);
    expect(t.traffic?.holderChecks).toEqual({
      'us-east-1': { served: 'function', authorityRegion: 'us-east-1' },
      'us-west-2': { served: 'configured', url: 'https://holder.example.com/usw2' },
    });
    expect(t.traffic?.holderFunctionRegions).toEqual(['us-east-2', 'us-east-1', 'us-west-2']);
    // Witness config: replicas in both application regions, the witness (no table) in us-east-2: each region's
    // check is served from its own replica, and none from the witness (a witness is never an application region).
    const witness = { ...readConfig(CONFIGS.witness) };
    witness.traffic = { ...witness.traffic!, holderCheck: 'function' };
    expect(topology(witness).traffic?.holderChecks).toEqual({
      'us-east-1': { served: 'function', authorityRegion: 'us-east-1' },
      'us-west-2': { served: 'function', authorityRegion: 'us-west-2' },
    });
    expect(topology(witness).traffic?.holderFunctionRegions).toEqual(['us-east-1', 'us-west-2']);
  });

  it.each([
    [
      'accelerator without its section',
      { mode: 'accelerator' },
      /^traffic\.accelerator: traffic mode accelerator needs it/,
    ],
    [
      'accelerator without an endpoint for the standby',
      {
        mode: 'accelerator',
        accelerator: {
          endpoints: { 'us-east-1': 'eipalloc-1' },
          healthCheckIntervalSeconds: 10,
          thresholdCount: 3,
        },
      },
      /^traffic\.accelerator\.endpoints\.us-west-2: /,
    ],
    [
      'accelerator with the function holder check',
      {
        mode: 'accelerator',
        holderCheck: 'function',
        accelerator: {
          endpoints: { 'us-east-1': 'eipalloc-1', 'us-west-2': 'eipalloc-2' },
          healthCheckIntervalSeconds: 10,
          thresholdCount: 3,
        },
      },
      /^traffic\.holderCheck: mode accelerator health-checks each endpoint directly/,
    ],
    ['arc without its section', { mode: 'arc' }, /^traffic\.arc: traffic mode arc needs it/],
    [
      'arc without a routing control for the standby',
      {
        mode: 'arc',
        arc: {
          clusterArn: 'arn:aws:route53-recovery-control::123456789012:cluster/c',
          routingControls: {
            'us-east-1': 'arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/r',
          },
        },
      },
      /^traffic\.arc\.routingControls\.us-west-2: /,
    ],
    [
      'a checker region Route 53 does not check from',
      {
        healthCheck: {
          requestIntervalSeconds: 10,
          failureThreshold: 1,
          regions: ['us-east-1', 'us-west-2', 'eu-central-1'],
        },
      },
      /^traffic\.healthCheck\.regions: eu-central-1 is not a region Route 53 checks from/,
    ],
    [
      'records created for an A record',
      { createRecords: true, recordType: 'A' },
      /^traffic\.recordType: createRecords makes CNAME records/,
    ],
  ])('refuses %s, naming the field', (_name, traffic, message) => {
    expect(() => topology(withTraffic(traffic))).toThrow(message);
    expect(() => buildCutover(new App(), withTraffic(traffic))).toThrow(message);
  });
});
