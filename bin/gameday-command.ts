import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FisExperiments, loadFisModule } from '#adapters/aws/fis-experiments.js';
import { SfnExecutionReader } from '#adapters/aws/sfn-execution-reader.js';
import { DynamoGamedayMarkerStore } from '#adapters/dynamodb/gameday-marker-store.js';
import type { CanaryControlState } from '#core/canary.js';
import type { CutoverConfig } from '#core/config.js';
import {
  type ExecutionReader,
  type ExecutionSummary,
  type FaultExperiments,
  FIS_ENDED,
  failbackInputAfter,
  formatGameday,
  GamedayInputError,
  type GamedayMarker,
  type GamedayOptions,
  type GamedayReport,
  gamedayPlan,
  gamedayRefusal,
  gamedayReport,
  type HistoryEvent,
  parseGamedayOptions,
  progressLine,
  statesEntered,
} from '#core/gameday.js';
import type { AuditEntry, Clock } from '#core/ports.js';
import { systemClock } from '#core/ports.js';
import { renderReportHtml } from '../infra/local/drill/report-html.js';
import type { TimelineEvent } from '../infra/local/timeline.js';
import { loadConfig } from './config-file.js';
import { failbackCommand } from './failback-command.js';
import {
  type CallerIdentity,
  type ControlTable,
  callerIdentity,
  controlTableClient,
  controlTableOf,
  derivedMachine,
  describeAwsError,
  flags,
  type IdentityReader,
  type Io,
  iso,
  MachineArnError,
  machineOption,
  openControlTable,
  parseStateMachineArn,
  processIo,
  required,
  type StateMachineRef,
  sfnClient,
  stateMachineProblems,
  tableError,
  tableFlags,
  UsageError,
  whoami,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

const USAGE = usageOf('gameday');
// The incident sort key pads the epoch to 12 digits, so this bounds "any epoch" (as `cutover status` does).
const LAST_EPOCH = 999_999_999_999;
const POLL_MS = 5_000;

export interface GamedayCommandDeps {
  io?: Io;
  clock?: Clock;
  /** STS GetCallerIdentity (the account a game day must run in, and the machine's ARN). */
  identity?: IdentityReader;
  client?: (table: ControlTable) => DynamoDBDocumentClient;
  sfn?: (region: string) => SFNClient | Promise<SFNClient>;
  executions?: (region: string) => ExecutionReader | Promise<ExecutionReader>;
  experiments?: (region: string) => FaultExperiments | Promise<FaultExperiments>;
  /** Aborted by Ctrl-C in the CLI; tests abort it themselves. */
  signal?: AbortSignal;
  /** How often the execution (and the FIS experiment) is read; 5 s by default. */
  pollMs?: number;
  /** The y/N question before a failback, on the terminal by default. */
  ask?: (question: string) => Promise<string>;
}

/**
 * `cutover gameday`: the real failover rehearsed in a staging account. Refuses, changing nothing, unless the
 * caller's account is --account, the fault's means are configured, the configured primary holds a valid lease and
 * nothing is open or paused; then fails the primary (the game-day marker, or an FIS experiment), follows the
 * failover execution the control plane starts, undoes the fault on every way out, writes the drill's artifacts from
 * the real timings, and offers the planned failback. Exit 0 pass, 1 refused or failed, 2 usage.
 */
export async function gamedayCommand(argv: string[], deps: GamedayCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  return withUsage(io, USAGE, async () => {
    const v = flags(argv, {
      config: { type: 'string' },
      account: { type: 'string' },
      fault: { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      failback: { type: 'string' },
      reason: { type: 'string' },
      by: { type: 'string' },
      'state-machine-arn': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      ...tableFlags,
    });
    let options: GamedayOptions;
    try {
      options = parseGamedayOptions({
        account: v.account,
        fault: v.fault,
        timeout: v.timeout,
        failback: v.failback,
      });
    } catch (err) {
      if (err instanceof GamedayInputError) throw new UsageError(err.message);
      throw err;
    }
    const givenMachine = machineOption(v['state-machine-arn'], 'failover');
    const configFile = required(v.config, '--config');
    if (v.reason !== undefined && v.reason.trim() === '') throw new UsageError('--reason must say why');
    const config = loadConfig(configFile, io);
    if (!config) return 1;
    const clock = deps.clock ?? systemClock;
    if (givenMachine) {
      const problems = stateMachineProblems(givenMachine, config, 'failover');
      if (problems.length) {
        io.err(`--state-machine-arn ${problems.join('; ')}; nothing changed\n`);
        return 1;
      }
    }
    let caller: CallerIdentity;
    try {
      caller = await (deps.identity ?? callerIdentity)(config.controlRegions[0]!);
    } catch (err) {
      io.err(
        `cannot run a game day: STS GetCallerIdentity failed, so the account cannot be checked: ${describeAwsError(err)}; nothing changed\n`,
      );
      return 1;
    }
    const table = controlTableOf(config, v);
    const doc = (deps.client ?? controlTableClient)(table);
    const stores = openControlTable(config, v, clock, () => doc);
    const markers = new DynamoGamedayMarkerStore(doc, table.name);
    let control: CanaryControlState;
    let existing: GamedayMarker[];
    try {
      const [lease, pause, openIncident, ...found] = await Promise.all([
        stores.leases.read(config.application),
        stores.control.getPause(config.application),
        stores.control.openIncident(config.application, 0, LAST_EPOCH),
        markers.readMarker(config.application, config.primary.region),
        markers.readMarker(config.application, config.standby.region),
      ]);
      control = { lease, pause, openIncident };
      existing = found.filter((m): m is GamedayMarker => m !== null);
    } catch (err) {
      io.err(`cannot run a game day: nothing changed; ${tableError(table, err)}`);
      return 1;
    }
    const refused = gamedayRefusal(
      config,
      options,
      { callerAccount: caller.account, control, markers: existing },
      clock.now(),
    );
    if (refused) {
      io.err(`cannot run a game day: ${refused.code}: ${refused.reason}; nothing changed\n`);
      return 1;
    }
    let machine: StateMachineRef;
    try {
      machine = givenMachine ?? (await derivedMachine(config, 'failover', async () => caller));
    } catch (err) {
      if (!(err instanceof MachineArnError)) throw err;
      io.err(`${err.message}; nothing changed\n`);
      return 1;
    }
    // Every control region runs the machine and the first to claim the incident wins: watch them all, unless
    // --state-machine-arn names one.
    const machines = givenMachine
      ? [givenMachine]
      : config.controlRegions.map((region) =>
          parseStateMachineArn(
            machine.arn.replace(`:states:${machine.region}:`, `:states:${region}:`),
            'failover',
          ),
        );
    // The FIS client is loaded before anything changes: without it, the fis fault is refused like any other.
    let experiments: FaultExperiments | null = null;
    if (options.fault === 'fis') {
      try {
        experiments = await (deps.experiments ?? defaultExperiments)(config.primary.region);
      } catch (err) {
        io.err(`cannot run a game day: ${(err as Error).message}; nothing changed\n`);
        return 1;
      }
    }
    const out = v.out ?? join('gameday-out', config.application);
    const plan = gamedayPlan(config, options, {
      table: table.name,
      tableRegion: table.region,
      machineArns: machines.map((m) => m.arn),
      out,
    });
    if (v['dry-run']) {
      io.out(
        `dry run: account ${caller.account} matches --account; ${config.primary.region} holds the lease; nothing open or paused; nothing changed. A game day would, in order:\n${plan.map((l) => `  ${l}\n`).join('')}`,
      );
      return 0;
    }
    return runGameday({
      config,
      configFile,
      options,
      machines,
      experiments,
      out,
      by: v.by ?? whoami(),
      reason: v.reason ?? 'game day',
      tableArgs: (['table', 'region', 'endpoint'] as const).flatMap((k) =>
        v[k] === undefined ? [] : [`--${k}`, v[k]!],
      ),
      stores,
      markers,
      io,
      clock,
      deps,
      caller,
    });
  });
}

interface Run {
  config: CutoverConfig;
  configFile: string;
  options: GamedayOptions;
  machines: StateMachineRef[];
  experiments: FaultExperiments | null;
  out: string;
  by: string;
  reason: string;
  tableArgs: string[];
  stores: ReturnType<typeof openControlTable>;
  markers: DynamoGamedayMarkerStore;
  io: Io;
  clock: Clock;
  deps: GamedayCommandDeps;
  caller: CallerIdentity;
}

/** The fault as made, so that every way out undoes exactly it. */
type Made = { kind: 'health'; marker: GamedayMarker } | { kind: 'fis'; id: string; fis: FaultExperiments };

async function runGameday(r: Run): Promise<number> {
  const { config, options, io, clock } = r;
  const primary = config.primary.region;
  const timeline: TimelineEvent[] = [];
  const record = (type: string, fields: Record<string, unknown> = {}, at = clock.now()) =>
    timeline.push({ at, source: 'gameday', type, ...fields });
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  if (!r.deps.signal) process.once('SIGINT', onSigint);
  const signal = r.deps.signal ?? controller.signal;
  mkdirSync(r.out, { recursive: true });

  let made: Made | null = null;
  let faultAt = clock.now();
  let interrupted: string | null = null;
  let execution: ExecutionSummary | null = null;
  let history: HistoryEvent[] = [];
  let undoneAt: number | null = null;
  record('gameday_started', {
    application: config.application,
    account: r.caller.account,
    fault: options.fault,
    machines: r.machines.map((m) => m.arn),
    by: r.by,
    reason: r.reason,
  });
  try {
    if (options.fault === 'health') {
      const startedAt = clock.now();
      const marker: GamedayMarker = {
        application: config.application,
        region: primary,
        startedAt,
        until: startedAt + options.timeoutMs,
        by: r.by,
        reason: r.reason,
      };
      io.err(
        `gameday: putting the game-day marker for ${primary} (until ${iso(marker.until)}): its health check fails there from its next read; Ctrl-C stops and undoes it\n`,
      );
      await r.markers.putMarker(marker);
      made = { kind: 'health', marker };
      faultAt = startedAt;
    } else {
      const templateId = config.gameday!.fisExperimentTemplateId!;
      const fis = r.experiments!;
      io.err(
        `gameday: starting the FIS experiment from template ${templateId} in ${primary}; Ctrl-C stops it\n`,
      );
      faultAt = clock.now();
      const started = await fis.start(templateId, `gameday-${config.application}-${faultAt}`, {
        application: config.application,
        'cutover:gameday': r.by,
      });
      made = { kind: 'fis', id: started.id, fis };
      io.err(`gameday: experiment ${started.id} ${started.status}\n`);
    }
    record('fault_injected', { region: primary, kind: options.fault, ...faultFields(made) }, faultAt);
    const watched = await watch(r, made, faultAt, signal, record);
    execution = watched.execution;
    history = watched.history;
    interrupted = watched.interrupted;
  } catch (err) {
    interrupted = `error: ${describeAwsError(err)}`;
    io.err(`gameday: ${interrupted}\n`);
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (made) undoneAt = await undo(made, r, record);
    else undoneAt = clock.now();
  }

  const incidentId = incidentOf(history);
  let audit: AuditEntry[] = [];
  let leaseAfter: { holder: string | null; epoch: number } | null = null;
  try {
    if (incidentId) audit = await r.stores.control.listAudit(config.application, incidentId);
    const lease = await r.stores.leases.read(config.application);
    leaseAfter = lease ? { holder: lease.holder, epoch: lease.epoch } : null;
  } catch (err) {
    io.err(`gameday: could not read the audit or the lease: ${describeAwsError(err)}\n`);
  }
  for (const s of statesEntered(history)) record('state_entered', { state: s.name }, s.at);
  for (const a of audit) {
    record('audit', { step: a.step, outcome: a.outcome, incidentId }, a.at);
    const to = (a.detail as { to?: unknown; epoch?: unknown } | undefined) ?? {};
    if (a.step === 'grant-lease' && typeof to.epoch === 'number')
      record('lease_granted', { region: config.standby.region, epoch: to.epoch }, a.at);
  }
  timeline.sort((a, b) => a.at - b.at);
  const report = gamedayReport({
    config,
    fault: options.fault,
    faultAt,
    faultUndoneAt: undoneAt,
    execution,
    history,
    audit,
    leaseAfter,
    interrupted,
  });
  writeArtifacts(r, report, timeline);
  io.out(formatGameday(report, r.out));
  const failback = await offerFailback(r, report);
  return report.verdict === 'pass' && failback === 0 ? 0 : 1;
}

function faultFields(made: Made): Record<string, unknown> {
  return made.kind === 'health'
    ? { until: made.marker.until, by: made.marker.by }
    : { experimentId: made.id };
}

/** Waits for the execution started after the fault and follows it to its end, the timeout, or Ctrl-C. */
async function watch(
  r: Run,
  made: Made,
  faultAt: number,
  signal: AbortSignal,
  record: (type: string, fields?: Record<string, unknown>, at?: number) => void,
): Promise<{ execution: ExecutionSummary | null; history: HistoryEvent[]; interrupted: string | null }> {
  const { io, clock } = r;
  const deadline = faultAt + r.options.timeoutMs;
  const pollMs = r.deps.pollMs ?? POLL_MS;
  let execution: ExecutionSummary | null = null;
  let history: HistoryEvent[] = [];
  let printed = 0;
  let fisEnded = false;
  const readers = new Map<string, ExecutionReader>();
  const readerIn = async (region: string) => {
    let reader = readers.get(region);
    if (!reader) {
      reader = await (r.deps.executions ?? defaultExecutions(r.deps))(region);
      readers.set(region, reader);
    }
    return reader;
  };
  const unreadable = new Set<string>();
  let executionRegion = r.machines[0]!.region;
  io.err(
    `gameday: waiting for an execution of ${r.machines.map((m) => m.arn).join(' or ')} (the watchers' debounce, then the quorum)\n`,
  );
  for (;;) {
    if (signal.aborted) return { execution, history, interrupted: 'interrupted (Ctrl-C)' };
    if (clock.now() >= deadline) {
      return {
        execution,
        history,
        interrupted: `timeout: ${execution ? 'the execution had not ended' : 'no failover execution started'} ${Math.round(r.options.timeoutMs / 1000)} s after the fault`,
      };
    }
    if (!execution) {
      // A control region that does not answer (it may be the one the drill of a real outage took down) is skipped,
      // said once; the others are still watched.
      const found: { region: string; execution: ExecutionSummary }[] = [];
      for (const m of r.machines) {
        try {
          const first = (await (await readerIn(m.region)).startedSince(m.arn, faultAt))[0];
          if (first) found.push({ region: m.region, execution: first });
        } catch (err) {
          if (!unreadable.has(m.region)) {
            unreadable.add(m.region);
            io.err(
              `gameday: ListExecutions of ${m.arn} failed, watching the others: ${describeAwsError(err)}\n`,
            );
          }
        }
      }
      const earliest = found.sort((a, b) => a.execution.startedAt - b.execution.startedAt)[0];
      execution = earliest?.execution ?? null;
      if (earliest) executionRegion = earliest.region;
      if (execution) {
        io.err(
          `gameday: execution ${execution.arn} started ${((execution.startedAt - faultAt) / 1000).toFixed(1)} s after the fault\n`,
        );
        record(
          'execution_started',
          { machine: 'failover', executionArn: execution.arn },
          execution.startedAt,
        );
      }
    }
    if (execution) {
      const reader = await readerIn(executionRegion);
      const now = await reader.describe(execution.arn);
      history = await reader.history(execution.arn);
      const states = statesEntered(history);
      for (const s of states.slice(printed)) io.err(`${progressLine(s, faultAt)}\n`);
      printed = states.length;
      execution = now;
      if (now.status !== 'RUNNING') {
        record(
          'execution_ended',
          { status: now.status, executionArn: now.arn },
          now.stoppedAt ?? clock.now(),
        );
        return { execution, history, interrupted: null };
      }
    }
    if (made.kind === 'fis' && !fisEnded) {
      const s = await made.fis.status(made.id);
      if (FIS_ENDED.has(s.status)) {
        fisEnded = true;
        io.err(`gameday: experiment ${made.id} ${s.status}${s.reason ? `: ${s.reason}` : ''}\n`);
        record('experiment_ended', { experimentId: made.id, status: s.status, reason: s.reason });
      }
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - clock.now())), signal);
  }
}

