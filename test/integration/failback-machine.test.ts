import { readFileSync } from 'node:fs';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { StoreError } from '#core/errors.js';
import type { Incident } from '#core/incident.js';
import { stepOrder } from '#core/step-registry.js';
import { MAX_ATTEMPTS } from '#steps/core/state.js';
import { failbackTaskHandlers } from '#steps/core/task-handlers.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { exampleConfig, vote } from '../support/fixtures.js';
import { at, type Harness, makeHarness } from '../support/machine-harness.js';

const FAILBACK = new URL('../../statemachines/failback.asl.json', import.meta.url).pathname;
const fast = { waitMs: 0, retryIntervalMs: 0 };
const sampleInput = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../events/failback-input.sample.json', import.meta.url), 'utf8'));

let harness: Harness | undefined;
afterEach(() => {
  harness?.restore();
  harness = undefined;
});

/**
 * After a failover: us-west-2 holds the lease and renews it; us-east-1 has been healthy for 15 minutes and
 * its database replicates from us-west-2 with no lag. A short lease keeps the fence's real wait to seconds.
 */
async function setup(edit: Parameters<typeof exampleConfig>[0] = () => {}) {
  const t = await freshTables('fb');
  const config = exampleConfig((c) => {
    // 1 000 + 700 (one health check) + 3 × 300 ≤ 3 000 − 200 − 200: the renewal rule.
    c.probe = { ...c.probe, connectTimeoutMs: 300, responseTimeoutMs: 700 };
    c.lease = {
      ttlMs: 3000,
      renewIntervalMs: 1000,
      retryTimeoutMs: 300,
      maxSkewMs: 200,
      safetyMarginMs: 200,
    };
    edit(c);
  });
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const held = await h.deps.leases.acquire('orders', 'us-west-2', null);
  if (!held.ok) throw new Error('could not seed the lease');
  h.log.length = 0;
  h.lagSeconds.value = 0;
  const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
  const now = Date.now();
  for (const voter of ['eu-west-1', 'ca-central-1', 'ap-northeast-1', 'sa-east-1']) {
    await votes.put(
      vote(
        { voter, target: 'us-east-1', healthy: true, observedAt: now - 500, streakSince: now - 15 * 60_000 },
        now,
      ),
    );
  }
  return { t, h, config, control: new DynamoControlStore(t.doc, t.names.control), epoch: held.lease.epoch };
}

const approve = (h: Harness) =>
  h.setApproval(async (req) => {
    expect(req).toMatchObject({ kind: 'failback', from: 'us-west-2', to: 'us-east-1' });
    return { approved: true, by: 'U012AB3CD', at: Date.now(), reason: 'planned' };
  });

