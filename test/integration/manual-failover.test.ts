import { readFileSync } from 'node:fs';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { failoverRequestedDetail } from '#core/events.js';
import { systemClock } from '#core/ports.js';
import { failoverInputSchema } from '#steps/core/state.js';
import { failoverTaskHandlers } from '#steps/core/task-handlers.js';
import {
  canonicalJson,
  failoverCommand,
  type ManualFailoverDeps,
  requestManualFailover,
} from '../../bin/failover-command.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { captureIo as capture } from '../support/capture-io.js';
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { exampleConfig, vote } from '../support/fixtures.js';
import { type Harness, makeHarness } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const CONFIG = 'examples/cutover.example.json';
const MACHINE = 'arn:aws:states:us-east-2:123456789012:stateMachine:cutover-orders-failover';
const fast = { waitMs: 0, retryIntervalMs: 0 };
const sample = () =>
  JSON.parse(readFileSync(new URL('../../events/failover-requested.sample.json', import.meta.url), 'utf8'));

let harness: Harness | undefined;
let sfn: AwsClientStub<SFNClient> | undefined;
afterEach(() => {
  harness?.restore();
  sfn?.restore();
  harness = undefined;
  sfn = undefined;
});

function mockSfn() {
  const stub = mockClient(SFNClient);
  stub.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `arn:aws:states:us-east-2:123456789012:execution:cutover-orders-failover:${input.name}`,
    startDate: new Date('2026-03-01T12:00:00Z'),
  }));
  sfn = stub;
  return stub;
}

/**
 * An automatic failover as the aggregator requests it, from a primary that stopped renewing `staleMs` ago.
 * With `failPromote` the machine runs and fails at the promotion, after its fence: the stuck state.
 */
async function setup(staleMs = 120_000) {
  const t = await freshTables('mf');
  const config = exampleConfig();
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const past = new DynamoLeaseStore(t.doc, t.names.control, config.lease, {
    now: () => Date.now() - staleMs,
  });
  const held = await past.acquire('orders', 'us-east-1', null);
  if (!held.ok) throw new Error('could not seed the lease');
  const control = new DynamoControlStore(t.doc, t.names.control);
  const leases = new DynamoLeaseStore(t.doc, t.names.control, config.lease, systemClock);
  const now = Date.now();
  const { incidentId: _i, attempt: _a, ...req } = { ...sample(), detectedAt: now - 31_000, requestedAt: now };
  const created = await control.requestIncident(req, now);
  if (!created.created) throw new Error('could not seed the incident');
  const input = { ...sample(), detectedAt: now - 31_000, requestedAt: now, incidentId: created.incident.id };
  const deps = (machine: ManualFailoverDeps['machine']): ManualFailoverDeps => ({
    config,
    control,
    leases,
    clock: systemClock,
    machine,
  });
  const items = async () =>
    (await t.doc.send(new ScanCommand({ TableName: t.names.control, ConsistentRead: true }))).Items ?? [];
  return { t, h, config, control, leases, input, deps, items };
}

