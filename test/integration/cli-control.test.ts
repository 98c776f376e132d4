import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { parseConfigText } from '#core/config.js';
import { pauseCommand, resumeCommand, statusCommand } from '../../bin/control-commands.js';
import { captureIo as capture } from '../support/capture-io.js';
import { freshTables } from '../support/dynamodb.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const CONFIG = 'examples/cutover.example.json';

let t: Awaited<ReturnType<typeof freshTables>>;
let table: string[];
let control: DynamoControlStore;

beforeAll(async () => {
  t = await freshTables('cli');
  // DynamoDB Local keeps tables per region (and access key): freshTables() creates them in us-east-1.
  table = ['--table', t.names.control, '--endpoint', t.endpoint, '--region', 'us-east-1'];
  control = new DynamoControlStore(t.doc, t.names.control);
});

const pauseItem = async (application: string) =>
  (
    await t.doc.send(
      new GetCommand({
        TableName: t.names.control,
        Key: { pk: application, sk: 'pause' },
        ConsistentRead: true,
      }),
    )
  ).Item;

describe('cutover status (DynamoDB Local)', () => {
  it('says that nothing is there yet for an application the table has never seen', async () => {
    const io = capture();
    const code = await statusCommand(['--config', CONFIG, ...table], { io, clock: new FakeClock(T0) });
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    expect(io.stdout()).toContain('lease                    none: no lease has ever been granted');
    expect(io.stdout()).toContain('pause                    not paused');
    expect(io.stdout()).toContain('verdict                  none recorded');
    expect(io.stdout()).toContain('open incident            none');
    expect(io.stdout()).toContain(`control table            ${t.names.control} (us-east-1)`);
    expect(io.stderr()).toBe('');
  });

  it('reads the lease, pause, verdict, open incident and last completed failover', async () => {
    const config = parseConfigText(readFileSync(CONFIG, 'utf8'));
    if (!config.ok) throw new Error('example config must be valid');
    const clock = new FakeClock(T0);
    const leases = new DynamoLeaseStore(t.doc, t.names.control, config.config.lease, clock);
    const app = 'orders';
    // A completed failover at epoch 1 (us-east-1 → us-west-2), then us-west-2 holds the lease at epoch 3.
    await leases.acquire(app, 'us-east-1', null);
    const done = await control.requestIncident(
      {
        application: app,
        kind: 'failover',
        epoch: 1,
        from: 'us-east-1',
        to: 'us-west-2',
        verdictKind: 'failover',
        verdictCode: 'QUORUM_UNHEALTHY',
        reason: 'quorum unhealthy',
        evidence: {},
        needsApproval: false,
        requestedAt: T0 - 600_000,
        requestedBy: 'us-east-2',
      },
      T0 - 600_000,
    );
    if (!done.created) throw new Error('incident not created');
    await control.claimIncident(done.incident.id, 'arn:exec:1', T0 - 599_000);
    await control.closeIncident({
      id: done.incident.id,
      status: 'completed',
      reason: 'failed over',
      now: T0 - 500_000,
      owner: { any: true },
    });
    await leases.revoke(app, 1);
    clock.advance(60_000);
    await leases.grant(app, 'us-west-2', 2);
    await control.recordVerdict(app, 'suspect', 'PRIMARY_SUSPECT', clock.now());
    await control.setPause(app, { pausedBy: 'alice', pausedAt: clock.now(), reason: 'db maintenance' });
    const open = await control.requestIncident(
      {
        application: app,
        kind: 'failback',
        epoch: 3,
        from: 'us-west-2',
        to: 'us-east-1',
        verdictKind: 'healthy',
        verdictCode: 'FAILBACK_REQUESTED',
        reason: 'planned',
        evidence: {},
        needsApproval: true,
        requestedAt: clock.now(),
        requestedBy: 'bob',
      },
      clock.now(),
    );
    if (!open.created) throw new Error('incident not created');
    await control.claimIncident(open.incident.id, 'arn:exec:2', clock.now());

    await control.markRebuild('orders', {
      region: 'us-east-1',
      since: T0 + 1_000,
      incidentId: 'orders:1:1',
      reason: 'failover orders:1:1 promoted us-west-2 in its place',
    });

    clock.advance(10_000);
    const io = capture();
    expect(await statusCommand(['--config', CONFIG, ...table, '--json'], { io, clock })).toBe(0);
    const status = JSON.parse(io.stdout());
    expect(status).toMatchObject({
      application: 'orders',
      at: T0 + 70_000,
      table: { name: t.names.control, region: 'us-east-1' },
      lease: {
        holder: 'us-west-2',
        epoch: 3,
        expiresAt: T0 + 60_000 + 30_000,
        valid: true,
        selfFenced: false,
      },
      pause: { pausedBy: 'alice', pausedAt: T0 + 60_000, reason: 'db maintenance' },
      verdict: { kind: 'suspect', code: 'PRIMARY_SUSPECT', since: T0 + 60_000 },
      openIncident: { id: 'orders:3:1', kind: 'failback', status: 'running', executionArn: 'arn:exec:2' },
      lastCompletedFailover: { id: 'orders:1:1', status: 'completed', closeReason: 'failed over' },
      rebuilds: [{ region: 'us-east-1', since: T0 + 1_000, incidentId: 'orders:1:1' }],
    });

    const text = capture();
    expect(await statusCommand(['--config', CONFIG, ...table], { io: text, clock })).toBe(0);
    const out = text.stdout();
    expect(out).toContain('us-west-2 at epoch 3, valid until 2026-03-01T12:01:30.000Z (in 20.0 s)');
    expect(out).toContain('PAUSED by alice at 2026-03-01T12:01:00.000Z: db maintenance');
    expect(out).toContain('suspect (PRIMARY_SUSPECT) since 2026-03-01T12:01:00.000Z');
    expect(out).toContain('orders:3:1 failback us-west-2 → us-east-1, running; requested by bob');
    expect(out).toContain('orders:1:1 failover us-east-1 → us-west-2, completed');
    expect(out).toContain(
      'needs rebuild            us-east-1 since 2026-03-01T12:00:01.000Z (failover orders:1:1 promoted us-west-2 in its place): not a replica of the primary until shown replicating; a failover to it loses data',
    );

    // Once the holder stops renewing, the same lease reads as expired: held, not revoked, so self-fenced.
    clock.advance(30_000);
    const later = capture();
    await statusCommand(['--config', CONFIG, ...table], { io: later, clock });
    expect(later.stdout()).toContain(
      'SELF-FENCED: us-west-2 at epoch 3, NOT valid: expired 2026-03-01T12:01:30.000Z (10.0 s ago, not renewed); us-west-2 refuses writes and no failover revoked its lease (incident orders:3:1 is open: a failover may be fencing it)',
    );
    const json = capture();
    await statusCommand(['--config', CONFIG, ...table, '--json'], { io: json, clock });
    expect(JSON.parse(json.stdout()).lease).toMatchObject({ valid: false, selfFenced: true });
    await control.clearPause(app);
  });
});

