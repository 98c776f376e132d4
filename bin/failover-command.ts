import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CutoverConfig } from '#core/config.js';
import { failoverRequestedDetail } from '#core/events.js';
import { type Incident, inFlightEpochs } from '#core/incident.js';
import {
  MANUAL_VERDICT,
  type ManualFailoverVerdict,
  manualFailoverVerdict,
  operatorRequester,
} from '#core/manual-failover.js';
import {
  type Clock,
  type ControlStore,
  type IncidentRequest,
  type LeaseStore,
  systemClock,
} from '#core/ports.js';
import { loadConfig } from './config-file.js';
import { readStatus } from './control-commands.js';
import {
  type ControlTable,
  derivedMachine,
  describeAwsError,
  flags,
  type IdentityReader,
  type Io,
  iso,
  MachineArnError,
  machineOption,
  openControlTable,
  processIo,
  required,
  sfnClient,
  stateMachineProblems,
  tableError,
  tableFlags,
  whoami,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

export const USAGE = usageOf('failover');

/** The execution that carries one incident: Step Functions refuses a second start of it under another input. */
export function manualExecutionName(incident: Pick<Incident, 'application' | 'epoch' | 'attempt'>): string {
  const tail = `-${incident.epoch}-${incident.attempt}`;
  return `${`manual-failover-${incident.application}`.slice(0, 80 - tail.length)}${tail}`;
}

/**
 * Keys in a fixed order at every depth: the input of a repeated start must be byte for byte the first one's,
 * and an incident read back from DynamoDB does not keep the order of its map attributes.
 */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

export interface ManualFailoverDeps {
  config: CutoverConfig;
  control: ControlStore;
  leases: LeaseStore;
  clock: Clock;
  /** The failover machine to start; null for a dry run, which writes and sends nothing. */
  machine: { sfn: SFNClient; stateMachineArn: string } | null;
}

export interface ManualFailoverAsk {
  to: string;
  reason: string;
  /** The operator; recorded as `operator:<by>`. */
  by: string;
  acceptDataLoss?: boolean;
  overrideCooldown?: boolean;
}

export type ManualFailoverResult =
  | { outcome: 'refused'; code: string; sentence: string; notes: string[] }
  | {
      outcome: 'dry-run';
      code: string;
      sentence: string;
      notes: string[];
      request: IncidentRequest | Incident;
    }
  | {
      outcome: 'started';
      code: string;
      sentence: string;
      notes: string[];
      incident: Incident;
      executionName: string;
      executionArn: string;
      startDate: number | null;
    }
  | { outcome: 'start-failed'; code: 'START_FAILED'; sentence: string; notes: string[]; incident: Incident };

/**
 * The command's core: read the lease and the open incidents, decide (pure), write the incident with the
 * aggregator's conditional put, start the machine. Nothing is written before every check has passed, and a
 * lost conditional write is reported, never retried around.
 */
export async function requestManualFailover(
  deps: ManualFailoverDeps,
  ask: ManualFailoverAsk,
): Promise<ManualFailoverResult> {
  const { config, control, clock } = deps;
  const application = config.application;
  const requestedBy = operatorRequester(ask.by);
  const now = clock.now();
  const status = await readStatus(application, deps, now);
  // The window in which a failover in flight keeps its incident, as the aggregator reads it.
  const { fromEpoch, toEpoch } = inFlightEpochs(status.lease?.epoch ?? 0);
  const [open, rebuild] = await Promise.all([
    control.openIncident(application, fromEpoch, toEpoch),
    control.getRebuild(application, ask.to),
  ]);
  const verdict = manualFailoverVerdict(
    {
      regions: { primary: config.primary.region, standby: config.standby.region },
      lease: status.lease,
      open,
      rebuild,
      cooldown: {
        lastMoveAt: status.lastCompletedFailover?.closedAt ?? null,
        cooldownMs: config.cooldownMs,
        now,
      },
    },
    {
      to: ask.to,
      requestedBy,
      acceptDataLoss: ask.acceptDataLoss ?? false,
      overrideCooldown: ask.overrideCooldown ?? false,
    },
  );
  const notes: string[] = [];
  if (!verdict.go) return { outcome: 'refused', code: verdict.code, sentence: verdict.reason, notes };
  if (status.pause) {
    notes.push(
      `${application} is paused by ${status.pause.pausedBy} (${status.pause.reason}): the pause holds automatic incidents only, this failover goes on`,
    );
  }
  if (verdict.code === 'MANUAL_FAILOVER' && status.lease?.valid && status.lease.holder === verdict.from) {
    notes.push(
      `${verdict.from} holds a valid lease: its writes stop at the fence and the standby is promoted unplanned (RPO guard applies); for a planned move with no data loss use \`cutover failback\``,
    );
  }

  let incident: Incident;
  if (verdict.code === 'RESTART_UNSTARTED') {
    incident = verdict.incident;
    if (!deps.machine) {
      return { outcome: 'dry-run', code: verdict.code, sentence: verdict.reason, notes, request: incident };
    }
  } else {
    const request = manualRequest(verdict, ask, requestedBy, status, now, application);
    if (!deps.machine) {
      return { outcome: 'dry-run', code: verdict.code, sentence: verdict.reason, notes, request };
    }
    const created = await control.requestIncident(request, now);
    if (!created.created) {
      const e = created.existing;
      const sentence = !e
        ? `lost the race for the incident at epoch ${verdict.epoch}; nothing was written, run \`cutover status\``
        : e.status === 'requested' || e.status === 'running'
          ? `lost the race: incident ${e.id} (${e.from} → ${e.to}) was ${e.status === 'running' ? `claimed by ${e.executionArn}` : `requested by ${e.requestedBy}`} meanwhile; nothing was written`
          : `incident ${e.id} at epoch ${e.epoch} is ${e.status}${e.closeReason ? ` (${e.closeReason})` : ''}: the control table keeps one incident per lease epoch and reopens an aborted or failed one only after its hold-off${e.reopenAfter ? ` (after ${iso(e.reopenAfter)})` : ''}; nothing was written`;
      return { outcome: 'refused', code: 'INCIDENT_EXISTS', sentence, notes };
    }
    incident = created.incident;
  }

  const name = manualExecutionName(incident);
  try {
    const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    const res = await deps.machine.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.machine.stateMachineArn,
        name,
        input: canonicalJson(failoverRequestedDetail(incident)),
      }),
    );
    try {
      await control.markPublished(incident.id, clock.now());
    } catch (err) {
      // The execution runs all the same; only the record that it was handed over is missing.
      notes.push(`could not mark incident ${incident.id} as started: ${describeAwsError(err)}`);
    }
    return {
      outcome: 'started',
      code: verdict.code,
      sentence: verdict.reason,
      notes,
      incident,
      executionName: name,
      executionArn: res.executionArn ?? '',
      startDate: res.startDate ? res.startDate.getTime() : null,
    };
  } catch (err) {
    return {
      outcome: 'start-failed',
      code: 'START_FAILED',
      sentence:
        `incident ${incident.id} is requested but StartExecution ${name} failed: ${describeAwsError(err)}. ` +
        `Run the same command again to start it under the same name; otherwise another control region takes the unclaimed request over after ${config.takeoverAfterMs} ms`,
      notes,
      incident,
    };
  }
}

