import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
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

/**
 * The real failover ASL with the ports chosen as on AWS for database.engine "dynamodb" (databasePorts in
 * functions/steps/aws-deps.ts): GlobalTablesPromoter and ReplicationLatencyReader, over the harness's mocked
 * CloudWatch, which here answers as DynamoDB publishes ReplicationLatency (one query per table).
 */
async function failover(
  policy: 'ask' | 'abort',
  answer: (at: number) => { lagMs: number; at: number } | Error,
) {
  const t = await freshTables('gt');
  const config = exampleConfig((c) => {
    delete c.primary.databaseId;
    delete c.standby.databaseId;
    c.database = { engine: 'dynamodb', tables: ['orders-items', 'orders-carts'] };
    c.approval.ambiguousPolicy = policy;
  });
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const asked: string[] = [];
  h.cloudWatch.on(GetMetricDataCommand).callsFake((input) => {
    const a = answer(h.deps.clock.now());
    h.log.push(`CloudWatch.GetMetricData ${(input.MetricDataQueries ?? []).length} tables`);
    if (a instanceof Error) throw a;
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((q: { Id: string }) => ({
        Id: q.Id,
        Values: [a.lagMs],
        Timestamps: [new Date(a.at)],
      })),
    };
  });
  h.setApproval(async (req) => {
    asked.push(`${req.kind}: ${req.reason}`);
    return { approved: false, by: 'U012AB3CD', at: Date.now(), reason: 'not without a lag reading' };
  });
  const { control, request } = await seedStalledPrimary(t, config);
  const run = await runStateMachine(FAILOVER, request, failoverTaskHandlers(h.deps), fast);
  const audit = await control.listAudit('orders', request.incidentId);
  return { h, run, audit, asked, incident: await control.getIncident(request.incidentId) };
}

describe('failover with application data on DynamoDB global tables', () => {
  it('a lag reading newer than the fence within budget: nothing promoted, and the audit says why', async () => {
    const { h, run, audit, incident } = await failover('ask', (now) => ({ lagMs: 900, at: now }));
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(incident).toMatchObject({ status: 'completed' });
    expect(h.log.filter((l) => l.startsWith('RDS.'))).toEqual([]);
    expect(h.log).toContain('CloudWatch.GetMetricData 2 tables');
    const promote = audit.find((a) => a.step === 'promote');
    expect(promote?.outcome).toBe('already-writable');
    expect(promote?.detail).toMatchObject({
      decision: {
        code: 'ALREADY_WRITABLE',
        reason: expect.stringContaining(
          'DynamoDB global tables orders-items, orders-carts: every replica takes writes, so there is nothing to promote in us-west-2',
        ),
      },
    });
    expect(audit.find((a) => a.step === 'rpo-guard')?.detail).toMatchObject({
      decision: {
        code: 'WITHIN_BUDGET',
        reason: 'replication lag 900 ms is within the RPO budget of 5000 ms',
      },
    });
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2' });
  });

  it('the failed source region does not answer: the lag is unknown, never zero, and a person is asked', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { h, run, asked, incident } = await failover('ask', () => down);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).toContain('ApproveDataLoss');
    expect(run.path.at(-1)).toBe('Aborted');
    expect(h.log.filter((l) => l.startsWith('CloudWatch.GetMetricData'))).toHaveLength(6);
    expect(asked).toEqual([
      'data-loss: replication lag unknown is over the RPO budget of 5000 ms after 6 readings; policy ask',
    ]);
    expect(incident).toMatchObject({ status: 'aborted' });
    expect(h.log.some((l) => l.startsWith('lease.grant'))).toBe(false);
  });

  it('a reading from before the fence counts as unknown: policy abort stops it', async () => {
    const { run, incident } = await failover('abort', () => ({ lagMs: 0, at: Date.now() - 120_000 }));
    expect(run.path.slice(-3)).toEqual(['RpoOverBudget', 'Abort', 'Aborted']);
    expect(incident).toMatchObject({ status: 'aborted' });
  });
});
