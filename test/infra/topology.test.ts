import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildCutover, readConfig } from '../../infra/cutover-app.js';
import { topology } from '../../infra/topology.js';
import { CONFIGS } from './support.js';

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
});