/** Runs the automatic failover into a failed promotion: lease revoked at epoch 2, no holder, incident failed. */
async function stuck(staleMs?: number) {
  const s = await setup(staleMs);
  s.h.db.failPromote = Object.assign(new Error('DB Instance is not a read replica.'), {
    name: 'InvalidDBInstanceStateFault',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
  const run = await runStateMachine(FAILOVER, s.input, failoverTaskHandlers(s.h.deps), fast);
  expect(run.path.slice(-3)).toEqual(['PromoteFailed', 'ReportFailure', 'FailoverFailed']);
  expect(await s.leases.read('orders')).toMatchObject({ holder: null, epoch: 2 });
  expect(await s.control.getIncident('orders:1:1')).toMatchObject({ status: 'failed' });
  expect(await s.control.openIncident('orders', 0, 10)).toBeNull();
  s.h.db.failPromote = undefined;
  s.h.log.length = 0;
  s.h.published.length = 0;
  return s;
}

/** The failover handlers, with the instant the first state after the fence's Wait starts. */
function timedHandlers(h: Harness) {
  const handlers = failoverTaskHandlers(h.deps);
  const rpo = handlers.RpoGuardFunctionArn!;
  const waited = { at: 0 };
  handlers.RpoGuardFunctionArn = (ev) => {
    if (!waited.at) {
      waited.at = Date.now();
      h.log.push('fence.waited');
    }
    return rpo(ev);
  };
  return { handlers, waited };
}

describe('cutover failover after a failover that failed after its fence (DynamoDB Local)', () => {
  it('starts the failover machine with a manual request, which fences again and grants the lease to --to', async () => {
    const { h, control, leases, deps } = await stuck();
    const stub = mockSfn();
    const revoked = await leases.read('orders');

    const res = await requestManualFailover(
      deps({ sfn: new SFNClient({ region: 'us-east-2' }), stateMachineArn: MACHINE }),
      {
        to: 'us-west-2',
        reason: 'promotion fixed by hand; finishing the failover',
        by: 'alice',
      },
    );
    expect(res.outcome, res.sentence).toBe('started');
    if (res.outcome !== 'started') return;
    expect(res.code).toBe('MANUAL_FAILOVER');
    expect(res.incident).toMatchObject({
      id: 'orders:2:1',
      status: 'requested',
      epoch: 2,
      from: 'us-east-1',
      to: 'us-west-2',
      verdictKind: 'manual',
      verdictCode: 'MANUAL',
      needsApproval: false,
      requestedBy: 'operator:alice',
    });

    // The exact command: the machine, a name per incident attempt, the Failover Requested detail as input.
    const calls = stub.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const sent = calls[0]!.args[0].input;
    expect(sent).toEqual({
      stateMachineArn: MACHINE,
      name: 'manual-failover-orders-2-1',
      input: canonicalJson(failoverRequestedDetail(res.incident)),
    });
    const input = JSON.parse(sent.input!);
    expect(input).toEqual({
      incidentId: 'orders:2:1',
      application: 'orders',
      kind: 'failover',
      from: 'us-east-1',
      to: 'us-west-2',
      epoch: 2,
      attempt: 1,
      needsApproval: false,
      verdictKind: 'manual',
      verdictCode: 'MANUAL',
      reason: 'promotion fixed by hand; finishing the failover',
      evidence: {
        source: 'operator',
        operator: 'alice',
        readAt: res.incident.requestedAt,
        lease: { holder: null, epoch: 2, expiresAt: revoked!.expiresAt, valid: false, selfFenced: false },
        pause: null,
        verdict: null,
        lastCompletedFailover: null,
      },
      detectedAt: res.incident.requestedAt,
      requestedAt: res.incident.requestedAt,
      requestedBy: 'operator:alice',
    });
    expect(eventErrors('Failover Requested', input)).toEqual([]);
    expect(failoverInputSchema.safeParse(input).success).toBe(true);
    expect(await control.getIncident('orders:2:1')).toMatchObject({ publishedAt: expect.any(Number) });

    // The machine, run locally with exactly that input.
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Completed');
    expect(run.path).not.toContain('ApproveFailover');
    // From the revoked epoch 2: revoke → 3 with the old expiry kept, wait it out, grant → 4.
    expect(h.log.filter((l) => l.startsWith('lease.'))).toEqual([
      'lease.revoke epoch 3',
      'lease.grant us-west-2 epoch 4',
    ]);
    expect(run.output.fence).toMatchObject({ fencedEpoch: 3, expiresAt: revoked!.expiresAt });
    expect(await leases.read('orders')).toMatchObject({ holder: 'us-west-2', epoch: 4 });
    expect(await control.getIncident('orders:2:1')).toMatchObject({
      status: 'completed',
      executionArn: run.executionArn,
    });
    expect(await control.getIncident('orders:1:1')).toMatchObject({ status: 'failed' });
    const audit = (await control.listAudit('orders', 'orders:2:1')).map((a) => `${a.step}:${a.outcome}`);
    expect(audit).toEqual(
      expect.arrayContaining(['claim:claimed', 'recheck:manual', 'fence:revoked', 'grant-lease:granted']),
    );
    expect(h.published.map((e) => e.detailType)).toEqual(['Failover Completed']);
    for (const e of h.published) expect(eventErrors(e.detailType, e.detail)).toEqual([]);
  });

  it('from a lease revoked moments ago, the grant comes only after the old expiry plus the skew', async () => {
    // The primary renewed 28.5 s before the automatic failover's fence: 1.5 s of the old lease are left.
    const { h, leases, deps, config } = await stuck(28_500);
    const revoked = (await leases.read('orders'))!;
    expect(revoked).toMatchObject({ holder: null, epoch: 2 });
    mockSfn();
    const res = await requestManualFailover(
      deps({ sfn: new SFNClient({ region: 'us-east-2' }), stateMachineArn: MACHINE }),
      {
        to: 'us-west-2',
        reason: 'finish it',
        by: 'alice',
      },
    );
    if (res.outcome !== 'started') throw new Error(res.sentence);
    const input = JSON.parse(sfn!.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!) as Record<
      string,
      unknown
    >;
    const { handlers, waited } = timedHandlers(h);
    const run = await runStateMachine(FAILOVER, input, handlers, fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    const safeAt = revoked.expiresAt + config.lease.maxSkewMs;
    expect(run.output.fence).toMatchObject({
      fencedEpoch: 3,
      expiresAt: revoked.expiresAt,
      safeToTakeAt: safeAt,
    });
    expect(waited.at).toBeGreaterThanOrEqual(safeAt);
    expect(h.log.filter((l) => l.startsWith('lease.') || l === 'fence.waited')).toEqual([
      'lease.revoke epoch 3',
      'fence.waited',
      'lease.grant us-west-2 epoch 4',
    ]);
  });

  it('gives the lease back to a recovered primary while the standby is healthy: no false alarm', async () => {
    const { t, h, leases, deps } = await stuck();
    const votes = new DynamoVoteStore(t.doc, t.names.votes, h.deps.config.watchers);
    const now = Date.now();
    for (const voter of ['eu-west-1', 'ca-central-1', 'ap-northeast-1']) {
      await votes.put(vote({ voter, target: 'us-west-2', healthy: true, observedAt: now - 500 }, now));
    }
    mockSfn();
    const res = await requestManualFailover(
      deps({ sfn: new SFNClient({ region: 'us-east-2' }), stateMachineArn: MACHINE }),
      {
        to: 'us-east-1',
        reason: 'the standby database cannot be promoted; back to us-east-1',
        by: 'alice',
      },
    );
    if (res.outcome !== 'started') throw new Error(res.sentence);
    expect(res.incident).toMatchObject({ from: 'us-west-2', to: 'us-east-1', epoch: 2 });
    const input = JSON.parse(sfn!.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).not.toContain('FalseAlarm');
    expect(run.output.recheck).toMatchObject({ recovered: false, code: 'MANUAL' });
    expect(await leases.read('orders')).toMatchObject({ holder: 'us-east-1', epoch: 4 });
  });

  it('refuses a target marked for rebuild unless the operator accepts the data loss, which the incident records', async () => {
    const { h, control, leases, deps } = await stuck();
    // The refused promotion promoted nothing: it cleared the mark it had set on the region it was leaving.
    expect(await control.getRebuild('orders', 'us-east-1')).toBeNull();
    await control.markRebuild('orders', {
      region: 'us-east-1',
      since: Date.now() - 60_000,
      incidentId: 'orders:0:1',
      reason: 'failover orders:0:1 promoted us-west-2 in its place',
    });
    mockSfn();
    const machine = { sfn: new SFNClient({ region: 'us-east-2' }), stateMachineArn: MACHINE };
    const ask = { to: 'us-east-1', reason: 'us-west-2 is gone for good', by: 'alice' };
    const refused = await requestManualFailover(deps(machine), ask);
    expect(refused).toMatchObject({ outcome: 'refused', code: 'TARGET_NOT_REPLICA' });
    expect(refused.sentence).toContain('pass --accept-data-loss');
    expect(sfn!.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(await control.getIncident('orders:2:1')).toBeNull();

    const res = await requestManualFailover(deps(machine), { ...ask, acceptDataLoss: true });
    if (res.outcome !== 'started') throw new Error(res.sentence);
    expect(res.incident.evidence).toMatchObject({
      acceptDataLoss: { by: 'alice', reason: 'us-west-2 is gone for good' },
    });
    // The standalone database is taken as it is: no data-loss question, no promotion, the lease granted.
    h.db.promoted = true;
    h.db.promoteAfterPolls = 0;
    const input = JSON.parse(sfn!.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).not.toContain('ApproveDataLoss');
    expect(h.log.some((l) => l.startsWith('RDS.PromoteReadReplica'))).toBe(false);
    expect(await leases.read('orders')).toMatchObject({ holder: 'us-east-1', epoch: 4 });
  });

  it("starts an operator's own unstarted request again under the same name and input", async () => {
    const { control, deps } = await stuck();
    const stub = mockSfn();
    stub
      .on(StartExecutionCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    const machine = { sfn: new SFNClient({ region: 'us-east-2' }), stateMachineArn: MACHINE };
    const ask = { to: 'us-west-2', reason: 'finish it', by: 'alice' };
    const first = await requestManualFailover(deps(machine), ask);
    expect(first).toMatchObject({ outcome: 'start-failed', code: 'START_FAILED' });
    expect(first.sentence).toContain('Run the same command again');
    expect(await control.getIncident('orders:2:1')).toMatchObject({ status: 'requested' });

    stub.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-2:123456789012:execution:cutover-orders-failover:${input.name}`,
      startDate: new Date(),
    }));
    const second = await requestManualFailover(deps(machine), ask);
    expect(second).toMatchObject({ outcome: 'started', code: 'RESTART_UNSTARTED' });
    const [a, b] = stub.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(b).toEqual(a);
    // Bob's request is not his to restart: Alice's is in flight.
    const third = await requestManualFailover(deps(machine), { ...ask, by: 'bob' });
    expect(third).toMatchObject({ outcome: 'refused', code: 'INCIDENT_OPEN' });
  });
});

describe('cutover failover refuses, and then writes nothing and sends nothing', () => {
  const run = async (
    s: Awaited<ReturnType<typeof setup>>,
    args: string[],
    table = true,
  ): Promise<{ code: number; io: ReturnType<typeof capture>; sfnCalls: number; sfnMade: number }> => {
    const stub = sfn ?? mockSfn();
    const io = capture();
    let sfnMade = 0;
    const before = await s.items();
    const code = await failoverCommand(
      [
        '--config',
        CONFIG,
        ...args,
        ...(table ? ['--table', s.t.names.control, '--endpoint', s.t.endpoint, '--region', 'us-east-1'] : []),
      ],
      {
        io,
        sfn: (region) => {
          sfnMade += 1;
          return new SFNClient({ region });
        },
      },
    );
    expect(await s.items()).toEqual(before);
    return { code, io, sfnCalls: stub.commandCalls(StartExecutionCommand).length, sfnMade };
  };
  const ok = ['--reason', 'manual', '--by', 'alice', '--state-machine-arn', MACHINE];

  it('an open incident: says which execution holds it and what to do', async () => {
    const s = await stuck();
    const arn = 'arn:aws:states:eu-central-1:123456789012:execution:cutover-orders-failover:abc';
    const { incidentId: _i, attempt: _a, ...req } = { ...sample(), epoch: 2, requestedBy: 'eu-central-1' };
    const created = await s.control.requestIncident(req, Date.now());
    if (!created.created) throw new Error('could not seed the open incident');
    await s.control.claimIncident(created.incident.id, arn, Date.now());
    const r = await run(s, ['--to', 'us-west-2', ...ok]);
    expect(r.code).toBe(1);
    expect(r.io.stderr()).toContain('REFUSED (INCIDENT_OPEN): incident orders:2:1');
    expect(r.io.stderr()).toContain(`held by execution ${arn}`);
    expect(r.io.stderr()).toContain('cutover status');
    expect(r.sfnCalls).toBe(0);
  });

  it('a region that is not one of the two application regions', async () => {
    const s = await stuck();
    const r = await run(s, ['--to', 'eu-west-1', ...ok]);
    expect(r.code).toBe(1);
    expect(r.io.stderr()).toBe(
      'REFUSED (NOT_AN_APPLICATION_REGION): eu-west-1 is not an application region: --to must be us-east-1 (primary) or us-west-2 (standby)\n',
    );
    expect(r.sfnCalls).toBe(0);
  });

  it('--to already holding a valid lease', async () => {
    const s = await setup();
    // The failed-over state: us-west-2 holds a live lease at epoch 3.
    await s.leases.revoke('orders', 1);
    const past = new DynamoLeaseStore(s.t.doc, s.t.names.control, s.config.lease, {
      now: () => Date.now() + 200_000,
    });
    await past.grant('orders', 'us-west-2', 2);
    const r = await run(s, ['--to', 'us-west-2', ...ok]);
    expect(r.code).toBe(1);
    expect(r.io.stderr()).toContain(
      'REFUSED (TARGET_HOLDS_LEASE): us-west-2 already holds a valid lease at epoch 3',
    );
    expect(r.sfnCalls).toBe(0);
  });

  it('no lease at all: says how to bootstrap one', async () => {
    const t = await freshTables('mfnl');
    const control = new DynamoControlStore(t.doc, t.names.control);
    const items = async () =>
      (await t.doc.send(new ScanCommand({ TableName: t.names.control, ConsistentRead: true }))).Items ?? [];
    const r = await run({ t, items, control } as unknown as Awaited<ReturnType<typeof setup>>, [
      '--to',
      'us-west-2',
      ...ok,
    ]);
    expect(r.code).toBe(1);
    expect(r.io.stderr()).toContain('REFUSED (NO_LEASE): no lease exists for this application');
    expect(r.io.stderr()).toContain(
      'start the LeaseKeeper (or the scheduled heartbeat) in the configured primary us-east-1',
    );
    expect(await items()).toEqual([]);
    expect(r.sfnCalls).toBe(0);
  });

  it('a missing --reason, before anything is read', async () => {
    const s = await stuck();
    const r = await run(s, ['--to', 'us-west-2', '--state-machine-arn', MACHINE]);
    expect(r.code).toBe(2);
    expect(r.io.stderr()).toMatch(/^--reason is required\nusage: cutover failover/);
    expect(r.sfnMade).toBe(0);
    expect(r.sfnCalls).toBe(0);
  });

  it('a machine that is not this application failover machine in a control region', async () => {
    const s = await stuck();
    const wrong = 'arn:aws:states:us-east-1:123456789012:stateMachine:cutover-orders-failback';
    const r = await run(s, ['--to', 'us-west-2', '--reason', 'x', '--state-machine-arn', wrong]);
    expect(r.code).toBe(1);
    expect(r.io.stderr()).toContain('must name cutover-orders-failover');
    expect(r.io.stderr()).toContain('must be in a control region (us-east-2, eu-central-1); got us-east-1');
    expect(r.sfnCalls).toBe(0);
  });

  it('--dry-run checks and shows the request, and writes and sends nothing', async () => {
    const s = await stuck();
    const r = await run(s, ['--to', 'us-west-2', '--reason', 'finish it', '--by', 'alice', '--dry-run']);
    expect(r.io.stderr()).toBe('');
    expect(r.code).toBe(0);
    expect(r.io.stdout()).toContain(
      'dry run (MANUAL_FAILOVER): the lease is revoked at epoch 2 with no holder',
    );
    expect(r.io.stdout()).toContain('"verdictCode": "MANUAL"');
    expect(r.sfnCalls).toBe(0);
  });

  it('starts through the command line and says what comes next', async () => {
    const s = await stuck();
    const stub = mockSfn();
    const io = capture();
    const code = await failoverCommand(
      [
        '--config',
        CONFIG,
        '--to',
        'us-west-2',
        ...ok,
        '--table',
        s.t.names.control,
        '--endpoint',
        s.t.endpoint,
        '--region',
        'us-east-1',
      ],
      { io },
    );
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    expect(stub.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(io.stdout()).toContain('started a manual failover of orders from us-east-1 to us-west-2');
    expect(io.stdout()).toContain('incident  orders:2:1 (epoch 2, operator:alice): manual');
    expect(io.stdout()).toContain('fences the lease (epoch 2 → 3)');
  });
});
