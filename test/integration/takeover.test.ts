import { readFileSync } from 'node:fs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import { type AggregatorDeps, aggregate } from '#commons/aggregate.js';
import type { CutoverConfig } from '#core/config.js';
import { failoverRequestedDetail } from '#core/events.js';
import { failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { type RunOptions, runStateMachine } from '../../infra/local/sfn-runner.js';
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { exampleConfig, vote } from '../support/fixtures.js';
import { type Harness, makeHarness, seedStalledPrimary } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const fast = { waitMs: 0, retryIntervalMs: 0 };
const DEAD_ARN = 'arn:aws:states:us-east-2:000000000000:execution:cutover-failover:dead';

/** A vote record as the stream delivers it: to the aggregator it only says "look again". */
function streamRecord(now: number) {
  const v = vote({ voter: 'eu-west-1', target: 'us-east-1', healthy: false }, now);
  return {
    eventName: 'INSERT',
    dynamodb: {
      SequenceNumber: '1',
      NewImage: marshall({ pk: 'orders#us-east-1#eu-west-1', sk: 'eu-west-1', ...v }),
    },
  };
}

describe('takeover of a stalled incident by a surviving control region (DynamoDB Local)', () => {
  const T0 = 1_800_000_000_000;
  let config: CutoverConfig;

  /** The primary's lease at epoch 1 and incident orders:1:1 claimed by us-east-2's execution at T0. */
  async function stalled(opts: { fenced?: boolean } = {}) {
    const t = await freshTables('tko');
    config = exampleConfig();
    const control = new DynamoControlStore(t.doc, t.names.control);
    const leases = new DynamoLeaseStore(t.doc, t.names.control, config.lease, { now: () => T0 - 60_000 });
    const held = await leases.acquire('orders', 'us-east-1', null);
    if (!held.ok) throw new Error('could not seed the lease');
    if (opts.fenced) await leases.revoke('orders', held.lease.epoch);
    const sample = JSON.parse(
      readFileSync(new URL('../../events/failover-requested.sample.json', import.meta.url), 'utf8'),
    );
    const { incidentId: _i, attempt: _a, ...request } = sample;
    const created = await control.requestIncident({ ...request, requestedAt: T0 - 1_000 }, T0 - 1_000);
    if (!created.created) throw new Error('could not seed the incident');
    const claim = await control.claimIncident(created.incident.id, DEAD_ARN, T0);
    if (!claim.claimed) throw new Error('could not claim the incident');
    const events = new RecordingPublisher(() => T0);
    const deps = (region: string, now: number): AggregatorDeps => ({
      config,
      region,
      votes: new DynamoVoteStore(t.doc, t.names.votes, config.watchers),
      leases: new DynamoLeaseStore(t.doc, t.names.control, config.lease, { now: () => now }),
      control,
      events,
      clock: { now: () => now },
    });
    return { t, control, events, deps, id: created.incident.id };
  }

  it('lets exactly one of two racing survivors take it over, with the conditional write', async () => {
    const { control, id } = await stalled();
    const seen = (await control.getIncident(id))!;
    const now = T0 + config.takeoverAfterMs;
    const [a, b] = await Promise.all([
      control.takeOverIncident(seen, 'eu-central-1', now),
      control.takeOverIncident(seen, 'us-west-1', now),
    ]);
    expect([a.takenOver, b.takenOver].sort()).toEqual([false, true]);
    const winner = a.takenOver ? 'eu-central-1' : 'us-west-1';
    expect(await control.getIncident(id)).toMatchObject({
      status: 'requested',
      requestedBy: winner,
      takenOverFrom: DEAD_ARN,
      takeovers: 1,
      progressAt: now,
    });
    expect((await control.getIncident(id))?.executionArn).toBeUndefined();
  });

  it('through the aggregator: one survivor takes over, audits it and puts one Failover Requested', async () => {
    const { control, events, deps, id } = await stalled({ fenced: true });
    const now = T0 + config.takeoverAfterMs;
    const records = [streamRecord(now)];
    const results = await Promise.all([
      aggregate(records, deps('eu-central-1', now)),
      aggregate(records, deps('us-west-1', now)),
    ]);
    const outcomes = results.map((r) => r.decisions[0]?.outcome);
    expect(outcomes.filter((o) => o?.action === 'taken-over')).toHaveLength(1);
    // The loser finds the lease revoked: the fence belongs to the incident's new execution.
    expect(outcomes.find((o) => o?.action !== 'taken-over')).toMatchObject({
      action: 'none',
      code: 'FENCE_IN_PROGRESS',
    });
    const requested = events.ofType('Failover Requested');
    expect(requested).toHaveLength(1);
    const incident = await control.getIncident(id);
    expect(requested[0]?.detail).toMatchObject({ incidentId: id, requestedBy: incident?.requestedBy });
    expect(incident?.publishedAt).toBe(now);
    const audit = await control.listAudit('orders', id);
    expect(audit.find((e) => e.step === 'takeover')).toMatchObject({
      outcome: 'EXECUTION_STALLED',
      detail: { from: DEAD_ARN, by: incident?.requestedBy, progressStep: 'claim' },
    });
  });

  it('while paused, holds the takeover of an incident not fenced yet: no execution, the incident untouched', async () => {
    const { control, events, deps, id } = await stalled();
    await control.setPause('orders', { pausedBy: 'ana', pausedAt: T0, reason: 'db upgrade' });
    const now = T0 + config.takeoverAfterMs;
    const res = await aggregate([streamRecord(now)], deps('eu-central-1', now));
    const outcome = res.decisions[0]?.outcome;
    expect(outcome).toMatchObject({ action: 'none', code: 'TAKEOVER_PAUSED' });
    expect(outcome?.action === 'none' && outcome.reason).toMatch(
      /^not acted on: execution .* made no progress for \d+ ms.*; automatic failover is paused by ana \(db upgrade\), and orders:1:1 is not fenced/,
    );
    expect(events.ofType('Failover Requested')).toHaveLength(0);
    expect(await control.getIncident(id)).toMatchObject({ status: 'running', executionArn: DEAD_ARN });
    expect((await control.listAudit('orders', id)).some((e) => e.step === 'takeover')).toBe(false);

    // Resumed: the next decision takes it over as usual.
    await control.clearPause('orders');
    const after = await aggregate([streamRecord(now)], deps('eu-central-1', now));
    expect(after.decisions[0]?.outcome).toMatchObject({ action: 'taken-over', incidentId: id });
  });

  it('while paused, still finishes an incident already fenced: stopping there would leave no writer', async () => {
    const { control, events, deps, id } = await stalled({ fenced: true });
    await control.setPause('orders', { pausedBy: 'ana', pausedAt: T0, reason: 'db upgrade' });
    const now = T0 + config.takeoverAfterMs;
    const res = await aggregate([streamRecord(now)], deps('eu-central-1', now));
    const outcome = res.decisions[0]?.outcome;
    expect(outcome).toMatchObject({ action: 'taken-over', incidentId: id, code: 'EXECUTION_STALLED' });
    expect(outcome?.action === 'taken-over' && outcome.reason).toMatch(
      /automatic failover is paused by ana \(db upgrade\), but orders:1:1 is fenced already and stopping it would leave no writer$/,
    );
    expect(events.ofType('Failover Requested')).toHaveLength(1);
  });

  it('does not take over an incident whose execution showed progress within takeoverAfterMs', async () => {
    const { control, events, deps, id } = await stalled({ fenced: true });
    const now = T0 + config.takeoverAfterMs - 1;
    const res = await aggregate([streamRecord(now)], deps('eu-central-1', now));
    expect(res.decisions[0]?.outcome).toMatchObject({ action: 'none', code: 'FENCE_IN_PROGRESS' });
    expect(events.ofType('Failover Requested')).toHaveLength(0);
    expect(await control.getIncident(id)).toMatchObject({ status: 'running', executionArn: DEAD_ARN });
  });

  it('does not take over while the execution announced a wait (the old lease, an approval)', async () => {
    const { control, events, deps, id } = await stalled({ fenced: true });
    const progress = await control.recordProgress(id, DEAD_ARN, {
      at: T0,
      step: 'fence',
      quietUntil: T0 + 60_000,
    });
    expect(progress.owned).toBe(true);
    const now = T0 + config.takeoverAfterMs;
    await aggregate([streamRecord(now)], deps('eu-central-1', now));
    expect(events.ofType('Failover Requested')).toHaveLength(0);
    expect(await control.getIncident(id)).toMatchObject({ status: 'running', executionArn: DEAD_ARN });
  });

  it('fences the old execution off: its progress write fails once the incident is taken over', async () => {
    const { control, id } = await stalled();
    const seen = (await control.getIncident(id))!;
    await control.takeOverIncident(seen, 'eu-central-1', T0 + config.takeoverAfterMs);
    const res = await control.recordProgress(id, DEAD_ARN, { at: T0 + 1, step: 'promote' });
    expect(res).toMatchObject({ owned: false, incident: { status: 'requested' } });
    const claim = await control.claimIncident(id, 'arn:aws:states:eu-central-1:0:execution:m:new', T0 + 2);
    expect(claim).toMatchObject({ claimed: true, incident: { takeovers: 1, takenOverFrom: DEAD_ARN } });
  });
});

describe('a stalled failback is abandoned, never taken over (DynamoDB Local)', () => {
  const T0 = 1_800_000_000_000;
  const FAILBACK_ARN = 'arn:aws:states:us-east-2:000000000000:execution:cutover-failback:dead';

  /**
   * After a failover: us-west-2 holds the lease at epoch 1. An operator's failback to us-east-1 opened the
   * incident orders:1:1 and (unless `unclaimed`) its execution in us-east-2 claimed it at T0, then its control
   * region died. The watchers now see us-west-2 down: an automatic failover to us-east-1 is due.
   */
  async function stalledFailback(opts: { unclaimed?: boolean; fenced?: boolean } = {}) {
    const t = await freshTables('tkb');
    const config = exampleConfig();
    const control = new DynamoControlStore(t.doc, t.names.control);
    const leases = new DynamoLeaseStore(t.doc, t.names.control, config.lease, { now: () => T0 - 60_000 });
    const held = await leases.acquire('orders', 'us-west-2', null);
    if (!held.ok) throw new Error('could not seed the lease');
    if (opts.fenced) await leases.revoke('orders', held.lease.epoch);
    const created = await control.requestIncident(
      {
        application: 'orders',
        kind: 'failback',
        epoch: held.lease.epoch,
        from: 'us-west-2',
        to: 'us-east-1',
        verdictKind: 'healthy',
        verdictCode: 'FAILBACK_REQUESTED',
        reason: 'planned failback',
        evidence: {},
        needsApproval: true,
        requestedAt: T0,
        requestedBy: 'alice@example.com',
      },
      T0,
    );
    if (!created.created) throw new Error('could not seed the failback');
    if (!opts.unclaimed) {
      const claim = await control.claimIncident(created.incident.id, FAILBACK_ARN, T0);
      if (!claim.claimed) throw new Error('could not claim the failback');
    }
    const events = new RecordingPublisher(() => T0);
    const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    const deps = (region: string, now: number): AggregatorDeps => ({
      config,
      region,
      votes,
      leases: new DynamoLeaseStore(t.doc, t.names.control, config.lease, { now: () => now }),
      control,
      events,
      clock: { now: () => now },
    });
    const primaryDown = async (now: number) => {
      for (const voter of config.watchers) {
        await votes.put(
          vote(
            { voter, target: 'us-west-2', healthy: false, detail: 'refused', streakSince: now - 60_000 },
            now,
          ),
        );
        await votes.put(vote({ voter, target: 'us-east-1' }, now));
      }
    };
    return { config, control, events, deps, primaryDown, id: created.incident.id, epoch: held.lease.epoch };
  }

  it('one of two racing aggregators closes it as failed and pages; then a failover is requested at that epoch', async () => {
    const { config, control, events, deps, primaryDown, id, epoch } = await stalledFailback();
    const now = T0 + config.takeoverAfterMs;
    await primaryDown(now);
    // Before: the failback holds the epoch, so the automatic failover is a duplicate.
    const blocked = await aggregate([streamRecord(now)], deps('eu-central-1', now - 1));
    expect(blocked.decisions[0]?.outcome).toMatchObject({ action: 'duplicate', incidentId: id });

    const results = await Promise.all([
      aggregate([streamRecord(now)], deps('eu-central-1', now)),
      aggregate([streamRecord(now)], deps('us-west-1', now)),
    ]);
    const outcomes = results.map((r) => r.decisions[0]?.outcome);
    const abandoned = outcomes.filter((o) => o?.action === 'abandoned');
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]).toMatchObject({ incidentId: id, code: 'FAILBACK_ABANDONED' });
    expect(abandoned[0]?.action === 'abandoned' && abandoned[0].reason).toContain(
      `abandoned: no progress for ${config.takeoverAfterMs} ms; a failback is not taken over`,
    );

    const failed = events.ofType('Failback Failed');
    expect(failed).toHaveLength(1);
    expect(eventErrors('Failback Failed', failed[0]?.detail)).toEqual([]);
    expect(failed[0]?.detail).toMatchObject({
      incidentId: id,
      kind: 'failback',
      from: 'us-west-2',
      to: 'us-east-1',
      step: 'claim',
      error: 'FailbackAbandoned',
      fenced: false,
      leaseGranted: false,
      trafficMoved: false,
      failedAt: now,
    });
    const audit = (await control.listAudit('orders', id)).filter((a) => a.step === 'abandon');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      outcome: 'FAILBACK_ABANDONED',
      detail: { executionArn: FAILBACK_ARN, status: 'running', progressStep: 'claim' },
    });

    // The loser may have requested the failover in the same pass; either way, one failover at that epoch.
    await aggregate([streamRecord(now)], deps('eu-central-1', now));
    expect(events.ofType('Failover Requested')).toHaveLength(1);
    const next = await control.openIncident('orders', epoch, epoch);
    expect(next).toMatchObject({ id: `orders:${epoch}:2`, kind: 'failover', status: 'requested' });
    expect(next?.executionArn).toBeUndefined();
  });

  it('abandons an unclaimed failback request too, after a fence: the aggregator then stands aside', async () => {
    const { config, control, events, deps, id } = await stalledFailback({ unclaimed: true, fenced: true });
    const now = T0 + config.takeoverAfterMs;
    const res = await aggregate([streamRecord(now)], deps('us-east-2', now));
    expect(res.decisions[0]?.outcome).toMatchObject({ action: 'abandoned', incidentId: id });
    expect(await control.getIncident(id)).toMatchObject({ status: 'failed', reopenAfter: now });
    expect((await control.getIncident(id))?.closeReason).toContain('abandoned: no progress for');
    expect(events.ofType('Failback Failed')[0]?.detail).toMatchObject({ step: 'start', fenced: true });
    const again = await aggregate([streamRecord(now)], deps('us-east-2', now));
    expect(again.decisions[0]?.outcome).toMatchObject({ action: 'none', code: 'FENCE_IN_PROGRESS' });
    expect(events.ofType('Failback Failed')).toHaveLength(1);
  });

  it.each([
    ['it showed progress within takeoverAfterMs', 'progress'],
    ['it waits for its approval (announced by quietUntil)', 'approval'],
  ] as const)('leaves a live failback alone: %s', async (_what, live) => {
    const { config, control, events, deps, primaryDown, id } = await stalledFailback();
    const now = T0 + config.takeoverAfterMs + 60_000;
    await primaryDown(now);
    const progress =
      live === 'progress'
        ? { at: now - config.takeoverAfterMs + 1, step: 'drain-replication' }
        : { at: T0 + 1_000, step: 'preconditions', quietUntil: T0 + 1_000 + 900_000 };
    expect((await control.recordProgress(id, FAILBACK_ARN, progress)).owned).toBe(true);
    const res = await Promise.all([
      aggregate([streamRecord(now)], deps('eu-central-1', now)),
      aggregate([streamRecord(now)], deps('us-east-2', now)),
    ]);
    for (const r of res)
      expect(r.decisions[0]?.outcome).toMatchObject({ action: 'duplicate', incidentId: id });
    expect(await control.getIncident(id)).toMatchObject({ status: 'running', executionArn: FAILBACK_ARN });
    expect(events.ofType('Failback Failed')).toHaveLength(0);
    expect(events.ofType('Failover Requested')).toHaveLength(0);
  });
});