/** Undoes the fault, announced first; the time it was undone, or null when it could not be. */
async function undo(
  made: Made,
  r: Run,
  record: (type: string, fields?: Record<string, unknown>, at?: number) => void,
): Promise<number | null> {
  const { io, clock } = r;
  try {
    if (made.kind === 'health') {
      io.err(`gameday: deleting the game-day marker for ${made.marker.region}\n`);
      const removed = await r.markers.removeMarker(
        made.marker.application,
        made.marker.region,
        made.marker.startedAt,
      );
      if (!removed) io.err('gameday: the marker was already gone (deleted by hand, or replaced)\n');
    } else {
      const s = await made.fis.status(made.id);
      if (FIS_ENDED.has(s.status)) {
        io.err(`gameday: experiment ${made.id} already ${s.status}\n`);
      } else {
        io.err(`gameday: stopping experiment ${made.id} (${s.status})\n`);
        await made.fis.stop(made.id);
      }
    }
    const at = clock.now();
    record('fault_undone', { kind: made.kind }, at);
    return at;
  } catch (err) {
    const what =
      made.kind === 'health'
        ? `the marker could not be deleted (${describeAwsError(err)}): it stops failing ${made.marker.region} by itself at ${iso(made.marker.until)}; to end it sooner delete the item pk=${made.marker.application}, sk=gameday#${made.marker.region} from the control table`
        : `experiment ${made.id} could not be stopped (${describeAwsError(err)}): stop it in the FIS console or with aws fis stop-experiment --id ${made.id}`;
    io.err(`gameday: UNDO FAILED: ${what}\n`);
    record('fault_undo_failed', { kind: made.kind, error: describeAwsError(err) });
    return null;
  }
}