describe('cutover pause and resume (DynamoDB Local)', () => {
  it('pause writes who, when and why; a second pause says what it replaced; resume clears it', async () => {
    const clock = new FakeClock(T0);
    const io = capture();
    const args = ['--config', CONFIG, ...table];
    expect(await pauseCommand([...args, '--reason', 'db maintenance', '--by', 'alice'], { io, clock })).toBe(
      0,
    );
    expect(io.stdout()).toBe(
      'paused orders by alice at 2026-03-01T12:00:00.000Z: db maintenance. New incidents are held; an execution already running goes on.\n',
    );
    expect(await pauseItem('orders')).toEqual({
      pk: 'orders',
      sk: 'pause',
      pausedBy: 'alice',
      pausedAt: T0,
      reason: 'db maintenance',
    });

    clock.advance(1000);
    const again = capture();
    await pauseCommand([...args, '--reason', 'drill'], { io: again, clock, whoami: () => 'bob' });
    expect(again.stdout()).toContain(
      'paused orders by bob at 2026-03-01T12:00:01.000Z: drill (replaces the pause by alice at 2026-03-01T12:00:00.000Z: db maintenance)',
    );
    expect(await control.getPause('orders')).toEqual({
      pausedBy: 'bob',
      pausedAt: T0 + 1000,
      reason: 'drill',
    });

    const resumed = capture();
    expect(await resumeCommand(args, { io: resumed, clock })).toBe(0);
    expect(resumed.stdout()).toBe(
      'resumed orders: cleared the pause by bob at 2026-03-01T12:00:01.000Z: drill.\n',
    );
    expect(await pauseItem('orders')).toBeUndefined();

    const idle = capture();
    expect(await resumeCommand(args, { io: idle, clock })).toBe(0);
    expect(idle.stdout()).toBe('orders was not paused; nothing changed.\n');
  });

  it('refuses a pause without --reason, an unknown flag and a bad config file, and writes nothing', async () => {
    const clock = new FakeClock(T0);
    const noReason = capture();
    expect(await pauseCommand(['--config', CONFIG, ...table, '--by', 'alice'], { io: noReason, clock })).toBe(
      2,
    );
    expect(noReason.stderr()).toMatch(
      /^--reason is required\nusage: cutover pause --config FILE --reason TEXT/,
    );

    const blank = capture();
    expect(await pauseCommand(['--config', CONFIG, ...table, '--reason', '  '], { io: blank, clock })).toBe(
      2,
    );
    expect(blank.stderr()).toContain('--reason is required');

    const unknown = capture();
    expect(
      await pauseCommand(['--config', CONFIG, ...table, '--reason', 'x', '--force'], { io: unknown, clock }),
    ).toBe(2);
    expect(unknown.stderr()).toContain("Unknown option '--force'");
    expect(await resumeCommand(['--config', CONFIG, ...table, '--json'], { io: capture(), clock })).toBe(2);
    expect(await statusCommand([...table], { io: capture(), clock })).toBe(2);

    const raw = JSON.parse(readFileSync(CONFIG, 'utf8'));
    raw.quorum = 1;
    const bad = join(mkdtempSync(join(tmpdir(), 'cutover-')), 'bad.json');
    writeFileSync(bad, JSON.stringify(raw));
    const refused = capture();
    expect(await pauseCommand(['--config', bad, ...table, '--reason', 'x'], { io: refused, clock })).toBe(1);
    expect(refused.stderr()).toContain(`INVALID ${bad}: 1 problem`);
    expect(refused.stderr()).toContain('quorum: must be a majority');
    expect(
      await pauseCommand(['--config', '/no/such.json', ...table, '--reason', 'x'], { io: capture() }),
    ).toBe(1);

    expect(await pauseItem('orders')).toBeUndefined();
    expect(refused.stdout()).toBe('');
  });

  it('reports a missing table as a failed call, exit 1', async () => {
    const io = capture();
    const code = await statusCommand(
      ['--config', CONFIG, '--table', 'no-such-table', '--endpoint', t.endpoint],
      { io },
    );
    expect(code).toBe(1);
    expect(io.stderr()).toMatch(/^control table no-such-table \(us-east-2\): .*ResourceNotFoundException/);
  });
});