function manualRequest(
  verdict: Extract<ManualFailoverVerdict, { code: 'MANUAL_FAILOVER' }>,
  ask: ManualFailoverAsk,
  requestedBy: string,
  status: Awaited<ReturnType<typeof readStatus>>,
  now: number,
  application: string,
): IncidentRequest {
  return {
    application,
    kind: 'failover',
    epoch: verdict.epoch,
    from: verdict.from,
    to: verdict.to,
    verdictKind: MANUAL_VERDICT.kind,
    verdictCode: MANUAL_VERDICT.code,
    reason: ask.reason,
    // What `cutover status` showed when the operator decided: the audit trail's evidence (I5).
    evidence: {
      source: 'operator',
      operator: ask.by,
      readAt: now,
      lease: status.lease,
      pause: status.pause,
      verdict: status.verdict,
      lastCompletedFailover: status.lastCompletedFailover?.id ?? null,
      // The operator's overrides, with the request's reason: the RPO guard and Promote read acceptDataLoss.
      ...(verdict.overrides.dataLoss
        ? { acceptDataLoss: { by: ask.by, reason: ask.reason, warning: verdict.overrides.dataLoss } }
        : {}),
      ...(verdict.overrides.cooldown
        ? { overrideCooldown: { by: ask.by, reason: ask.reason, detail: verdict.overrides.cooldown } }
        : {}),
    },
    // The operator is the decision: nobody else is asked.
    needsApproval: false,
    requestedAt: now,
    requestedBy,
    detectedAt: now,
  };
}

export interface FailoverCommandDeps {
  io?: Io;
  clock?: Clock;
  whoami?: () => string;
  client?: (table: ControlTable) => DynamoDBDocumentClient;
  sfn?: (region: string) => SFNClient | Promise<SFNClient>;
  /** The caller's account, for the machine's ARN when --state-machine-arn is not given (STS by default). */
  identity?: IdentityReader;
}