function incidentOf(history: readonly HistoryEvent[]): string | null {
  const input = history.find((e) => e.type === 'ExecutionStarted')?.executionStartedEventDetails?.input;
  try {
    const id = (JSON.parse(input ?? '{}') as { incidentId?: unknown }).incidentId;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

function writeArtifacts(r: Run, report: GamedayReport, timeline: TimelineEvent[]): void {
  const full = {
    ...report,
    account: r.caller.account,
    state_machine_arn: report.execution?.arn.replace(/:execution:([^:]+):[^:]+$/, ':stateMachine:$1') ?? null,
    state_machine_arns: r.machines.map((m) => m.arn),
    by: r.by,
    reason: r.reason,
    configuration: r.config,
  };
  writeFileSync(join(r.out, 'report.json'), `${JSON.stringify(full, null, 2)}\n`);
  writeFileSync(join(r.out, 'timeline.jsonl'), timeline.map((e) => `${JSON.stringify(e)}\n`).join(''));
  writeFileSync(
    join(r.out, 'report.html'),
    renderReportHtml(
      asDrillReport(report, { config: r.config, configFile: r.configFile, account: r.caller.account }),
      timeline,
      [],
    ),
  );
}

/**
 * The drill's report page shows a game day too: the checks, the RTO as a bar of its phases, the swimlane of the
 * timeline. The numbers that only a drill measures (acknowledged, lost and split-brain writes) are not measured
 * here and the page says so (report.html's gameday mode).
 */
export function asDrillReport(
  report: GamedayReport,
  r: { config: Run['config']; configFile: string; account: string },
): Parameters<typeof renderReportHtml>[0] {
  return {
    scenario: `game day (${report.fault})`,
    seed: 0,
    verdict: report.verdict,
    checks: report.checks,
    reasons: report.reasons,
    fault_at: report.fault_at,
    rto_ms: report.rto_ms,
    phases: report.phases as never,
    steps: report.steps as never,
    lost_acked_writes: 0,
    lost_writes: [],
    split_brain_writes: 0,
    failover_executions: report.execution ? 1 : 0,
    failovers_completed: report.verdict === 'pass' ? 1 : 0,
    acked_writes: 0,
    lag_at_fault_ms: null,
    peak_memory_mib: null,
    approve: false,
    replication: 'asynchronous',
    duration_ms: (report.fault_undone_at ?? report.fault_at) - report.fault_at,
    config: r.config,
    config_source: r.configFile,
    time_scale: 1,
    edge_time_scale: 1,
    write_rate: { asked_per_s: 0, achieved_per_s: null, before_fault_per_s: null },
    gameday: {
      rto_means: report.rto_means,
      account: r.account,
      execution: report.execution?.arn ?? null,
    },
  };
}

/** After a failover that moved the lease: the planned failback, asked, started, or printed. 0 unless it failed. */
async function offerFailback(r: Run, report: GamedayReport): Promise<number> {
  const { config, io } = r;
  if (report.lease_after?.holder !== config.standby.region) {
    io.out(
      `no failback offered: ${config.standby.region} does not hold the lease (${report.lease_after ? `${report.lease_after.holder ?? 'revoked'} at epoch ${report.lease_after.epoch}` : 'unread'}); see cutover status\n`,
    );
    return 0;
  }
  const inputFile = join(r.out, 'failback-input.json');
  writeFileSync(inputFile, `${JSON.stringify(failbackInputAfter(config, report, r.by), null, 2)}\n`);
  const argv = ['--config', r.configFile, '--input', inputFile, ...r.tableArgs];
  const command = `cutover failback ${argv.map(shellWord).join(' ')}`;
  const note = `  the failback machine first checks that ${config.primary.region} has been healthy for its minHealthyMinutes and replicates from ${config.standby.region} (rebuild its database as a replica first: docs/runbook.md), then asks for approval`;
  let go = r.options.failback === 'yes';
  if (r.options.failback === 'ask') {
    const answer = await (r.deps.ask ?? askOnTerminal)(
      `start the planned failback from ${config.standby.region} to ${config.primary.region} now? [y/N] `,
    );
    go = /^y(es)?$/i.test(answer.trim());
  }
  if (!go) {
    io.out(`to fail back later:\n  ${command}\n${note}\n`);
    return 0;
  }
  io.out(`starting the planned failback: ${command}\n${note}\n`);
  return failbackCommand(argv, {
    io,
    clock: r.clock,
    identity: async () => r.caller,
    ...(r.deps.client ? { client: r.deps.client } : {}),
    ...(r.deps.sfn ? { sfn: r.deps.sfn } : {}),
  });
}

const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`);

async function askOnTerminal(question: string): Promise<string> {
  if (!process.stdin.isTTY) return '';
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

const defaultExecutions =
  (deps: GamedayCommandDeps) =>
  async (region: string): Promise<ExecutionReader> =>
    new SfnExecutionReader(await (deps.sfn ?? sfnClient)(region));

async function defaultExperiments(region: string): Promise<FaultExperiments> {
  return new FisExperiments(await loadFisModule(), region);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