describe('failback state machine, run locally on DynamoDB Local and mocked AWS APIs', () => {
  it('switches back with zero data loss: approval, fence, lag 0, promote, lease, traffic in weighted steps', async () => {
    const { h, control, epoch } = await setup();
    approve(h);
    const run = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Completed');
    expect(h.log).toEqual([
      'RDS.DescribeDBInstances orders-db-use1',
      'CloudWatch.GetMetricData 0',
      'approval failback',
      `lease.revoke epoch ${epoch + 1}`,
      'CloudWatch.GetMetricData 0',
      'RDS.DescribeDBInstances orders-db-use1',
      // The promoter reads again before it asks: a retried promote must not promote twice.
      'RDS.DescribeDBInstances orders-db-use1',
      'RDS.PromoteReadReplica orders-db-use1',
      'RDS.DescribeDBInstances orders-db-use1',
      `lease.grant us-east-1 epoch ${epoch + 2}`,
      'Route53.ChangeResourceRecordSets orders-us-east-1=10 orders-us-west-2=90',
      'Route53.ChangeResourceRecordSets orders-us-east-1=50 orders-us-west-2=50',
      'Route53.ChangeResourceRecordSets orders-us-east-1=100 orders-us-west-2=0',
      'health https://orders-use1.example.com/health',
      'EventBridge.PutEvents Failback Completed',
    ]);
    expect(at(h.log, 'lease.revoke')).toBeLessThan(at(h.log, 'RDS.PromoteReadReplica'));
    expect(at(h.log, 'lease.grant')).toBeLessThan(at(h.log, 'Route53.ChangeResourceRecordSets'));
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-east-1', epoch: epoch + 2 });
    const incidentId = run.output.incidentId as string;
    expect(await control.getIncident(incidentId)).toMatchObject({
      kind: 'failback',
      status: 'completed',
      requestedBy: 'alice@example.com',
    });
    const audit = (await control.listAudit('orders', incidentId)).map((a) => `${a.step}:${a.outcome}`);
    expect(audit).toEqual(
      expect.arrayContaining([
        'start:claimed',
        'preconditions:met',
        'approval-failback:approved',
        'fence:revoked',
        'drain-replication:drained',
        'promote:submitted',
        'grant-lease:granted',
        'route-traffic:weight-10',
        'route-traffic:weight-100',
        'notify:completed',
      ]),
    );
    // Every audit step is one the step registry names for this machine (functions/core/step-registry.ts).
    expect(
      audit.map((a) => a.split(':')[0]).filter((step) => !stepOrder('failback').includes(step!)),
    ).toEqual([]);
    for (const e of h.published) expect(eventErrors(e.detailType, e.detail), e.detailType).toEqual([]);
    const timings = h.published[0]?.detail.timings as { fenceMs: number } | undefined;
    expect(timings?.fenceMs).toBeGreaterThan(0);
  });

  it('one step of 100% in mode health-check: traffic follows the lease through the holder checks, no Route 53 call', async () => {
    const { h, epoch } = await setup();
    approve(h);
    const run = await runStateMachine(
      FAILBACK,
      { ...sampleInput(), trafficSteps: [100] },
      failbackTaskHandlers(h.deps),
      fast,
    );
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(h.route53.calls()).toEqual([]);
    // The router reads both checks at once: the last two readings, in either order.
    expect(
      h.holder.reads
        .slice(-2)
        .map((r) => [r.region, r.status])
        .sort(),
    ).toEqual([
      ['us-east-1', 200],
      ['us-west-2', 503],
    ]);
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-east-1', epoch: epoch + 2 });
  });

  it('a refused record change fails a failback as before: only the unplanned path is best effort', async () => {
    const { h } = await setup();
    approve(h);
    h.route53.on(ChangeResourceRecordSetsCommand).rejects(
      Object.assign(new Error('not allowed'), {
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const run = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.path.slice(-3)).toEqual(['RouteTrafficFailed', 'ReportFailure', 'FailbackFailed']);
    expect(h.published.map((e) => e.detailType)).toEqual(['Failback Failed']);
  });

  it.each([
    ['a missing field', { requestedBy: undefined }, 'requestedBy'],
    ['a misspelt field', { trafficStep: [100] }, 'trafficStep'],
    ['steps that do not end at 100', { trafficSteps: [10, 50] }, 'trafficSteps'],
    ['a region that is not configured', { to: 'eu-west-3' }, 'to'],
    ['a "from" that does not hold the lease', { from: 'us-east-1', to: 'us-west-2' }, 'from'],
  ])(
    'refuses %s at the first state, naming the field, before anything changes',
    async (_what, patch, field) => {
      const { h, control, epoch } = await setup();
      const input = { ...sampleInput(), ...(patch as Record<string, unknown>) };
      const run = await runStateMachine(
        FAILBACK,
        JSON.parse(JSON.stringify(input)),
        failbackTaskHandlers(h.deps),
        fast,
      );
      expect(run.status).toBe('FAILED');
      expect(run.path).toEqual(['StartFailback', 'InvalidInput']);
      expect(run.error?.Error).toBe('ValidationError');
      expect(run.error?.Cause).toContain(field);
      expect(h.log).toEqual([]);
      expect(await control.getIncident(`orders:${epoch}:1`)).toBeNull();
      expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch });
    },
  );

  it('fails at VerifyTimedOut when the region switched back to never answers healthy: not reported done', async () => {
    const { h, control } = await setup();
    approve(h);
    h.setHealth('unhealthy');
    const run = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.path.slice(-3)).toEqual(['VerifyTimedOut', 'ReportFailure', 'FailbackFailed']);
    expect(h.log.filter((l) => l.startsWith('health '))).toHaveLength(MAX_ATTEMPTS.verify);
    expect(h.published.map((e) => e.detailType)).toEqual(['Failback Failed']);
    expect(h.published[0]?.detail).toMatchObject({
      step: 'verify',
      error: 'VerifyFailedError',
      trafficMoved: true,
    });
    const incidentId = h.published[0]?.detail.incidentId as string;
    expect(await control.getIncident(incidentId)).toMatchObject({ kind: 'failback', status: 'failed' });
    for (const e of h.published) expect(eventErrors(e.detailType, e.detail), e.detailType).toEqual([]);
  });

  it('refuses a failback inside the cool-down after the last failover, unless the input overrides it', async () => {
    const { h, control, epoch } = await setup();
    // The failover that made us-west-2 primary completed a minute ago (cool-down 3600000 ms).
    const done = await control.requestIncident(
      {
        application: 'orders',
        kind: 'failover',
        epoch: epoch - 1,
        from: 'us-east-1',
        to: 'us-west-2',
        verdictKind: 'failover',
        verdictCode: 'QUORUM_UNHEALTHY',
        reason: 'outage',
        evidence: {},
        needsApproval: false,
        requestedAt: Date.now() - 120_000,
        requestedBy: 'us-east-2',
      },
      Date.now() - 120_000,
    );
    if (!done.created) throw new Error('could not seed the failover');
    await control.closeIncident({
      id: done.incident.id,
      status: 'completed',
      reason: 'failed over',
      now: Date.now() - 60_000,
      owner: { any: true },
    });
    const refused = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
    expect(refused.path).toEqual(['StartFailback', 'InvalidInput']);
    expect(refused.error?.Cause).toContain('overrideCooldown');
    expect(refused.error?.Cause).toContain('inside the cool-down of 3600000 ms');
    expect(await control.getIncident(`orders:${epoch}:1`)).toBeNull();

    approve(h);
    const run = await runStateMachine(
      FAILBACK,
      { ...sampleInput(), overrideCooldown: true },
      failbackTaskHandlers(h.deps),
      fast,
    );
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    const incident = await control.getIncident(run.output.incidentId);
    expect(incident?.evidence).toMatchObject({
      overrideCooldown: { by: sampleInput().requestedBy, reason: sampleInput().reason },
    });
  });

  it('aborts when a precondition is not met (lag over the threshold): nothing fenced', async () => {
    const { h, control, epoch } = await setup();
    h.lagSeconds.value = 4;
    const run = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.slice(-3)).toEqual(['PreconditionsNotMet', 'Abort', 'Aborted']);
    expect(h.log.some((l) => l.startsWith('lease.') || l.startsWith('approval'))).toBe(false);
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch });
    expect(await control.getIncident(run.output.incidentId)).toMatchObject({ status: 'aborted' });
    expect(h.published.map((e) => [e.detailType, e.detail.code, e.detail.fenced])).toEqual([
      ['Failback Aborted', 'PRECONDITIONS_NOT_MET', false],
    ]);
    expect(String(h.published[0]?.detail.reason)).toContain('4000 ms');
  });

  it('aborts when nobody approves in time, and a new failback may start right away', async () => {
    const { h } = await setup((c) => {
      c.approval.timeoutSeconds = 1;
    });
    h.setApproval(() => new Promise(() => {}));
    const run = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
    expect(run.path.slice(-3)).toEqual(['FailbackApprovalTimedOut', 'Abort', 'Aborted']);
    expect(h.published[0]?.detail).toMatchObject({ code: 'APPROVAL_TIMEOUT', fenced: false });
    h.setApproval(async () => ({ approved: false, by: 'U012AB3CD', at: Date.now(), reason: 'not today' }));
    const again = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
    expect(again.path.slice(-3)).toEqual(['FailbackApprovalRejected', 'Abort', 'Aborted']);
    expect(again.output.incidentId).toMatch(/^orders:\d+:2$/);
  });
});

