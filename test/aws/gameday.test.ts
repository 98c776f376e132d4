import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoGamedayMarkerStore } from '#adapters/dynamodb/gameday-marker-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { parseConfigText } from '#core/config.js';
import type { FaultExperiments } from '#core/gameday.js';
import { systemClock } from '#core/ports.js';
import { gamedayCommand } from '../../bin/gameday-command.js';
import type { IdentityReader } from '../../bin/options.js';
import { createTables } from '../../infra/local/tables.js';
import { captureIo } from '../support/capture-io.js';
import { motoClient } from '../support/moto-clients.js';

/**
 * `cutover gameday` against moto_server: STS GetCallerIdentity (the account check and the machine's ARN), Step
 * Functions (ListExecutions, DescribeExecution and GetExecutionHistory of an execution that moto's interpreter
 * really runs, StartExecution of the failback) and DynamoDB (the control table: lease, pause, incidents, audit, the
 * game-day marker). The failover machine here is a stand-in with the real machine's state names (Pass and Wait
 * states), started by the test when the marker appears, as the watchers and the aggregator would: what is proved is
 * the CLI (refusals, the fault made and undone, the watch, the artifacts, the failback), not the control plane,
 * which the drill and the machine tests prove. FIS experiments are not served by moto (templates only): the fis
 * fault is driven through its port, recorded call by call.
 */
const ACCOUNT = '123456789012'; // moto's default account
const dir = mkdtempSync(join(tmpdir(), 'cutover-gameday-'));
const moto = () => inject('motoEndpoint');

const identity: IdentityReader = async (region) => {
  const res = await motoClient(STSClient, region).send(new GetCallerIdentityCommand({}));
  return { account: res.Account ?? '', partition: res.Arn?.split(':')[1] ?? 'aws' };
};

const docClient = () =>
  DynamoDBDocumentClient.from(motoClient(DynamoDBClient, 'us-east-2'), {
    marshallOptions: { removeUndefinedValues: true },
  });

/** A configuration of its own (application, control region, table) for each case: moto keeps one per region. */
// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
type RawConfig = Record<string, any>;
async function setup(application: string, controlRegion: string, edit: (raw: RawConfig) => void = () => {}) {
  const raw = JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
  raw.application = application;
  raw.controlRegions = [controlRegion, 'eu-central-2'];
  raw.health = { checks: [{ name: 'gameday', kind: 'gameday', weight: 'unhealthy', timeoutMs: 500 }] };
  edit(raw);
  const file = join(dir, `${application}.json`);
  writeFileSync(file, JSON.stringify(raw));
  const config = parseConfigText(JSON.stringify(raw));
  if (!config.ok) throw new Error(JSON.stringify(config.issues));
  const table = `cutover-${application}-control`;
  await createTables(motoClient(DynamoDBClient, 'us-east-2'), { control: table, votes: `${table}-votes` });
  const doc = docClient();
  const leases = new DynamoLeaseStore(doc, table, config.config.lease, systemClock);
  const control = new DynamoControlStore(doc, table);
  const markers = new DynamoGamedayMarkerStore(doc, table);
  const tableArgs = ['--table', table, '--region', 'us-east-2', '--endpoint', moto()];
  return { file, config: config.config, leases, control, markers, tableArgs, table };
}

/** The failover machine's states a clean run enters, as Pass/Wait states (moto's interpreter runs them). */
function standInMachine(): string {
  const names = [
    'Claim',
    'RecheckVotes',
    'StopTraffic',
    'Fence',
    'WaitOutOldLease',
    'RpoGuard',
    'Promote',
    'GrantLease',
    'RouteTraffic',
    'Verify',
    'Notify',
  ];
  const states: Record<string, unknown> = {};
  names.forEach((name, i) => {
    const next = names[i + 1] ?? 'Completed';
    states[name] =
      name === 'WaitOutOldLease' ? { Type: 'Wait', Seconds: 1, Next: next } : { Type: 'Pass', Next: next };
  });
  states.Completed = { Type: 'Succeed' };
  return JSON.stringify({ StartAt: 'Claim', States: states });
}

