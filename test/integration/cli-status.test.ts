import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig } from '../support/fixtures.js';
import { type Harness, makeHarness, seedStalledPrimary } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const CONFIG = 'examples/cutover.example.json';

/** The CLI as an operator runs it: its own process, its exit code, what it printed. */
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/cutover.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** Splits a suggested command line into arguments (it quotes only --reason, with double quotes). */
const argsOf = (command: string) =>
  [...command.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] ?? m[2])!.replace(/\\(.)/g, '$1'));

/** The value of a row of the screen: `  key   value`. */
const row = (out: string, key: string) =>
  out
    .split('\n')
    .find((l) => l.trimStart().startsWith(`${key}  `))
    ?.trimStart()
    .slice(key.length)
    .trimStart();

let harness: Harness | undefined;
afterEach(() => {
  harness?.restore();
  harness = undefined;
});

/** A failover run by the real state machine whose promotion is refused: it stops after the fence. */
async function failedAfterFence() {
  const t = await freshTables('status');
  const config = exampleConfig();
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const { control, request } = await seedStalledPrimary(t, config);
  h.db.failPromote = Object.assign(new Error('DB Instance is not a read replica.'), {
    name: 'InvalidDBInstanceStateFault',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
  const run = await runStateMachine(FAILOVER, request, failoverTaskHandlers(h.deps), {
    waitMs: 0,
    retryIntervalMs: 0,
  });
  expect(run.status).toBe('FAILED');
  const table = ['--table', t.names.control, '--region', 'us-east-1', '--endpoint', t.endpoint];
  return { t, control, incidentId: request.incidentId as string, table };
}

describe('cutover status: the incident screen (DynamoDB Local, the failover machine run locally)', () => {
  it('after a failover failed at promote: where it stopped, how far it got, and the failover to type next', {
    timeout: 60_000,
  }, async () => {
    const { incidentId, table, t } = await failedAfterFence();
    const status = cli('status', '--config', CONFIG, ...table);
    expect(status.err).toBe('');
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/lease\s+revoked at epoch 2: no holder, writes are fenced/);
    expect(status.out).toMatch(
      new RegExp(`last failed\\s+${incidentId} failover us-east-1 → us-west-2, failed`),
    );
    expect(status.out).toMatch(/stopped at\s+promote: DatabaseError: .*InvalidDBInstanceStateFault/);
    expect(status.out).toMatch(/how far\s+fenced yes, promoted no, lease granted no, traffic moved no/);
    expect(status.out).toContain(
      `NOBODY WRITES: incident ${incidentId} failed at promote after the fence (DatabaseError: `,
    );
    const command = `cutover failover --to us-west-2 --reason "finish ${incidentId} after promote failed" --config ${CONFIG} --table ${t.names.control} --region us-east-1 --endpoint ${t.endpoint}`;
    expect(status.out).toMatch(new RegExp(`type\\s+${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));

    const json = cli('status', '--config', CONFIG, ...table, '--json');
    expect(json.code).toBe(0);
    const screen = JSON.parse(json.out);
    expect(screen.lastStopped).toMatchObject({
      incident: { id: incidentId, status: 'failed' },
      step: 'promote',
      error: 'DatabaseError',
      progress: { fenced: true, promoted: false, leaseGranted: false, trafficMoved: false },
    });
    expect(screen.next).toEqual({ code: 'FAIL_OVER_TO_FINISH', reason: expect.any(String), command });

    // The command the screen gives is one the CLI takes: checked here with --dry-run, which writes nothing.
    const [, ...args] = argsOf(command);
    const dry = cli(...args, '--dry-run', '--by', 'oncall');
    expect(dry.err).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('dry run (MANUAL_FAILOVER)');
  });

  it('when paused and nothing failed: resume, and the command it gives resumes', {
    timeout: 60_000,
  }, async () => {
    const t = await freshTables('status');
    const table = ['--table', t.names.control, '--region', 'us-east-1', '--endpoint', t.endpoint];
    const { DynamoLeaseStore } = await import('#adapters/dynamodb/lease-store.js');
    await new DynamoLeaseStore(t.doc, t.names.control, exampleConfig().lease, { now: Date.now }).acquire(
      'orders',
      'us-east-1',
      null,
    );
    expect(cli('pause', '--config', CONFIG, ...table, '--reason', 'db upgrade', '--by', 'alice').code).toBe(
      0,
    );
    const status = cli('status', '--config', CONFIG, ...table, '--json');
    const screen = JSON.parse(status.out);
    expect(screen.lastStopped).toBeNull();
    expect(screen.next).toMatchObject({
      code: 'RESUME',
      command: `cutover resume --config ${CONFIG} --table ${t.names.control} --region us-east-1 --endpoint ${t.endpoint}`,
    });
    const [, ...args] = argsOf(screen.next.command);
    const resumed = cli(...args);
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain('resumed orders: cleared the pause by alice');
  });

  it('after a failover refused for a target that needs a rebuild: the rebuild command', async () => {
    const t = await freshTables('status');
    const config = exampleConfig();
    const { control, incident } = await seedStalledPrimary(t, config);
    await control.markRebuild('orders', {
      region: 'us-west-2',
      since: Date.now() - 60_000,
      incidentId: 'orders:0:1',
      reason: 'failback orders:0:1 left it',
    });
    await control.claimIncident(incident.id, 'arn:exec:refused', Date.now());
    // What the abort step writes (functions/steps/core/finish.ts): the audit entry, then the close.
    await control.appendAudit('orders', incident.id, {
      at: Date.now(),
      step: 'abort',
      outcome: 'APPROVAL_REJECTED',
      detail: {
        event: 'Failover Aborted',
        code: 'APPROVAL_REJECTED',
        step: 'approval',
        reason: 'DATA LOSS if approved: us-west-2 needs a rebuild',
        fenced: false,
      },
    });
    await control.closeIncident({
      id: incident.id,
      status: 'aborted',
      reason: 'APPROVAL_REJECTED: DATA LOSS if approved: us-west-2 needs a rebuild',
      now: Date.now(),
      owner: { any: true },
    });
    const table = ['--table', t.names.control, '--region', 'us-east-1', '--endpoint', t.endpoint];
    const status = cli('status', '--config', CONFIG, ...table);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/last aborted\s+orders:1:1 failover us-east-1 → us-west-2, aborted/);
    expect(status.out).toMatch(/stopped at\s+approval: APPROVAL_REJECTED: DATA LOSS if approved/);
    expect(status.out).toContain('us-west-2 must be rebuilt as a replica of us-east-1');
    expect(row(status.out, 'type')).toBe(
      'aws rds create-db-instance-read-replica --region us-west-2 --db-instance-identifier orders-db-usw2 --source-db-instance-identifier arn:aws:rds:us-east-1:$(aws sts get-caller-identity --query Account --output text):db:orders-db-use1',
    );
  });

  it('--watch redraws until Ctrl-C, then exits 0', { timeout: 60_000 }, async () => {
    const t = await freshTables('status');
    const table = ['--table', t.names.control, '--region', 'us-east-1', '--endpoint', t.endpoint];
    const p = spawn(
      process.execPath,
      ['bin/cutover.mjs', 'status', '--watch', '0.3', '--config', CONFIG, ...table],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fewer than 2 redraws in 30 s:\n${out}\n${err}`)),
        30_000,
      );
      p.stdout.on('data', () => {
        if ((out.match(/refreshing every 0\.3 s; Ctrl-C stops/g) ?? []).length >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    p.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect((out.match(/lease\s+none: no lease has ever been granted/g) ?? []).length).toBeGreaterThanOrEqual(
      2,
    );
  });

  it('refuses a --watch that is not a number of seconds, reading nothing', () => {
    const r = cli('status', '--config', CONFIG, '--watch=soon');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      '--watch takes the seconds between refreshes, from 0.1 to 3600 (default 5), got "soon"',
    );
  });
});