/**
 * `cutover failover`. Exit codes: 0 started (or, with --dry-run, checked); 1 a refusal, a refused configuration
 * or machine, or a failed call; 2 a usage problem. Nothing is written or sent unless every check passes.
 */
export async function failoverCommand(argv: string[], deps: FailoverCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const clock = deps.clock ?? systemClock;
  return withUsage(io, USAGE, async () => {
    const v = parse(argv);
    let machine = machineOption(v.arn, 'failover');
    const config = loadConfig(v.config, io);
    if (!config) return 1;
    if (!machine && !v.dryRun) {
      try {
        machine = await derivedMachine(config, 'failover', deps.identity);
      } catch (err) {
        if (!(err instanceof MachineArnError)) throw err;
        io.err(`${err.message}; nothing was written or sent\n`);
        return 1;
      }
    }
    if (machine) {
      const problems = stateMachineProblems(machine, config, 'failover');
      if (problems.length) {
        io.err(`REFUSED --state-machine-arn ${machine.arn}; nothing was written or sent\n`);
        for (const p of problems) io.err(`  ${p}\n`);
        return 1;
      }
    }
    const { table, control, leases } = openControlTable(config, v, clock, deps.client);
    const sfn = machine && !v.dryRun ? await (deps.sfn ?? sfnClient)(machine.region) : null;
    let result: ManualFailoverResult;
    try {
      result = await requestManualFailover(
        {
          config,
          control,
          leases,
          clock,
          machine: sfn && machine && !v.dryRun ? { sfn, stateMachineArn: machine.arn } : null,
        },
        {
          to: v.to,
          reason: v.reason,
          by: v.by ?? (deps.whoami ?? whoami)(),
          acceptDataLoss: v.acceptDataLoss,
          overrideCooldown: v.overrideCooldown,
        },
      );
    } catch (err) {
      io.err(tableError(table, err));
      return 1;
    }
    return report(result, machine?.arn, io);
  });
}

function report(result: ManualFailoverResult, machineArn: string | undefined, io: Io): number {
  const notes = result.notes.map((n) => `  note      ${n}\n`).join('');
  switch (result.outcome) {
    case 'refused':
      io.err(`REFUSED (${result.code}): ${result.sentence}\n${notes}`);
      return 1;
    case 'start-failed':
      // An operator whose role may not start executions can start this one from the console instead.
      io.err(
        `${result.sentence}\n${notes}` +
          `  to start it from the Step Functions console instead: ${machineArn}, Start execution, name ${manualExecutionName(result.incident)}, input:\n` +
          `${canonicalJson(failoverRequestedDetail(result.incident))}\n`,
      );
      return 1;
    case 'dry-run':
      io.out(
        `dry run (${result.code}): ${result.sentence}\n${notes}` +
          `  would request, then start the failover machine with its Failover Requested detail:\n` +
          `${JSON.stringify(result.request, null, 2)}\n`,
      );
      return 0;
    case 'started': {
      const i = result.incident;
      io.out(
        `started a manual failover of ${i.application} from ${i.from} to ${i.to}\n` +
          `  incident  ${i.id} (epoch ${i.epoch}, ${i.requestedBy}): ${i.reason}\n` +
          `  why       ${result.sentence}\n` +
          `  execution ${result.executionArn} (${result.executionName})\n` +
          `  started   ${result.startDate === null ? '-' : iso(result.startDate)}\n${notes}` +
          `  next      the machine stops traffic to ${i.from}, fences the lease${i.epoch > 0 ? ` (epoch ${i.epoch} → ${i.epoch + 1})` : ''}, waits out the old lease, promotes ${i.to}, grants it the lease${i.epoch > 0 ? ` (epoch ${i.epoch + 2})` : ''} and routes traffic to it; follow it with \`cutover status\`\n`,
      );
      return 0;
    }
  }
}

function parse(argv: string[]) {
  const v = flags(argv, {
    config: { type: 'string' },
    to: { type: 'string' },
    reason: { type: 'string' },
    by: { type: 'string' },
    'state-machine-arn': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'accept-data-loss': { type: 'boolean', default: false },
    'override-cooldown': { type: 'boolean', default: false },
    ...tableFlags,
  });
  // Checked before anything is read: a failover without a reason or a target is refused outright.
  const values = {
    config: required(v.config, '--config'),
    to: required(v.to, '--to'),
    reason: required(v.reason, '--reason'),
    by: v.by === undefined ? undefined : required(v.by, '--by'),
    arn: v['state-machine-arn'],
    dryRun: v['dry-run'] ?? false,
    acceptDataLoss: v['accept-data-loss'] ?? false,
    overrideCooldown: v['override-cooldown'] ?? false,
    table: v.table,
    region: v.region,
    endpoint: v.endpoint,
  };
  return values;
}