describe('the first state of the failback machine: idempotent start, duplicates (DynamoDB Local)', () => {
  const OTHER_ARN = 'arn:aws:states:us-east-1:000000000000:execution:cutover-failback:other';

  it.each([
    ['its create landed (the claim failed)', 'before'],
    ['its create and its claim landed', 'after'],
  ] as const)(
    'a StartFailback retried after %s, the answer lost, continues instead of ending as Duplicate',
    async (_what, when) => {
      const { h, control, epoch } = await setup();
      const incidentId = `orders:${epoch}:1`;
      let quietUntil: number | undefined;
      h.setApproval(async () => {
        // The preconditions announced the approval wait: no control region may judge this execution dead.
        quietUntil = (await control.getIncident(incidentId))?.quietUntil;
        return { approved: true, by: 'U012AB3CD', at: Date.now(), reason: 'planned' };
      });
      const real = h.deps.control.claimIncident.bind(h.deps.control);
      let calls = 0;
      h.deps.control.claimIncident = async (id, arn, now) => {
        calls += 1;
        if (calls > 1) return real(id, arn, now);
        if (when === 'after') await real(id, arn, now);
        throw new StoreError('ProvisionedThroughputExceeded (the answer was lost)');
      };
      const started = Date.now();
      const run = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(run.path.slice(0, 3)).toEqual(['StartFailback', 'Started', 'Preconditions']);
      expect(run.path.at(-1)).toBe('Completed');
      expect(run.output.incidentId).toBe(incidentId);
      expect(await control.getIncident(incidentId)).toMatchObject({
        kind: 'failback',
        status: 'completed',
        executionArn: run.executionArn,
      });
      expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-east-1', epoch: epoch + 2 });
      expect(h.published.map((e) => e.detailType)).toEqual(['Failback Completed']);
      const audit = (await control.listAudit('orders', incidentId)).map((a) => `${a.step}:${a.outcome}`);
      expect(audit).toContain('start:claimed');
      expect(audit).not.toContain('start:duplicate');
      expect(quietUntil).toBeGreaterThanOrEqual(started + 60_000);
    },
  );

  it.each([
    ['the same failback, claimed by another execution', 'failback-running'],
    ["another operator's failback request that no execution claimed yet", 'other-request'],
    ['an automatic failover', 'failover'],
  ] as const)(
    'a duplicate start of the failback machine ends at the first state as Duplicate with no side effects: %s',
    async (_what, open) => {
      const { h, control, epoch } = await setup();
      approve(h);
      const input = sampleInput() as { from: string; to: string; requestedBy: string; reason: string };
      const created = await control.requestIncident(
        {
          application: 'orders',
          kind: open === 'failover' ? 'failover' : 'failback',
          epoch,
          from: input.from,
          to: input.to,
          verdictKind: open === 'failover' ? 'failover' : 'healthy',
          verdictCode: open === 'failover' ? 'QUORUM_UNHEALTHY' : 'FAILBACK_REQUESTED',
          reason: input.reason,
          evidence: {},
          needsApproval: open !== 'failover',
          requestedAt: Date.now() - 1_000,
          requestedBy:
            open === 'failover'
              ? 'us-east-2'
              : open === 'other-request'
                ? 'bob@example.com'
                : input.requestedBy,
        },
        Date.now() - 1_000,
      );
      if (!created.created) throw new Error('could not seed the incident');
      const id = created.incident.id;
      if (open === 'failback-running') await control.claimIncident(id, OTHER_ARN, Date.now() - 500);
      const before = await control.getIncident(id);
      const run = await runStateMachine(FAILBACK, sampleInput(), failbackTaskHandlers(h.deps), fast);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path).toEqual(['StartFailback', 'Started', 'Duplicate']);
      expect(run.output.start).toMatchObject({ claimed: false });
      expect(run.output.incidentId).toBe(id);
      expect(h.log).toEqual([]);
      expect(h.published).toEqual([]);
      expect(h.notifications).toEqual([]);
      expect(await control.getIncident(id)).toEqual(before satisfies Incident | null);
      expect(await control.listAudit('orders', id)).toEqual([]);
      expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch });
    },
  );
});