async function machine(region: string, name: string, definition = standInMachine()) {
  const sfn = motoClient(SFNClient, region);
  const res = await sfn.send(
    new CreateStateMachineCommand({
      name,
      definition,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/cutover-states`,
    }),
  );
  return { sfn, arn: res.stateMachineArn! };
}

const run = (argv: string[], extra: Parameters<typeof gamedayCommand>[1] = {}) => {
  const io = captureIo();
  return gamedayCommand(argv, {
    io,
    identity,
    client: () => docClient(),
    sfn: (region) => motoClient(SFNClient, region),
    pollMs: 100,
    ...extra,
  }).then((code) => ({ code, out: io.stdout(), err: io.stderr() }));
};

describe('cutover gameday refuses, changing nothing', () => {
  it('bad flags: usage, exit 2, before any AWS call', async () => {
    const calls: string[] = [];
    const spy: IdentityReader = async () => {
      calls.push('sts');
      return { account: ACCOUNT, partition: 'aws' };
    };
    for (const [argv, message] of [
      [['--config', 'x.json'], /^--account is required/],
      [['--config', 'x.json', '--account', '42'], /^--account must be a 12-digit AWS account id/],
      [['--config', 'x.json', '--account', ACCOUNT, '--timeout', '10s'], /^--timeout must be from 1m to 2h/],
      [
        ['--config', 'x.json', '--account', ACCOUNT, '--timeout', 'later'],
        /^--timeout must be a number with a unit/,
      ],
      [['--config', 'x.json', '--account', ACCOUNT, '--fault', 'kill'], /^--fault must be health/],
      [['--config', 'x.json', '--account', ACCOUNT, '--failback', 'sure'], /^--failback must be ask/],
      [['--config', 'x.json', '--account', ACCOUNT, '--chaos'], /^Unknown option '--chaos'/],
      [['--account', ACCOUNT], /^--config is required/],
      [
        ['--config', 'x.json', '--account', ACCOUNT, '--state-machine-arn', 'arn:nope'],
        /^--state-machine-arn must be a state machine ARN/,
      ],
    ] as [string[], RegExp][]) {
      const r = await run(argv, { identity: spy });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toContain('usage: cutover gameday --config FILE --account ID');
    }
    expect(calls).toEqual([]);
  });

  it('the wrong account, no lease, a pause, an open incident, fis without a template: exit 1, no marker, no execution', async () => {
    const s = await setup('gd-refuse', 'eu-south-1');
    const { sfn, arn } = await machine('eu-south-1', 'cutover-gd-refuse-failover');
    const base = ['--config', s.file, ...s.tableArgs, '--failback', 'no'];
    const expectNothingChanged = async () => {
      expect(await s.markers.readMarker('gd-refuse', 'us-east-1')).toBeNull();
      expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }))).executions).toEqual([]);
    };

    let r = await run([...base, '--account', '210987654321']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `cannot run a game day: ACCOUNT_MISMATCH: --account 210987654321 is not the account of these credentials (STS GetCallerIdentity: ${ACCOUNT}): use the staging account's credentials, or name the account you mean; nothing changed\n`,
    );
    r = await run([...base, '--account', ACCOUNT]);
    expect(r.err).toMatch(
      /^cannot run a game day: NO_LEASE: no lease has ever been granted.*; nothing changed\n$/,
    );
    await expectNothingChanged();

    await s.leases.acquire('gd-refuse', 'us-east-1', null);
    r = await run([...base, '--account', ACCOUNT, '--fault', 'fis']);
    expect(r.err).toMatch(
      /^cannot run a game day: NO_FIS_TEMPLATE: fault fis needs gameday.fisExperimentTemplateId/,
    );
    // A template, but no FIS client to start it with: refused too, before anything changes.
    const fisFile = join(dir, 'gd-refuse-fis.json');
    writeFileSync(
      fisFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.file, 'utf8')),
        gameday: { fisExperimentTemplateId: 'EXT1' },
      }),
    );
    r = await run(['--config', fisFile, ...s.tableArgs, '--account', ACCOUNT, '--fault', 'fis'], {
      experiments: async () => {
        throw new Error(
          '--fault fis needs the AWS SDK for FIS: npm install @aws-sdk/client-fis (or use --fault health)',
        );
      },
    });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'cannot run a game day: --fault fis needs the AWS SDK for FIS: npm install @aws-sdk/client-fis (or use --fault health); nothing changed\n',
    );
    await s.control.setPause('gd-refuse', { pausedBy: 'bob', pausedAt: Date.now(), reason: 'db work' });
    r = await run([...base, '--account', ACCOUNT]);
    expect(r.err).toMatch(/^cannot run a game day: PAUSED: the application is paused by bob \(db work\)/);
    await s.control.clearPause('gd-refuse');
    const lease = (await s.leases.read('gd-refuse'))!;
    await s.control.requestIncident(
      {
        application: 'gd-refuse',
        kind: 'failover',
        epoch: lease.epoch,
        from: 'us-east-1',
        to: 'us-west-2',
        verdictKind: 'failover',
        verdictCode: 'QUORUM_UNHEALTHY',
        reason: 'real outage',
        evidence: {},
        needsApproval: false,
        requestedAt: Date.now(),
        requestedBy: 'us-east-2',
      },
      Date.now(),
    );
    r = await run([...base, '--account', ACCOUNT]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cannot run a game day: INCIDENT_OPEN: incident gd-refuse:\d+:1 is open/);
    await expectNothingChanged();
  });

  it('a configuration without the gameday check refuses --fault health; --dry-run lists each change and makes none', async () => {
    const bare = await setup('gd-dry', 'eu-south-2', (raw) => {
      delete raw.health;
    });
    await bare.leases.acquire('gd-dry', 'us-east-1', null);
    let r = await run(['--config', bare.file, ...bare.tableArgs, '--account', ACCOUNT]);
    expect(r.err).toMatch(
      /^cannot run a game day: NO_GAMEDAY_CHECK: fault health needs a health check of kind "gameday"/,
    );

    const s = await setup('gd-dry2', 'eu-south-2');
    await s.leases.acquire('gd-dry2', 'us-east-1', null);
    r = await run([
      '--config',
      s.file,
      ...s.tableArgs,
      '--account',
      ACCOUNT,
      '--dry-run',
      '--timeout',
      '20m',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `  2. wait for the failover execution that starts after the fault in arn:aws:states:eu-south-2:${ACCOUNT}:stateMachine:cutover-gd-dry2-failover or arn:aws:states:eu-central-2:${ACCOUNT}:stateMachine:cutover-gd-dry2-failover (`,
    );
    expect(r.out).toContain('live for 20 min');
    expect(await s.markers.readMarker('gd-dry2', 'us-east-1')).toBeNull();
  });
});