let harness: Harness | undefined;
afterEach(() => {
  harness?.restore();
  harness = undefined;
});

/** As failover-machine.test.ts: a primary that stopped renewing two minutes ago, and its incident. */
async function machineSetup() {
  const t = await freshTables('tkm');
  const config = exampleConfig();
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const { control, incident } = await seedStalledPrimary(t, config);
  return { h, control, input: failoverRequestedDetail(incident), id: incident.id };
}

type Handlers = ReturnType<typeof failoverTaskHandlers>;

/** Handlers whose `key` Task runs, then calls `after` (a takeover, an abort) before it answers. */
function withAfter(h: Harness, key: string, after: () => Promise<void> | void): Handlers {
  const handlers = failoverTaskHandlers(h.deps);
  const inner = handlers[key]!;
  let done = false;
  handlers[key] = async (ev) => {
    const res = await inner(ev);
    if (!done) {
      done = true;
      await after();
    }
    return res;
  };
  return handlers;
}

describe('execution fencing and resumption across a takeover (state machine on DynamoDB Local)', () => {
  it('a superseded execution stops at its next step: no promotion, no lease, no traffic, no event', async () => {
    const { h, control, input, id } = await machineSetup();
    let mark = 0;
    const handlers = withAfter(h, 'FenceFunctionArn', async () => {
      const seen = (await control.getIncident(id))!;
      const res = await control.takeOverIncident(seen, 'eu-central-1', Date.now());
      expect(res.takenOver).toBe(true);
      mark = h.log.length;
    });
    const run = await runStateMachine(FAILOVER, input, handlers, fast);
    // It ends as superseded, not failed: nothing pages for an execution that was replaced on purpose.
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.slice(-2)).toEqual(['RpoGuard', 'Superseded']);
    expect(h.log.slice(mark)).toEqual([]);
    expect(h.published).toEqual([]);
    expect(h.notifications).toEqual([]);
    // The incident stays as the takeover left it, for the new execution.
    expect(await control.getIncident(id)).toMatchObject({ status: 'requested', requestedBy: 'eu-central-1' });
    const audit = (await control.listAudit('orders', id)).map((a) => `${a.step}:${a.outcome}`);
    expect(audit).toEqual(expect.arrayContaining(['rpo-guard:superseded']));
    expect(audit).not.toContain('report-failure:superseded');
  });

  it.each([
    ['ClaimIncidentFunctionArn', 'RecheckVotes', 'recheck'],
    ['PromoteFunctionArn', 'PromoteStatus', 'promote-status'],
  ])(
    'a step that only reads runs alongside its ownership check and still stops a superseded execution (taken over after %s)',
    async (key, state, step) => {
      const { h, control, input, id } = await machineSetup();
      let mark = 0;
      const handlers = withAfter(h, key, async () => {
        const seen = (await control.getIncident(id))!;
        expect((await control.takeOverIncident(seen, 'eu-central-1', Date.now())).takenOver).toBe(true);
        mark = h.log.length;
      });
      const run = await runStateMachine(FAILOVER, input, handlers, fast);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path.slice(-2)).toEqual([state, 'Superseded']);
      // Its reads were made and thrown away: nothing after the takeover acted (no lease, no traffic, no event).
      expect(h.log.slice(mark).filter((l) => !/^RDS\.Describe/.test(l))).toEqual([]);
      expect(h.published).toEqual([]);
      const audit = (await control.listAudit('orders', id)).map((a) => `${a.step}:${a.outcome}`);
      expect(audit.filter((a) => a.startsWith(`${step}:`))).toEqual([`${step}:superseded`]);
    },
  );

  it.each([
    ['FenceFunctionArn', 'already-revoked'],
    ['RpoGuardFunctionArn', 'already-revoked'],
    ['PromoteFunctionArn', 'already-revoked'],
    ['PromoteStatusFunctionArn', 'already-revoked'],
    ['GrantLeaseFunctionArn', 'already-granted'],
    ['RouteTrafficFunctionArn', 'already-granted'],
    ['VerifyFunctionArn', 'already-granted'],
  ])(
    'the execution that takes over completes after the first one died right after %s',
    async (key, fenceOutcome) => {
      const { h, control, input, id } = await machineSetup();
      const stop = new AbortController();
      const first = await runStateMachine(
        FAILOVER,
        input,
        withAfter(h, key, () => stop.abort()),
        {
          ...fast,
          signal: stop.signal,
        } satisfies RunOptions,
      );
      expect(first.status).toBe('ABORTED');

      const seen = (await control.getIncident(id))!;
      expect(seen).toMatchObject({ status: 'running', executionArn: first.executionArn });
      const taken = await control.takeOverIncident(seen, 'eu-central-1', Date.now());
      if (!taken.takenOver) throw new Error(taken.reason);
      const second = await runStateMachine(
        FAILOVER,
        failoverRequestedDetail(taken.incident),
        failoverTaskHandlers(h.deps),
        { ...fast, region: 'eu-central-1' },
      );
      expect(second.status, JSON.stringify(second.error)).toBe('SUCCEEDED');
      expect(second.path.at(-1)).toBe('Completed');

      expect(h.log.filter((l) => l.startsWith('RDS.PromoteReadReplica'))).toHaveLength(1);
      expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch: 3 });
      expect(await control.getIncident(id)).toMatchObject({
        status: 'completed',
        executionArn: second.executionArn,
        takenOverFrom: first.executionArn,
        takeovers: 1,
      });
      expect(h.published.map((e) => e.detailType)).toEqual(['Failover Completed']);
      const audit = await control.listAudit('orders', id);
      const fences = audit.filter((a) => a.step === 'fence').map((a) => a.outcome);
      expect(fences).toEqual(['revoked', fenceOutcome]);
    },
  );
  /** The first execution dies right after `key`; the takeover's execution runs takeoverAfterMs later. */
  async function resumedLater(key: string) {
    const { h, control, input, id } = await machineSetup();
    const stop = new AbortController();
    const first = await runStateMachine(
      FAILOVER,
      input,
      withAfter(h, key, () => stop.abort()),
      { ...fast, signal: stop.signal },
    );
    expect(first.status).toBe('ABORTED');
    const later = Date.now() + exampleConfig().takeoverAfterMs;
    h.deps.clock = { now: () => Date.now() + exampleConfig().takeoverAfterMs };
    const taken = await control.takeOverIncident((await control.getIncident(id))!, 'eu-central-1', later);
    if (!taken.takenOver) throw new Error(taken.reason);
    const second = await runStateMachine(
      FAILOVER,
      failoverRequestedDetail(taken.incident),
      failoverTaskHandlers(h.deps),
      { ...fast, region: 'eu-central-1' },
    );
    return { h, control, id, second };
  }

  it('a takeover long after the decision finishes a fenced incident even with no fresh votes (ALREADY_FENCED)', async () => {
    const { h, control, id, second } = await resumedLater('FenceFunctionArn');
    expect(second.status, JSON.stringify(second.error)).toBe('SUCCEEDED');
    expect(second.path.at(-1)).toBe('Completed');
    expect(second.output.recheck).toMatchObject({ code: 'ALREADY_FENCED', proceed: true });
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch: 3 });
    expect(await control.getIncident(id)).toMatchObject({ status: 'completed' });
  });

  it('a takeover long after the decision of an incident not yet fenced needs a fresh quorum (NO_FRESH_QUORUM)', async () => {
    const { h, control, id, second } = await resumedLater('RecheckVotesFunctionArn');
    expect(second.status).toBe('SUCCEEDED');
    expect(second.path.slice(-3)).toEqual(['RecheckAbort', 'Abort', 'Aborted']);
    expect(h.log.some((l) => l.startsWith('lease.'))).toBe(false);
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-east-1', epoch: 1 });
    expect(await control.getIncident(id)).toMatchObject({ status: 'aborted' });
    expect(h.published.map((e) => [e.detailType, e.detail.code])).toEqual([
      ['Failover Aborted', 'NO_FRESH_QUORUM'],
    ]);
  });

  it('the RPO guard of the resumed execution proceeds when the database was promoted already (no lag to read)', async () => {
    const { h, control, input, id } = await machineSetup();
    const stop = new AbortController();
    const first = await runStateMachine(
      FAILOVER,
      input,
      withAfter(h, 'PromoteStatusFunctionArn', () => stop.abort()),
      { ...fast, signal: stop.signal },
    );
    expect(first.status).toBe('ABORTED');
    // CloudWatch has no ReplicaLag for an instance that is no longer a replica.
    h.lagSeconds.value = null;
    const taken = await control.takeOverIncident(
      (await control.getIncident(id))!,
      'eu-central-1',
      Date.now(),
    );
    if (!taken.takenOver) throw new Error(taken.reason);
    const second = await runStateMachine(
      FAILOVER,
      failoverRequestedDetail(taken.incident),
      failoverTaskHandlers(h.deps),
      fast,
    );
    expect(second.status, JSON.stringify(second.error)).toBe('SUCCEEDED');
    const audit = (await control.listAudit('orders', id)).map((a) => `${a.step}:${a.outcome}`);
    expect(audit).toEqual(expect.arrayContaining(['rpo-guard:already-promoted', 'promote:already-writable']));
  });
});
