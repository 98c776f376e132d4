import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CutoverConfig } from '#core/config.js';
import { exampleConfig } from '../support/fixtures.js';

type ConfigEdit = Parameters<typeof exampleConfig>[0];

/**
 * awsStepDeps exactly as a step Lambda's cold start runs it: the configuration from CUTOVER_CONFIG (as the CDK
 * app sets it), the tables and bus from their variables, and a fresh module so that nothing is cached.
 */
async function coldStart(edit: ConfigEdit) {
  const config: CutoverConfig = exampleConfig(edit);
  vi.stubEnv('CUTOVER_CONFIG', JSON.stringify(config));
  vi.resetModules();
  const { awsStepDeps } = await import('#steps/aws-deps.js');
  return awsStepDeps();
}

/** The classes behind the three optional parts (a fresh module graph has its own class objects). */
const kinds = (deps: { traffic: object; database: object; lag: object }) =>
  [deps.traffic, deps.database, deps.lag].map((p) => p.constructor.name);

beforeEach(() => {
  vi.stubEnv('AWS_REGION', 'us-east-2');
  vi.stubEnv('CONTROL_TABLE', 'cutover-orders-control');
  vi.stubEnv('VOTES_TABLE', 'cutover-orders-votes');
  vi.stubEnv('EVENT_BUS_NAME', 'cutover-orders');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the step Lambdas’ dependencies on AWS, built at cold start', () => {
  it('without traffic and database: builds, and the two parts say they are not configured', async () => {
    const deps = await coldStart((c) => {
      delete c.traffic;
      delete c.database;
    });
    expect(await deps.traffic.stopTraffic('us-east-1')).toEqual({
      changeId: null,
      detail: expect.stringContaining('traffic is not configured'),
    });
    expect(await deps.traffic.routeTo('us-west-2', 100)).toMatchObject({ changeId: null });
    await expect(deps.traffic.changeStatus('/change/C1')).rejects.toMatchObject({ name: 'TrafficError' });
    expect(await deps.database.status('us-west-2')).toEqual({
      writable: true,
      managed: false,
      detail: expect.stringContaining('no database is configured'),
    });
    // No replica to measure: unknown, never zero.
    expect(await deps.lag.read('us-west-2')).toEqual({ lagMs: null, at: null });
  });

  it('builds with only one of them left out, and uses the AWS adapter for the other', async () => {
    const noDatabase = await coldStart((c) => {
      delete c.database;
    });
    // Traffic mode health-check (the default): the holder checks, with the record API for weighted steps.
    expect(kinds(noDatabase)).toEqual(['ModeTrafficRouter', 'NoDatabasePromoter', 'NoDatabaseLagReader']);

    const noTraffic = await coldStart((c) => {
      delete c.traffic;
    });
    expect(kinds(noTraffic)).toEqual([
      'UnconfiguredTrafficRouter',
      'RdsDatabasePromoter',
      'CloudWatchLagReader',
    ]);
  });
});
