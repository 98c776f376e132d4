import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthoritativeDnsResolver } from '#adapters/dns/authoritative-resolver.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { HttpHealthVerifier } from '#adapters/http/health-verifier.js';
import { stepOrder } from '#core/step-registry.js';
import { MAX_ATTEMPTS } from '#steps/core/state.js';
import { failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { startDnsServer } from '../support/dns-server.js';
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { exampleConfig, vote } from '../support/fixtures.js';
import { at, type Harness, makeHarness, seedStalledPrimary } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const fast = { waitMs: 0, retryIntervalMs: 0 };

let harness: Harness | undefined;
afterEach(() => {
  harness?.restore();
  harness = undefined;
});

type ConfigEdit = Parameters<typeof exampleConfig>[0];

/**
 * A primary that stopped renewing its lease two minutes ago (so the fence's wait is already over), and the
 * incident exactly as the aggregator creates it.
 */
async function setup(edit: ConfigEdit = () => {}, input: Record<string, unknown> = {}) {
  const t = await freshTables('fo');
  const config = exampleConfig(edit);
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const { control, request } = await seedStalledPrimary(t, config, input);
  return { t, h, config, control, input: request };
}

/** The handlers, with a mark in the log when the first state after the fence's Wait starts. */
function afterFenceWait(h: Harness, onWaited: () => void = () => {}) {
  const handlers = failoverTaskHandlers(h.deps);
  const rpo = handlers.RpoGuardFunctionArn!;
  let marked = false;
  handlers.RpoGuardFunctionArn = (ev) => {
    if (!marked) {
      marked = true;
      h.log.push('fence.waited');
      onWaited();
    }
    return rpo(ev);
  };
  return handlers;
}

const records: ConfigEdit = (c) => {
  c.traffic.mode = 'records';
};

const changes = (h: Harness) => h.log.filter((l) => l.startsWith('Route53.ChangeResourceRecordSets'));

function expectValidEvents(h: Harness) {
  for (const e of h.published) expect(eventErrors(e.detailType, e.detail), e.detailType).toEqual([]);
}

describe('failover state machine, run locally on DynamoDB Local and mocked AWS APIs', () => {
  it('fails over: fence before promote, lease before traffic, incident completed, timed event', async () => {
    const { h, control, input } = await setup();
    const run = await runStateMachine(FAILOVER, input, afterFenceWait(h), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).toEqual(
      expect.arrayContaining(['Claim', 'RecheckVotes', 'StopTraffic', 'Fence', 'OldLeaseOver', 'RpoGuard']),
    );
    // The old lease ran out two minutes ago: nothing to wait for, so the machine skips the Wait.
    expect(run.path).not.toContain('WaitOutOldLease');
    expect(run.path.at(-1)).toBe('Completed');

    // The exact calls, in order: traffic mode health-check (the default) makes no Route 53 call at all.
    expect(h.log).toEqual([
      'lease.revoke epoch 2',
      'fence.waited',
      'CloudWatch.GetMetricData 1',
      // The RPO guard reads the target (is it a replica?), the promote step reads it, and the promoter reads
      // again before it asks: a retried promote must not promote twice.
      'RDS.DescribeDBInstances orders-db-usw2',
      'RDS.DescribeDBInstances orders-db-usw2',
      'RDS.DescribeDBInstances orders-db-usw2',
      'RDS.PromoteReadReplica orders-db-usw2',
      'RDS.DescribeDBInstances orders-db-usw2',
      'lease.grant us-west-2 epoch 3',
      'health https://orders-usw2.example.com/health',
      'EventBridge.PutEvents Failover Completed',
    ]);
    expect(at(h.log, 'fence.waited')).toBeLessThan(at(h.log, 'RDS.PromoteReadReplica'));
    expect(h.route53.calls()).toEqual([]);
    // Traffic followed the lease: the last holder-check readings show the switch.
    // The router reads both checks at once: the last two readings, in either order.
    expect(
      h.holder.reads
        .slice(-2)
        .map((r) => [r.region, r.status, r.body])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['us-east-1', 503, { holding: false, holder: 'us-west-2', epoch: 3 }],
      ['us-west-2', 200, { holding: true, holder: 'us-west-2', epoch: 3 }],
    ]);

    const incident = await control.getIncident(input.incidentId);
    expect(incident).toMatchObject({ status: 'completed', executionArn: run.executionArn });
    const lease = await h.deps.leases.read('orders');
    expect(lease).toMatchObject({ holder: 'us-west-2', epoch: 3 });

    const [done] = h.published;
    expect(done?.detailType).toBe('Failover Completed');
    const timings = done?.detail.timings as Record<string, number>;
    expect(timings.detectionMs).toBe(30_000);
    for (const k of ['decisionMs', 'fenceMs', 'promoteMs', 'trafficMs', 'verifyMs', 'totalMs']) {
      expect(timings[k], k).toBeGreaterThanOrEqual(0);
    }
    const sum =
      timings.detectionMs! +
      timings.decisionMs! +
      timings.fenceMs! +
      timings.promoteMs! +
      timings.trafficMs! +
      timings.verifyMs!;
    expect(sum).toBe(timings.totalMs);
    expectValidEvents(h);

    const audit = (await control.listAudit('orders', input.incidentId)).map((a) => `${a.step}:${a.outcome}`);
    expect(audit).toEqual(
      expect.arrayContaining([
        'claim:claimed',
        'recheck:proceed',
        'stop-traffic:nothing-to-change',
        'fence:revoked',
        'rpo-guard:promote',
        'promote:submitted',
        'promote-status:writable',
        'grant-lease:granted',
        'route-traffic:weight-100',
        'route-traffic-status:insync',
        'verify:healthy',
        'notify:completed',
      ]),
    );
    // Every audit step is one the step registry names for this machine (functions/core/step-registry.ts).
    expect(
      audit.map((a) => a.split(':')[0]).filter((step) => !stepOrder('failover').includes(step!)),
    ).toEqual([]);
    // A step audits the code and reason of the decision it acted on.
    const fenced = (await control.listAudit('orders', input.incidentId)).find((a) => a.step === 'fence');
    expect(fenced?.detail).toMatchObject({
      decision: {
        code: 'REVOKE',
        reason: expect.stringMatching(/^us-east-1 holds the lease at epoch \d+: revoke it/),
      },
    });
  });

  it('waits out a lease that is still running at the fence, until expiry + skew, before the RPO guard', async () => {
    const { t, h, config, input } = await setup();
    // The primary renewed a moment ago: its lease still runs for 1.5 s after the fence revokes it.
    const renewing = new DynamoLeaseStore(t.doc, t.names.control, config.lease, {
      now: () => Date.now() - config.lease.ttlMs + 1_500,
    });
    const renewed = await renewing.renew('orders', 'us-east-1', 1);
    expect(renewed.ok).toBe(true);
    const expiresAt = renewed.ok ? renewed.lease.expiresAt : 0;
    let rpoStartedAt = 0;
    const run = await runStateMachine(
      FAILOVER,
      input,
      afterFenceWait(h, () => {
        rpoStartedAt = Date.now();
      }),
      fast,
    );
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    // Whether the Wait state runs depends on how much was left after the fence step (under a second: none).
    expect(run.path).toEqual(expect.arrayContaining(['Fence', 'OldLeaseOver', 'RpoGuard']));
    // The fence step waits the part of a second, the Wait (SecondsPath) the whole seconds: never before expiry + skew.
    expect(rpoStartedAt).toBeGreaterThanOrEqual(expiresAt + config.lease.maxSkewMs);
  });
  it('waits out a live lease plus the skew before it promotes, and the grant then succeeds at once', async () => {
    const { t, h, config, input } = await setup();
    // The primary renewed 28.5 s ago: its lease (ttl 30 s) is still live for 1.5 s, then the 1 s skew margin.
    const renewedAt = Date.now() - 28_500;
    const live = new DynamoLeaseStore(t.doc, t.names.control, config.lease, { now: () => renewedAt });
    const cur = await live.read('orders');
    await live.renew('orders', 'us-east-1', cur!.epoch);
    const lease = await live.read('orders');
    const safeAt = lease!.expiresAt + config.lease.maxSkewMs;
    let waitedUntil = 0;
    const run = await runStateMachine(
      FAILOVER,
      input,
      afterFenceWait(h, () => {
        waitedUntil = Date.now();
      }),
      fast,
    );
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(waitedUntil).toBeGreaterThanOrEqual(safeAt);
    expect(h.log.filter((l) => l.startsWith('lease.grant'))).toEqual(['lease.grant us-west-2 epoch 3']);
    expect(at(h.log, 'fence.waited')).toBeLessThan(at(h.log, 'RDS.PromoteReadReplica'));
  });

  it('runs once per incident: of two concurrent executions one ends at the claim as a duplicate', async () => {
    const { h, input } = await setup();
    const handlers = failoverTaskHandlers(h.deps);
    const runs = await Promise.all([
      runStateMachine(FAILOVER, input, handlers, fast),
      runStateMachine(FAILOVER, input, handlers, fast),
    ]);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const ends = runs.map((r) => r.path.at(-1)).sort();
    expect(ends).toEqual(['Completed', 'Duplicate']);
    const dup = runs.find((r) => r.path.at(-1) === 'Duplicate')!;
    expect(dup.path).toEqual(['Claim', 'Claimed', 'Duplicate']);
    expect(h.log.filter((l) => l.startsWith('RDS.PromoteReadReplica'))).toHaveLength(1);
    expect(h.published.map((e) => e.detailType)).toEqual(['Failover Completed']);
  });

  it('a duplicate start after the incident finished makes no AWS call at all', async () => {
    const { h, input } = await setup();
    await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    const before = h.log.length;
    const second = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(second.path).toEqual(['Claim', 'Claimed', 'Duplicate']);
    expect(h.log.slice(before)).toEqual([]);
  });

  it('aborts as a false alarm when a quorum sees the primary healthy again during the re-check', async () => {
    const { t, h, control, input } = await setup();
    const votes = new DynamoVoteStore(t.doc, t.names.votes, exampleConfig().watchers);
    const now = Date.now();
    for (const voter of ['eu-west-1', 'ca-central-1', 'ap-northeast-1']) {
      await votes.put(vote({ voter, target: 'us-east-1', healthy: true, observedAt: now - 500 }, now));
    }
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.slice(-3)).toEqual(['FalseAlarm', 'Abort', 'Aborted']);
    expect(changes(h)).toEqual([]);
    expect(h.log.some((l) => l.startsWith('lease.'))).toBe(false);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'aborted' });
    expect(h.published.map((e) => [e.detailType, e.detail.code, e.detail.fenced])).toEqual([
      ['Failover Aborted', 'FALSE_ALARM', false],
    ]);
    expectValidEvents(h);
  });

  it('traffic mode records: one record change after the grant, none before the fence', async () => {
    const { h, input } = await setup(records);
    const run = await runStateMachine(FAILOVER, input, afterFenceWait(h), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(changes(h)).toEqual(['Route53.ChangeResourceRecordSets orders-us-west-2=100 orders-us-east-1=0']);
    expect(at(h.log, 'lease.grant')).toBeLessThan(at(h.log, 'Route53.ChangeResourceRecordSets'));
    const route = h.route53.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input;
    expect(route).toMatchObject({
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: 'orders.example.com.',
              Type: 'CNAME',
              SetIdentifier: 'orders-us-west-2',
              Weight: 100,
              TTL: 60,
              ResourceRecords: [{ Value: 'orders-us-west-2.example.com' }],
            },
          },
          { Action: 'UPSERT', ResourceRecordSet: { SetIdentifier: 'orders-us-east-1', Weight: 0 } },
        ],
      },
    });
    const audit = (await h.deps.control.listAudit('orders', input.incidentId)).map(
      (a) => `${a.step}:${a.outcome}`,
    );
    expect(audit).toEqual(
      expect.arrayContaining([
        'stop-traffic:deferred',
        'route-traffic:weight-100',
        'route-traffic-status:insync',
      ]),
    );
  });

  it('traffic mode records: a throttled Route 53 change is retried inside the step and then succeeds', async () => {
    const { h, input } = await setup(records);
    let throttled = false;
    h.route53
      .on(ChangeResourceRecordSetsCommand)
      .callsFake((req: { ChangeBatch: { Changes: unknown[] } }) => {
        if (!throttled) {
          throttled = true;
          h.log.push('Route53.ChangeResourceRecordSets throttled');
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'Throttling',
            $metadata: { httpStatusCode: 400 },
          });
        }
        h.log.push(`Route53.ChangeResourceRecordSets ${req.ChangeBatch.Changes.length} changes`);
        return { ChangeInfo: { Id: `/change/T${h.log.length}`, Status: 'PENDING', SubmittedAt: new Date() } };
      });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Completed');
    const retried = run.events
      .filter((e) => e.type === 'StateRetried')
      .map((e) => 'state' in e && e.state.name);
    expect(retried).toEqual([]);
    expect(changes(h)).toEqual([
      'Route53.ChangeResourceRecordSets throttled',
      'Route53.ChangeResourceRecordSets 2 changes',
    ]);
    expect(h.published.map((e) => e.detailType)).toEqual(['Failover Completed']);
  });

  it('takes the failure path when the promotion is refused: no lease, no traffic to the standby', async () => {
    const { h, control, input } = await setup();
    h.db.failPromote = Object.assign(new Error('DB Instance is not a read replica.'), {
      name: 'InvalidDBInstanceStateFault',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.error?.Error).toBe('FailoverFailed');
    expect(run.path.slice(-4)).toEqual(['Promote', 'PromoteFailed', 'ReportFailure', 'FailoverFailed']);
    expect(h.log.some((l) => l.startsWith('lease.grant'))).toBe(false);
    expect(h.route53.calls()).toEqual([]);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'failed' });
    const failed = h.published.find((e) => e.detailType === 'Failover Failed');
    expect(failed?.detail).toMatchObject({
      step: 'promote',
      error: 'DatabaseError',
      fenced: true,
      promoted: false,
      leaseGranted: false,
      trafficMoved: false,
    });
    expect(String(failed?.detail.cause)).toContain('InvalidDBInstanceStateFault');
    expect(h.notifications.at(-1)).toContain('FAILED at promote');
    expectValidEvents(h);
  });

  it('reports a fence whose answer was lost as fenced: the page says what is true, not what was remembered', async () => {
    const { h, input } = await setup();
    const handlers = failoverTaskHandlers(h.deps);
    const fence = handlers.FenceFunctionArn!;
    handlers.FenceFunctionArn = async (ev) => {
      await fence(ev);
      throw Object.assign(new Error('the answer was lost'), { name: 'TransientError' });
    };
    const run = await runStateMachine(FAILOVER, input, handlers, fast);
    expect(run.status).toBe('FAILED');
    expect(h.published.find((e) => e.detailType === 'Failover Failed')?.detail).toMatchObject({
      step: 'fence',
      fenced: true,
      promoted: false,
      leaseGranted: false,
    });
  });

  it('gives up on a promotion that never becomes writable, after a bounded number of polls', async () => {
    const { h, input } = await setup((c) => {
      c.database.promoteTimeoutSeconds = 30;
    });
    h.db.promoteAfterPolls = Number.POSITIVE_INFINITY;
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    // One status read by the RPO guard (is the target a replica?), one before promoting and the promoter's own,
    // then 30 s / 10 s = 3 polls; then ReportFailure reads it once more, so that the page says what is true now
    // rather than what the execution remembers.
    expect(h.log.filter((l) => l.startsWith('RDS.DescribeDBInstances'))).toHaveLength(7);
    expect(run.path.slice(-3)).toEqual(['PromoteTimedOut', 'ReportFailure', 'FailoverFailed']);
    expect(h.published.find((e) => e.detailType === 'Failover Failed')?.detail).toMatchObject({
      step: 'promote',
      error: 'PromoteTimeoutError',
      fenced: true,
      promoted: false,
      leaseGranted: false,
    });
    expect(h.log.some((l) => l.startsWith('lease.grant'))).toBe(false);
  });

  it('aborts when the lag stays over the RPO budget and the policy is abort: nothing promoted', async () => {
    const { h, control, input } = await setup((c) => {
      c.approval.ambiguousPolicy = 'abort';
    });
    h.lagSeconds.value = 60;
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.slice(-3)).toEqual(['RpoOverBudget', 'Abort', 'Aborted']);
    expect(h.log.filter((l) => l.startsWith('CloudWatch.GetMetricData'))).toHaveLength(6);
    expect(h.log.some((l) => l.startsWith('RDS.PromoteReadReplica'))).toBe(false);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'aborted' });
    expect(h.published[0]?.detail).toMatchObject({ code: 'RPO_OVER_BUDGET', fenced: true });
    expectValidEvents(h);
  });

  it('never takes a zero lag read before the fence: the RPO guard stays over budget and aborts by policy', async () => {
    const { h, control, input } = await setup((c) => {
      c.approval.ambiguousPolicy = 'abort';
    });
    h.lagSeconds.value = 0;
    h.lagAt.value = Date.now() - 60_000;
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.path.slice(-3)).toEqual(['RpoOverBudget', 'Abort', 'Aborted']);
    expect(h.log.some((l) => l.startsWith('RDS.PromoteReadReplica'))).toBe(false);
    const rpo = (await control.listAudit('orders', input.incidentId)).find((a) => a.step === 'rpo-guard');
    expect(rpo?.detail?.reason).toBe(
      'replication lag unknown (the reading of 0 ms predates the fence) is over the RPO budget of 5000 ms after 6 readings; policy abort',
    );
  });

  it('never takes a standalone writable target as "already promoted": a person is asked about the data loss', async () => {
    const { h, control, input } = await setup();
    // The target reads as writable, and this incident never promoted it: a standalone old primary.
    h.db.promoted = true;
    h.db.promoteAfterPolls = 0;
    let asked = '';
    h.setApproval(async (req) => {
      asked = `${req.kind}: ${req.reason}`;
      return { approved: false, by: 'U012AB3CD', at: Date.now(), reason: 'not losing those writes' };
    });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).toContain('ApproveDataLoss');
    expect(run.path.at(-1)).toBe('Aborted');
    expect(asked).toMatch(
      /^data-loss: DATA LOSS if approved: the database in us-west-2 is writable but was not promoted by this incident/,
    );
    expect(h.log.some((l) => l.startsWith('lease.grant'))).toBe(false);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'aborted' });
  });

  it('takes a standalone target as it is only with the data loss accepted on the stored incident, never from the input', async () => {
    const sample = JSON.parse(
      readFileSync(new URL('../../events/failover-requested.sample.json', import.meta.url), 'utf8'),
    ) as { evidence: Record<string, unknown> };
    const accepted = {
      evidence: { ...sample.evidence, acceptDataLoss: { by: 'alice', reason: 'us-east-1 is gone for good' } },
    };
    const { h, control, input } = await setup(() => {}, accepted);
    h.db.promoted = true;
    h.db.promoteAfterPolls = 0;
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).not.toContain('ApproveDataLoss');
    expect(run.path.at(-1)).toBe('Completed');
    expect(h.log.some((l) => l.startsWith('RDS.PromoteReadReplica'))).toBe(false);
    const rpo = (await control.listAudit('orders', input.incidentId)).find((a) => a.step === 'rpo-guard');
    expect(rpo?.detail?.reason).toMatch(/^DATA LOSS accepted by the operator: /);

    // The same acceptance typed into an execution input whose stored incident lacks it counts for nothing.
    const other = await setup();
    other.h.db.promoted = true;
    other.h.db.promoteAfterPolls = 0;
    other.h.setApproval(async () => ({ approved: false, by: 'U012AB3CD', at: Date.now(), reason: 'no' }));
    const forged = { ...other.input, evidence: accepted.evidence };
    const refused = await runStateMachine(FAILOVER, forged, failoverTaskHandlers(other.h.deps), fast);
    expect(refused.path).toContain('ApproveDataLoss');
    expect(refused.path.at(-1)).toBe('Aborted');
  });

  it('asks a person when the lag is over budget and the policy is ask, and promotes once approved', async () => {
    const { h, input } = await setup();
    h.lagSeconds.value = 60;
    h.setApproval(async (req) => {
      expect(req).toMatchObject({ kind: 'data-loss', incidentId: input.incidentId, timeoutSeconds: 900 });
      return { approved: true, by: 'U012AB3CD', at: Date.now(), reason: 'accept 60 s of loss' };
    });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).toContain('ApproveDataLoss');
    expect(at(h.log, 'approval data-loss')).toBeLessThan(at(h.log, 'RDS.PromoteReadReplica'));
    expect(run.path.at(-1)).toBe('Completed');
  });

  describe('approval of an ambiguous failover', () => {
    const ambiguous = { needsApproval: true, verdictKind: 'failover-needs-approval' };

    it('waits for the approval before touching anything, then fails over', async () => {
      const { h, control, input } = await setup(() => {}, ambiguous);
      h.setApproval(async () => ({ approved: true, by: 'U012AB3CD', at: Date.now(), reason: 'go' }));
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(h.log[0]).toBe('approval failover');
      const audit = await control.listAudit('orders', input.incidentId);
      expect(audit.find((a) => a.step === 'approval-failover')).toMatchObject({
        outcome: 'approved',
        detail: { by: 'U012AB3CD' },
      });
      const done = h.published.find((e) => e.detailType === 'Failover Completed');
      const timings = done?.detail.timings as { approvalMs: number } | undefined;
      expect(timings?.approvalMs).toBeGreaterThanOrEqual(0);
    });

    it('aborts when the approver rejects', async () => {
      const { h, input } = await setup(() => {}, ambiguous);
      h.setApproval(async () => ({
        approved: false,
        by: 'U045EF6GH',
        at: Date.now(),
        reason: 'primary is fine',
      }));
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.path.slice(-3)).toEqual(['FailoverApprovalRejected', 'Abort', 'Aborted']);
      expect(h.log).toEqual(['approval failover', 'EventBridge.PutEvents Failover Aborted']);
      expect(h.published[0]?.detail).toMatchObject({ code: 'APPROVAL_REJECTED' });
      expect(String(h.published[0]?.detail.reason)).toContain('primary is fine');
    });

    it('applies the timeout policy (abort) when nobody answers, and reports it', async () => {
      const { h, control, input } = await setup((c) => {
        c.approval.timeoutSeconds = 1;
      }, ambiguous);
      h.setApproval(() => new Promise(() => {}));
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path.slice(-6)).toEqual([
        'FailoverApprovalTimedOut',
        'ApprovalTimedOut',
        'AfterApprovalTimeout',
        'ApprovalTimeoutAbort',
        'Abort',
        'Aborted',
      ]);
      expect(h.published.map((e) => [e.detailType, e.detail.code])).toEqual([
        ['Failover Aborted', 'APPROVAL_TIMEOUT'],
      ]);
      const audit = await control.listAudit('orders', input.incidentId);
      expect(audit.map((a) => `${a.step}:${a.outcome}`)).toContain('approval-timeout:abort');
      expectValidEvents(h);
    });
    /** A quorum (or fewer) of fresh watchers that see us-east-1 down over the whole debounce window. */
    async function unhealthyVotes(t: { doc: never; names: { votes: string } }, voters: string[]) {
      const store = new DynamoVoteStore(t.doc, t.names.votes, exampleConfig().watchers);
      const now = Date.now();
      for (const voter of voters) {
        await store.put(
          vote(
            { voter, target: 'us-east-1', healthy: false, streakSince: now - 60_000, observedAt: now - 500 },
            now,
          ),
        );
      }
    }
    const proceedOnTimeout: ConfigEdit = (c) => {
      c.approval.timeoutSeconds = 1;
      c.approval.timeoutPolicy = 'proceed';
    };

    it('does not proceed on timeout while paused, nor without a fresh quorum (I3)', async () => {
      const paused = await setup(proceedOnTimeout, ambiguous);
      await unhealthyVotes(paused.t as never, ['eu-west-1', 'ap-southeast-2', 'ca-central-1']);
      await paused.control.setPause('orders', {
        pausedBy: 'alice',
        pausedAt: Date.now(),
        reason: 'maintenance',
      });
      paused.h.setApproval(() => new Promise(() => {}));
      const a = await runStateMachine(FAILOVER, paused.input, failoverTaskHandlers(paused.h.deps), fast);
      expect(a.path.slice(-3)).toEqual(['ApprovalTimeoutAbort', 'Abort', 'Aborted']);

      const few = await setup(proceedOnTimeout, ambiguous);
      await unhealthyVotes(few.t as never, ['eu-west-1', 'ap-southeast-2']);
      few.h.setApproval(() => new Promise(() => {}));
      const b = await runStateMachine(FAILOVER, few.input, failoverTaskHandlers(few.h.deps), fast);
      expect(b.path.slice(-3)).toEqual(['ApprovalTimeoutAbort', 'Abort', 'Aborted']);
      const audit = await few.control.listAudit('orders', few.input.incidentId);
      expect(audit.find((x) => x.step === 'approval-timeout')?.outcome).toBe('abort');
      expect(few.h.log.filter((l) => l.startsWith('RDS') || l.startsWith('Route53'))).toEqual([]);
    });

    /**
     * The approval takes 15 minutes: the step clock jumps while the person decides (the lease store keeps the
     * real clock, so the old lease is long over either way). `during` runs at the new time, before the answer.
     */
    function slowApproval(h: Harness, during: (now: number) => Promise<void> = async () => {}) {
      let offset = 0;
      h.deps.clock = { now: () => Date.now() + offset };
      h.setApproval(async () => {
        offset = 15 * 60_000;
        await during(h.deps.clock.now());
        return { approved: true, by: 'U012AB3CD', at: h.deps.clock.now(), reason: 'go' };
      });
    }

    it('aborts with NO_FRESH_QUORUM when the votes went stale during a long approval: no fence on stale votes', async () => {
      const { h, t, control, input } = await setup(() => {}, ambiguous);
      await unhealthyVotes(t as never, ['eu-west-1', 'ap-southeast-2', 'ca-central-1']);
      slowApproval(h);
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path.slice(-5)).toEqual([
        'RecheckVotes',
        'PrimaryRecovered',
        'RecheckAbort',
        'Abort',
        'Aborted',
      ]);
      expect(h.log).toEqual(['approval failover', 'EventBridge.PutEvents Failover Aborted']);
      expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-east-1', epoch: 1 });
      expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'aborted' });
      expect(h.published.map((e) => [e.detailType, e.detail.code, e.detail.step, e.detail.fenced])).toEqual([
        ['Failover Aborted', 'NO_FRESH_QUORUM', 'recheck', false],
      ]);
      expect(String(h.published[0]?.detail.reason)).toMatch(
        /^no fresh quorum: \d+ ms since the decision, longer than a vote stays fresh \(25000 ms\), and only 0 fresh watchers/,
      );
      const audit = await control.listAudit('orders', input.incidentId);
      expect(audit.map((a) => `${a.step}:${a.outcome}`)).toContain('recheck:abort');
      expectValidEvents(h);
    });

    it('goes on after a long approval when the watchers kept seeing the primary down', async () => {
      const { h, t, input } = await setup(() => {}, ambiguous);
      const store = new DynamoVoteStore(t.doc, t.names.votes, exampleConfig().watchers);
      slowApproval(h, async (now) => {
        for (const voter of ['eu-west-1', 'ap-southeast-2', 'ca-central-1']) {
          await store.put(
            vote(
              {
                voter,
                target: 'us-east-1',
                healthy: false,
                streakSince: now - 16 * 60_000,
                observedAt: now - 500,
              },
              now,
            ),
          );
        }
      });
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(run.path.at(-1)).toBe('Completed');
      expect(run.output.recheck).toMatchObject({ proceed: true, code: 'QUORUM_UNHEALTHY_AMBIGUOUS' });
      expect(String((run.output.recheck as { reason: string }).reason)).toMatch(
        /^still failing over after \d+ ms: 3 fresh watchers/,
      );
    });

    it('after an approval timeout under policy proceed, stale votes abort by the same rule (NO_FRESH_QUORUM)', async () => {
      const { h, t, control, input } = await setup(proceedOnTimeout, ambiguous);
      await unhealthyVotes(t as never, ['eu-west-1', 'ap-southeast-2', 'ca-central-1']);
      let offset = 0;
      h.deps.clock = { now: () => Date.now() + offset };
      h.setApproval(() => {
        offset = 15 * 60_000;
        return new Promise(() => {});
      });
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.path.slice(-3)).toEqual(['ApprovalTimeoutAbort', 'Abort', 'Aborted']);
      const audit = await control.listAudit('orders', input.incidentId);
      expect(audit.find((a) => a.step === 'approval-timeout')?.detail).toMatchObject({
        decision: { code: 'NO_FRESH_QUORUM' },
      });
      expect(h.log.some((l) => l.startsWith('lease.'))).toBe(false);
    });

    it('applies the timeout policy proceed from the configuration: the failover goes on and completes', async () => {
      const { h, t, control, input } = await setup(proceedOnTimeout, ambiguous);
      await unhealthyVotes(t as never, ['eu-west-1', 'ap-southeast-2', 'ca-central-1']);
      h.setApproval(() => new Promise(() => {}));
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path).toContain('ApprovalTimedOut');
      expect(run.path.at(-1)).toBe('Completed');
      const audit = await control.listAudit('orders', input.incidentId);
      expect(audit.map((a) => `${a.step}:${a.outcome}`)).toContain('approval-timeout:proceed');
    });
  });

  describe('traffic on the unplanned path: no control-plane call in the default mode, best effort in mode records', () => {
    it('health-check: no Route 53 call, and the route poll ends only once the holder checks show the switch', async () => {
      const { h, control, input } = await setup();
      // us-west-2's guard has not re-read the lease for its first three answers (a real guard's cache lag).
      let held = 0;
      let switchServedAt = 0;
      h.holder.override['us-west-2'] = () => {
        if (held < 3) {
          held += 1;
          return 503;
        }
        switchServedAt ||= Date.now();
        return null;
      };
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(h.route53.calls()).toEqual([]);
      expect(run.path.filter((p) => p === 'RouteTrafficStatus')).toHaveLength(4);
      const polls = (await control.listAudit('orders', input.incidentId)).filter(
        (a) => a.step === 'route-traffic-status',
      );
      expect(polls.map((a) => [a.outcome, a.detail?.attempt, a.detail?.done])).toEqual([['insync', 4, true]]);
      // The holder readings the polls took: three of us-west-2 not holding, then the switch.
      const west = h.holder.reads.filter((r) => r.region === 'us-west-2').map((r) => r.status);
      expect(west).toEqual([503, 503, 503, 200]);
      // The traffic phase of the report ends when the switch was seen, not when the route step was submitted.
      const done = h.published.find((e) => e.detailType === 'Failover Completed')!;
      const steps = done.detail.steps as { key: string; startedAt: number; endedAt: number }[];
      const route = steps.find((st) => st.key === 'route')!;
      expect(route.endedAt).toBeGreaterThanOrEqual(switchServedAt);
      const timings = done.detail.timings as { trafficMs: number };
      const promoted = steps.find((st) => st.key === 'promote')!.endedAt;
      expect(timings.trafficMs).toBe(route.endedAt - promoted);
    });

    it('health-check: an old region still answering 200 holds the poll to its bound, then fails, with no Route 53 call', async () => {
      const { h, input } = await setup();
      h.holder.override['us-east-1'] = () => 200;
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status).toBe('FAILED');
      expect(run.path.slice(-3)).toEqual(['RouteTrafficTimedOut', 'ReportFailure', 'FailoverFailed']);
      expect(run.path.filter((p) => p === 'RouteTrafficStatus')).toHaveLength(MAX_ATTEMPTS.traffic);
      expect(h.route53.calls()).toEqual([]);
      const failed = h.published.find((e) => e.detailType === 'Failover Failed');
      expect(failed?.detail).toMatchObject({
        step: 'route-traffic',
        error: 'TrafficTimeoutError',
        leaseGranted: true,
      });
      expectValidEvents(h);
    });

    it('records: a Route 53 API that does not answer is reported and paged, and never fails the failover', async () => {
      const { h, control, input } = await setup(records);
      h.route53.on(ChangeResourceRecordSetsCommand).callsFake(() => {
        h.log.push('Route53.ChangeResourceRecordSets unavailable');
        throw Object.assign(new Error('Service Unavailable'), {
          name: 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
        });
      });
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(run.path.at(-1)).toBe('Completed');
      // Tried three times inside the route step (after the grant), never before the fence.
      expect(changes(h)).toEqual(Array(3).fill('Route53.ChangeResourceRecordSets unavailable'));
      expect(at(h.log, 'lease.grant')).toBeLessThan(at(h.log, 'Route53.ChangeResourceRecordSets'));
      expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch: 3 });
      expect(h.published.map((e) => e.detailType)).toEqual(['Traffic Change Failed', 'Failover Completed']);
      expect(h.published[0]!.detail).toMatchObject({
        step: 'route-traffic',
        mode: 'records',
        region: 'us-west-2',
        weightPercent: 100,
        error: 'TransientError',
        movedByApi: false,
      });
      expect(String(h.published[0]!.detail.message)).toContain('ServiceUnavailable');
      expectValidEvents(h);
      const audit = await control.listAudit('orders', input.incidentId);
      const route = audit.find((a) => a.step === 'route-traffic');
      expect(route?.outcome).toBe('not-moved-by-api');
      expect(route?.detail).toMatchObject({ movedByApi: false, error: { name: 'TransientError' } });
      // Paged at once, and the completion report says it too.
      expect(h.notifications[0]).toContain('NOT moved by API at route-traffic');
      expect(h.notifications.at(-1)).toMatch(/completed in \d+ ms; traffic was NOT moved by API/);
      const steps = h.published[1]!.detail.steps as { key: string; outcome: string }[];
      expect(steps.find((st) => st.key === 'route')?.outcome).toBe('not-moved-by-api');
      expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'completed' });
    });
  });

  it('verify: waits while the zone’s authoritative servers still answer the old region, and reports when DNS switched', async () => {
    const { h, control, input } = await setup();
    const server = await startDnsServer({
      NS: { 'example.com': ['ns1.example.com'] },
      A: { 'ns1.example.com': '127.0.0.1' },
      CNAME: { 'orders.example.com': 'orders-use1.example.com' },
    });
    try {
      const real = new AuthoritativeDnsResolver({
        timeoutMs: 500,
        publicServers: [`127.0.0.1:${server.port}`],
        authoritativePort: server.port,
      });
      let resolved = 0;
      h.deps.dns = {
        // The health check on the old region's holder check turns after two looks.
        resolve: async (name, type) => {
          resolved += 1;
          if (resolved === 3) server.table.CNAME!['orders.example.com'] = 'orders-usw2.example.com';
          return real.resolve(name, type);
        },
        valuesOf: (host, type) => real.valuesOf(host, type),
      };
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(run.path.filter((p) => p === 'Verify')).toHaveLength(3);
      expect(h.route53.calls()).toEqual([]);
      const audit = await control.listAudit('orders', input.incidentId);
      const verified = audit.find((a) => a.step === 'verify');
      expect(verified?.outcome).toBe('healthy');
      expect(verified?.detail).toMatchObject({
        attempt: 3,
        dns: { code: 'DNS_NEW_REGION' },
        decision: { code: 'DNS_NEW_REGION' },
      });
      const notify = audit.find((a) => a.step === 'notify');
      expect(notify?.detail?.dnsAfterGrantMs).toBeGreaterThanOrEqual(0);
      expect(server.queries.filter((q) => q.startsWith('CNAME'))).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  describe('verify: the new primary must answer healthy before the failover is reported done', () => {
    const checks = (h: Harness) => h.log.filter((l) => l.startsWith('health '));

    /** After a failed Verify: everything before it happened, the page says so, and nothing says completed. */
    async function expectFailedAtVerify(
      h: Harness,
      control: Awaited<ReturnType<typeof setup>>['control'],
      incidentId: string,
      error: string,
    ) {
      expect(await control.getIncident(incidentId)).toMatchObject({ status: 'failed' });
      expect(h.published.map((e) => e.detailType)).toEqual(['Failover Failed']);
      expect(h.published[0]?.detail).toMatchObject({
        step: 'verify',
        error,
        fenced: true,
        promoted: true,
        leaseGranted: true,
        trafficMoved: true,
      });
      expect(h.notifications.at(-1)).toContain('FAILED at verify');
      expectValidEvents(h);
    }

    it('fails at VerifyTimedOut when the new primary keeps answering unhealthy, after a bounded number of checks', async () => {
      const { h, control, input } = await setup();
      h.setHealth('unhealthy');
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status).toBe('FAILED');
      expect(run.error?.Error).toBe('FailoverFailed');
      expect(run.path.slice(-3)).toEqual(['VerifyTimedOut', 'ReportFailure', 'FailoverFailed']);
      expect(run.path).not.toContain('Notify');
      expect(checks(h)).toHaveLength(MAX_ATTEMPTS.verify);
      await expectFailedAtVerify(h, control, input.incidentId, 'VerifyFailedError');
      const audit = (await control.listAudit('orders', input.incidentId)).map(
        (a) => `${a.step}:${a.outcome}`,
      );
      // Polls audit only their last attempt.
      expect(audit.filter((a) => a.startsWith('verify:'))).toEqual(['verify:unhealthy']);
      expect(audit).not.toContain('notify:completed');
    });

    it('tells apart a broken Verify that reports done whatever the check answered', async () => {
      // The deliberate bug the test above catches: the same unhealthy endpoint, and the run reports success.
      const { h, control, input } = await setup();
      h.setHealth('unhealthy');
      const handlers = failoverTaskHandlers(h.deps);
      const verify = handlers.VerifyFunctionArn!;
      handlers.VerifyFunctionArn = async (ev) => ({ ...(await verify(ev)), done: true });
      const run = await runStateMachine(FAILOVER, input, handlers, fast);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path).not.toContain('VerifyTimedOut');
      expect(checks(h)).toHaveLength(1);
      expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'completed' });
    });

    it('polls until the new primary answers healthy, then completes', async () => {
      const { h, control, input } = await setup();
      h.setHealth('unhealthy', 'unhealthy', 'healthy');
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(run.path.filter((s) => s === 'Verify')).toHaveLength(3);
      expect(run.path.filter((s) => s === 'WaitVerify')).toHaveLength(2);
      expect(run.path.at(-1)).toBe('Completed');
      expect(checks(h)).toHaveLength(3);
      expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'completed' });
      expect(h.published.map((e) => e.detailType)).toEqual(['Failover Completed']);
    });

    it('fails at VerifyFailed when the health check itself throws, with the error in the report', async () => {
      const { h, control, input } = await setup();
      h.setHealth(
        Object.assign(new Error('socket hang up inside the verifier'), { name: 'VerifierBrokenError' }),
      );
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status).toBe('FAILED');
      expect(run.path.slice(-4)).toEqual(['Verify', 'VerifyFailed', 'ReportFailure', 'FailoverFailed']);
      expect(checks(h)).toHaveLength(1);
      await expectFailedAtVerify(h, control, input.incidentId, 'VerifierBrokenError');
      expect(String(h.published[0]?.detail.cause)).toContain('socket hang up inside the verifier');
    });

    it('retries a transient error of the check and completes when the next check is healthy', async () => {
      const { h, control, input } = await setup();
      h.setHealth(Object.assign(new Error('throttled'), { name: 'TransientError' }), 'healthy');
      const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      const retried = run.events
        .filter((e) => e.type === 'StateRetried')
        .map((e) => 'state' in e && e.state.name);
      expect(retried).toEqual(['Verify']);
      expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'completed' });
    });

    it('counts a health endpoint that accepts and never answers as unhealthy, with the real HTTP verifier', async () => {
      // A socket that takes connections and says nothing: each check ends at the probe's response timeout.
      const held: Socket[] = [];
      const silent: Server = createServer((s) => held.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const { port } = silent.address() as { port: number };
      try {
        const url = `http://127.0.0.1:${port}/health`;
        const { h, control, input } = await setup((c) => {
          c.standby.healthUrl = url;
        });
        h.setHealth(new HttpHealthVerifier({ connectTimeoutMs: 100, responseTimeoutMs: 150 }));
        const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
        expect(run.status).toBe('FAILED');
        expect(run.path.slice(-3)).toEqual(['VerifyTimedOut', 'ReportFailure', 'FailoverFailed']);
        expect(checks(h)).toEqual(Array(MAX_ATTEMPTS.verify).fill(`health ${url}`));
        const last = run.events
          .filter((e) => e.type === 'StateExited' && e.state.name === 'Verify')
          .map((e) =>
            'state' in e ? (e.state.output as { verify?: { detail?: string } }).verify?.detail : '',
          )
          .at(-1);
        expect(last).toMatch(/^timeout: no response after 150 ms/);
        await expectFailedAtVerify(h, control, input.incidentId, 'VerifyFailedError');
      } finally {
        for (const s of held) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    });
  });

  it('refuses an input that disagrees with its stored incident, before anything changes', async () => {
    const { h, control, input } = await setup(() => {}, {
      needsApproval: true,
      verdictKind: 'failover-needs-approval',
    });
    const forged = { ...input, needsApproval: false, verdictKind: 'manual', to: 'us-west-2' };
    const run = await runStateMachine(FAILOVER, forged, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.path).toEqual(['Claim', 'InvalidInput']);
    expect(run.error?.Cause).toContain('needsApproval');
    expect(run.error?.Cause).toContain('verdictKind');
    expect(h.log).toEqual([]);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'requested' });
    expect((await control.getIncident(input.incidentId))?.executionArn).toBeUndefined();
  });

  it('refuses a malformed input at the first state, before anything changes', async () => {
    const { h, input } = await setup();
    const { from: _from, ...partial } = input;
    const run = await runStateMachine(FAILOVER, partial, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.path).toEqual(['Claim', 'InvalidInput']);
    expect(run.error?.Error).toBe('ValidationError');
    expect(run.error?.Cause).toContain('from');
    expect(h.log).toEqual([]);
  });
});