describe('cutover gameday runs the failover and reports it (moto)', () => {
  it('the marker fails the primary, the execution is followed to its end, the marker is deleted, artifacts written, the failback started', {
    timeout: 60_000,
  }, async () => {
    // moto's interpreter runs one execution per region (sfn-task-callback.test.ts): the failover runs in the second
    // control region (the game day watches every control region's machine; the first has none here, which it says
    // and skips), the failback in the first.
    const s = await setup('gd-run', 'ap-south-2', (raw) => {
      raw.controlRegions = ['ap-south-2', 'ap-southeast-1'];
    });
    const { sfn, arn } = await machine('ap-southeast-1', 'cutover-gd-run-failover');
    const failback = await machine(
      'ap-south-2',
      'cutover-gd-run-failback',
      JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    );
    await s.leases.acquire('gd-run', 'us-east-1', null);
    const out = join(dir, 'gd-run-out');

    // The control plane's part, standing in: once the marker is there, the "aggregator" opens the incident, the
    // "steps" move the lease and write the audit, and the rule starts the machine with the Failover Requested detail.
    let stop = false;
    const controlPlane = (async () => {
      while (!stop) {
        const marker = await s.markers.readMarker('gd-run', 'us-east-1');
        if (marker) {
          const held = (await s.leases.read('gd-run'))!;
          await s.leases.revoke('gd-run', held.epoch);
          // The real fence waits out the old lease plus the skew; the stand-in's grant is made as if it had.
          const { ttlMs, maxSkewMs } = s.config.lease;
          const later = { now: () => Date.now() + ttlMs + maxSkewMs + 1_000 };
          const granted = await new DynamoLeaseStore(docClient(), s.table, s.config.lease, later).grant(
            'gd-run',
            'us-west-2',
            held.epoch + 1,
          );
          expect(granted.ok).toBe(true);
          const now = Date.now();
          await s.control.appendAudit('gd-run', `gd-run:${held.epoch}:1`, {
            at: now,
            step: 'grant-lease',
            outcome: 'granted',
            detail: { epoch: held.epoch + 2 },
          });
          await sfn.send(
            new StartExecutionCommand({
              stateMachineArn: arn,
              name: `gd-run-${held.epoch}-1`,
              input: JSON.stringify({
                incidentId: `gd-run:${held.epoch}:1`,
                application: 'gd-run',
                from: 'us-east-1',
                to: 'us-west-2',
                detectedAt: marker.startedAt + 50,
                requestedAt: marker.startedAt + 300,
              }),
            }),
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const r = await run([
      '--config',
      s.file,
      ...s.tableArgs,
      '--account',
      ACCOUNT,
      '--out',
      out,
      '--failback',
      'yes',
      '--by',
      'alice',
      '--reason',
      'Q4 game day',
    ]);
    stop = true;
    await controlPlane;
    expect(r.err).toMatch(/^gameday: putting the game-day marker for us-east-1 \(until .*Z\)/);
    expect(r.err).toMatch(
      /gameday: execution arn:aws:states:ap-southeast-1:123456789012:execution:cutover-gd-run-failover:gd-run-\d+-1 started/,
    );
    // Progress lines, one per state entered, in order.
    const progress = [...r.err.matchAll(/^\s+\+\s*[\d.]+ s {2}(\w+)$/gm)].map((m) => m[1]);
    expect(progress).toEqual([
      'Claim',
      'RecheckVotes',
      'StopTraffic',
      'Fence',
      'WaitOutOldLease',
      'RpoGuard',
      'Promote',
      'GrantLease',
      'RouteTraffic',
      'Verify',
      'Notify',
      'Completed',
    ]);
    expect(r.err).toContain(
      'gameday: ListExecutions of arn:aws:states:ap-south-2:123456789012:stateMachine:cutover-gd-run-failover failed, watching the others: StateMachineDoesNotExist',
    );
    expect(r.err).toContain('gameday: deleting the game-day marker for us-east-1\n');
    expect(await s.markers.readMarker('gd-run', 'us-east-1')).toBeNull();

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({
      kind: 'gameday',
      verdict: 'pass',
      fault: 'health',
      account: ACCOUNT,
      reasons: [],
    });
    expect(report.phases.map((p: { id: string }) => p.id)).toEqual([
      'probe',
      'detection',
      'claim_recheck',
      'fence',
      'promote',
      'grant',
      'traffic',
    ]);
    expect(report.phases.reduce((t: number, p: { ms: number }) => t + p.ms, 0)).toBe(report.rto_ms);
    expect(report.detection_ms).toBe(250);
    // The fence holds the stand-in's 1 s Wait state (moto's interpreter waits; its timestamps are its own).
    expect(report.steps.fence_ms).toBeGreaterThan(0);
    expect(report.lease_after).toEqual({ holder: 'us-west-2', epoch: expect.any(Number) });
    const timeline = readFileSync(join(out, 'timeline.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining([
        'gameday_started',
        'fault_injected',
        'execution_started',
        'state_entered',
        'audit',
        'lease_granted',
        'execution_ended',
        'fault_undone',
      ]),
    );
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h1>Cutover game day in AWS: game day (health)</h1>');
    expect(html).toContain('data-verdict="pass"');
    expect(r.out).toContain('    ✓ the fault was undone: marker deleted');

    // --failback yes: the planned failback started through cutover failback's own path, with the input written.
    expect(JSON.parse(readFileSync(join(out, 'failback-input.json'), 'utf8'))).toMatchObject({
      from: 'us-west-2',
      to: 'us-east-1',
      requestedBy: 'alice',
    });
    expect(r.out).toMatch(
      /started the failback of gd-run from us-west-2 to us-east-1\n {2}execution (arn:\S+)/,
    );
    const started = /execution (arn:\S+)/.exec(r.out.split('started the failback')[1]!)![1]!;
    expect(started.startsWith(failback.arn.replace(':stateMachine:', ':execution:'))).toBe(true);
    const d = await failback.sfn.send(new DescribeExecutionCommand({ executionArn: started }));
    expect(JSON.parse(d.input!)).toMatchObject({ application: 'gd-run', from: 'us-west-2', to: 'us-east-1' });
    expect(r.code).toBe(0);
  });

  it('Ctrl-C before any execution: the marker is deleted, the report fails and says why; --failback ask answered no', {
    timeout: 30_000,
  }, async () => {
    const s = await setup('gd-abort', 'ap-northeast-3');
    await machine('ap-northeast-3', 'cutover-gd-abort-failover');
    await s.leases.acquire('gd-abort', 'us-east-1', null);
    const controller = new AbortController();
    const out = join(dir, 'gd-abort-out');
    const asked: string[] = [];
    const pending = run(['--config', s.file, ...s.tableArgs, '--account', ACCOUNT, '--out', out], {
      signal: controller.signal,
      ask: async (q) => {
        asked.push(q);
        return 'n';
      },
    });
    while (!(await s.markers.readMarker('gd-abort', 'us-east-1')))
      await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    const r = await pending;
    expect(r.code).toBe(1);
    expect(await s.markers.readMarker('gd-abort', 'us-east-1')).toBeNull();
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.verdict).toBe('fail');
    expect(report.interrupted).toBe('interrupted (Ctrl-C)');
    expect(report.reasons[0]).toBe(
      'one failover execution started after the fault: none started (interrupted (Ctrl-C))',
    );
    // The lease never moved: no failback is offered, so nothing is asked.
    expect(asked).toEqual([]);
    expect(r.out).toContain('no failback offered: us-west-2 does not hold the lease (us-east-1 at epoch 1)');
    expect(existsSync(join(out, 'failback-input.json'))).toBe(false);
  });

  it('--fault fis: StartExperiment with the template, watched, StopExperiment on the way out (the port, recorded)', {
    timeout: 30_000,
  }, async () => {
    const s = await setup('gd-fis', 'sa-east-1', (raw) => {
      raw.gameday = { fisExperimentTemplateId: 'EXT1a2b3c4d5e6f7' };
    });
    await machine('sa-east-1', 'cutover-gd-fis-failover');
    await s.leases.acquire('gd-fis', 'us-east-1', null);
    const calls: string[] = [];
    const fis: FaultExperiments = {
      start: async (template, token, tags) => {
        calls.push(`start ${template} ${token.replace(/\d+$/, 'T')} ${JSON.stringify(tags)}`);
        return { id: 'EXP123', status: 'initiating' };
      },
      status: async (id) => {
        calls.push(`status ${id}`);
        return { status: 'running', reason: '' };
      },
      stop: async (id) => {
        calls.push(`stop ${id}`);
      },
    };
    const controller = new AbortController();
    const pending = run(
      [
        '--config',
        s.file,
        ...s.tableArgs,
        '--account',
        ACCOUNT,
        '--fault',
        'fis',
        '--failback',
        'no',
        '--by',
        'carol',
        '--out',
        join(dir, 'gd-fis-out'),
      ],
      {
        signal: controller.signal,
        experiments: async (region) => {
          calls.push(`region ${region}`);
          return fis;
        },
      },
    );
    while (!calls.includes('status EXP123')) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    const r = await pending;
    expect(r.code).toBe(1);
    expect(calls[0]).toBe('region us-east-1');
    expect(calls[1]).toBe(
      'start EXT1a2b3c4d5e6f7 gameday-gd-fis-T {"application":"gd-fis","cutover:gameday":"carol"}',
    );
    expect(calls.at(-1)).toBe('stop EXP123');
    expect(r.err).toContain('gameday: stopping experiment EXP123 (running)\n');
    expect(await s.markers.readMarker('gd-fis', 'us-east-1')).toBeNull();
  });
});

describe('cutover gameday as an operator runs it (a process, AWS_ENDPOINT_URL at moto)', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['bin/cutover.mjs', 'gameday', ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: moto(),
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_PROFILE: '',
      },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('the dry run through the CLI (STS and the control table on moto); the wrong account refused', {
    timeout: 60_000,
  }, async () => {
    const s = await setup('gd-cli', 'me-south-1');
    await s.leases.acquire('gd-cli', 'us-east-1', null);
    let r = cli('--config', s.file, ...s.tableArgs, '--account', ACCOUNT, '--dry-run');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dry run: account 123456789012 matches --account; us-east-1 holds the lease;/);
    expect(r.out.match(/^ {2}\d\. /gm)).toHaveLength(5);
    r = cli('--config', s.file, ...s.tableArgs, '--account', '000000000000', '--dry-run');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^cannot run a game day: ACCOUNT_MISMATCH: --account 000000000000 is not the account/,
    );
    expect(await s.markers.readMarker('gd-cli', 'us-east-1')).toBeNull();
  });
});
