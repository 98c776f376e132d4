import { afterEach, describe, expect, it } from 'vitest';
import { failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig } from '../support/fixtures.js';
import { type Harness, makeHarness, seedStalledPrimary } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const fast = { waitMs: 0, retryIntervalMs: 0 };

let harness: Harness | undefined;
afterEach(() => {
  harness?.restore();
  harness = undefined;
});

type ConfigEdit = Parameters<typeof exampleConfig>[0];

/**
 * The real failover ASL with the step ports chosen as on AWS (partPorts in functions/steps/aws-deps.ts), for a
 * configuration that leaves out `traffic`, `database` or both.
 */
async function failover(edit: ConfigEdit) {
  const t = await freshTables('fu');
  const config = exampleConfig(edit);
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const { control, request } = await seedStalledPrimary(t, config);
  const run = await runStateMachine(FAILOVER, request, failoverTaskHandlers(h.deps), fast);
  const audit = await control.listAudit('orders', request.incidentId);
  const incident = await control.getIncident(request.incidentId);
  return { h, run, audit, incident };
}

const calls = (h: Harness, service: string) => h.log.filter((l) => l.startsWith(`${service}.`));

describe('failover with the optional traffic and database sections left out', () => {
  it('without traffic and database: nothing promoted, no record changed, lease granted, incident completed', async () => {
    const { h, run, audit, incident } = await failover((c) => {
      delete c.traffic;
      delete c.database;
    });
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Completed');
    expect(run.path).toEqual(expect.arrayContaining(['Fence', 'RpoGuard', 'Promote', 'GrantLease']));
    expect(h.log).toEqual([
      'lease.revoke epoch 2',
      'lease.grant us-west-2 epoch 3',
      'health https://orders-usw2.example.com/health',
      'EventBridge.PutEvents Failover Completed',
    ]);
    expect(incident).toMatchObject({ status: 'completed', executionArn: run.executionArn });
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch: 3 });

    const steps = audit.map((a) => `${a.step}:${a.outcome}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        'stop-traffic:nothing-to-change',
        'rpo-guard:no-database',
        'promote:already-writable',
        'route-traffic:weight-100',
        'notify:completed',
      ]),
    );
    // The promote step reports why nothing was promoted, in its decision and its detail.
    const promote = audit.find((a) => a.step === 'promote');
    expect(promote?.detail).toMatchObject({
      decision: { code: 'ALREADY_WRITABLE', reason: expect.stringContaining('no database is configured') },
    });
    const stop = audit.find((a) => a.step === 'stop-traffic');
    expect(JSON.stringify(stop?.detail)).toContain('traffic is not configured');
  });

  it('without a database only: traffic follows the lease (no Route 53 call), nothing is promoted', async () => {
    const { h, run, incident } = await failover((c) => {
      delete c.database;
    });
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(incident).toMatchObject({ status: 'completed' });
    expect(calls(h, 'RDS')).toEqual([]);
    expect(calls(h, 'CloudWatch')).toEqual([]);
    expect(calls(h, 'Route53')).toEqual([]);
    // The router reads both checks at once: the new holder's answer is one of the last two readings.
    expect(h.holder.reads.slice(-2)).toContainEqual(
      expect.objectContaining({ region: 'us-west-2', status: 200 }),
    );
  });

  it('without a database only, traffic mode records: one record change after the grant', async () => {
    const { h, run } = await failover((c) => {
      delete c.database;
      c.traffic.mode = 'records';
    });
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(calls(h, 'Route53')).toEqual([
      'Route53.ChangeResourceRecordSets orders-us-west-2=100 orders-us-east-1=0',
    ]);
  });

  it('without traffic only: the database is promoted, no record changed', async () => {
    const { h, run, incident } = await failover((c) => {
      delete c.traffic;
      delete c.primary.setIdentifier;
      delete c.standby.setIdentifier;
    });
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(incident).toMatchObject({ status: 'completed' });
    expect(calls(h, 'Route53')).toEqual([]);
    expect(calls(h, 'RDS')).toContain('RDS.PromoteReadReplica orders-db-usw2');
  });
});
