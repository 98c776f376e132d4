import { type CanaryControlState, canaryControlRefusal } from './canary.js';
import type { CutoverConfig } from './config.js';
import type { AuditEntry } from './ports.js';

/**
 * The game day (issue 15, docs/gameday.md): the real failover rehearsed in a staging account. The operator's CLI
 * fails the primary's health (a marker in the control table that the health contract's `gameday` check honours,
 * or an AWS FIS experiment), watches the failover execution the watchers and the aggregator start, and reports
 * its real timings. Everything here is pure: the refusals, the plan, the marker's life and the report.
 */

export const FAULTS = ['health', 'fis'] as const;
export type Fault = (typeof FAULTS)[number];
export const FAILBACK_CHOICES = ['ask', 'yes', 'no'] as const;
export type FailbackChoice = (typeof FAILBACK_CHOICES)[number];

/** The failover must end within this of the fault, or the game day stops and undoes it (at most 2 h). */
export const GAMEDAY_DEFAULT_TIMEOUT_MS = 15 * 60_000;
export const GAMEDAY_MAX_TIMEOUT_MS = 2 * 3_600_000;
export const GAMEDAY_MIN_TIMEOUT_MS = 60_000;
/** The RTO the product aims at (the brief: failover within a minute). */
export const GAMEDAY_RTO_TARGET_MS = 60_000;

export class GamedayInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GamedayInputError';
  }
}

export interface GamedayOptions {
  account: string;
  fault: Fault;
  timeoutMs: number;
  failback: FailbackChoice;
}

/** The flags as typed, checked one by one; the first problem is thrown with the flag's name and the fix. */
export function parseGamedayOptions(raw: {
  account: string | undefined;
  fault: string | undefined;
  timeout: string | undefined;
  failback: string | undefined;
}): GamedayOptions {
  const account = raw.account?.trim() ?? '';
  if (account === '') {
    throw new GamedayInputError(
      '--account is required: the 12-digit id of the staging account the game day runs in (a game day never runs in an account nobody named)',
    );
  }
  if (!/^\d{12}$/.test(account)) {
    throw new GamedayInputError(
      `--account must be a 12-digit AWS account id such as 123456789012, got ${JSON.stringify(raw.account)}`,
    );
  }
  const fault = raw.fault ?? 'health';
  if (!(FAULTS as readonly string[]).includes(fault)) {
    throw new GamedayInputError(
      `--fault must be health (the game-day marker fails the primary's health contract) or fis (the configuration's FIS experiment template), got ${JSON.stringify(fault)}`,
    );
  }
  const failback = raw.failback ?? 'ask';
  if (!(FAILBACK_CHOICES as readonly string[]).includes(failback)) {
    throw new GamedayInputError(
      `--failback must be ask (prompt after the failover), yes (start it) or no (print the command), got ${JSON.stringify(failback)}`,
    );
  }
  return {
    account,
    fault: fault as Fault,
    failback: failback as FailbackChoice,
    timeoutMs: raw.timeout === undefined ? GAMEDAY_DEFAULT_TIMEOUT_MS : parseTimeout(raw.timeout),
  };
}

/** `--timeout`: 90s, 15m, 1h or milliseconds, from 1 minute to 2 hours. */
export function parseTimeout(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) {
    throw new GamedayInputError(
      `--timeout must be a number with a unit such as 90s, 15m or 1h, got ${JSON.stringify(text)}`,
    );
  }
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(m[1]) * unit;
  if (ms < GAMEDAY_MIN_TIMEOUT_MS || ms > GAMEDAY_MAX_TIMEOUT_MS) {
    throw new GamedayInputError(
      `--timeout must be from 1m to 2h (the failover must finish inside it: detection, fence, promotion and traffic), got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/**
 * The game-day marker: while it is live (now < until), the health contract's `gameday` check fails in the region
 * it names, so the watchers vote that region unhealthy and the keeper's health answers 503. It ends by itself at
 * `until`: a game day that crashed cannot leave the primary failed.
 */
export interface GamedayMarker {
  application: string;
  region: string;
  /** Epoch ms when it was written; the CLI removes only its own marker (conditional on this). */
  startedAt: number;
  until: number;
  by: string;
  reason: string;
}

export type MarkerState =
  | { live: true; code: 'GAMEDAY_FAULT'; reason: string }
  | { live: false; code: 'NO_MARKER' | 'OTHER_REGION' | 'EXPIRED'; reason: string };

/** Whether `marker` fails `region` at `now`: the check's verdict and its detail, both from here. */
export function markerState(marker: GamedayMarker | null, region: string, now: number): MarkerState {
  if (!marker) return { live: false, code: 'NO_MARKER', reason: 'no game day' };
  if (marker.region !== region) {
    return { live: false, code: 'OTHER_REGION', reason: `game day fails ${marker.region}, not ${region}` };
  }
  const until = new Date(marker.until).toISOString();
  if (now >= marker.until) {
    return { live: false, code: 'EXPIRED', reason: `game-day marker for ${region} expired at ${until}` };
  }
  return {
    live: true,
    code: 'GAMEDAY_FAULT',
    reason: `game day by ${marker.by} fails ${region} until ${until}: ${marker.reason}`.slice(0, 200),
  };
}

/** What the control table and STS say when the game day asks to start. */
export interface GamedayState {
  /** STS GetCallerIdentity's account. */
  callerAccount: string;
  control: CanaryControlState;
  /** A marker already in the table for either region (a game day running, or one that crashed). */
  markers: readonly GamedayMarker[];
}

export type GamedayRefusalCode =
  | 'ACCOUNT_MISMATCH'
  | 'NO_GAMEDAY_CHECK'
  | 'NO_FIS_TEMPLATE'
  | 'GAMEDAY_RUNNING'
  | NonNullable<ReturnType<typeof canaryControlRefusal>>['code'];

export interface GamedayRefusal {
  code: GamedayRefusalCode;
  reason: string;
}

/**
 * Whether a game day may start, and if not why (null: it may). It runs only in the account the operator named
 * (never by accident in production), with the means of its fault configured, the configured primary holding a
 * valid lease, no incident open, nothing paused (the canary's checks: a failback must have somewhere to return),
 * and no live marker of another game day.
 */
export function gamedayRefusal(
  config: CutoverConfig,
  options: Pick<GamedayOptions, 'account' | 'fault'>,
  state: GamedayState,
  now: number,
): GamedayRefusal | null {
  if (state.callerAccount !== options.account) {
    return {
      code: 'ACCOUNT_MISMATCH',
      reason: `--account ${options.account} is not the account of these credentials (STS GetCallerIdentity: ${state.callerAccount}): use the staging account's credentials, or name the account you mean`,
    };
  }
  if (options.fault === 'health' && !gamedayCheckOf(config)) {
    return {
      code: 'NO_GAMEDAY_CHECK',
      reason:
        'fault health needs a health check of kind "gameday" in health.checks (weight unhealthy), mounted in the application with gamedayCheck (docs/gameday.md); or use --fault fis',
    };
  }
  if (options.fault === 'fis' && !config.gameday?.fisExperimentTemplateId) {
    return {
      code: 'NO_FIS_TEMPLATE',
      reason:
        'fault fis needs gameday.fisExperimentTemplateId in the configuration (the id of an AWS FIS experiment template that fails the primary, such as EXT1a2b3c4d5e6f7)',
    };
  }
  const refused = canaryControlRefusal(state.control, config.primary.region, now);
  if (refused) return refused;
  const live = state.markers.find((m) => now < m.until);
  if (live) {
    return {
      code: 'GAMEDAY_RUNNING',
      reason: `a game day by ${live.by} fails ${live.region} until ${new Date(live.until).toISOString()} (${live.reason}): wait for it, or for its marker to expire`,
    };
  }
  return null;
}

/** The configured check of kind `gameday`, if any. */
export function gamedayCheckOf(config: Pick<CutoverConfig, 'health'>) {
  return config.health?.checks.find((c) => c.kind === 'gameday');
}

/** Each change a game day makes, in order, as announced before it is made and printed by --dry-run. */
export function gamedayPlan(
  config: CutoverConfig,
  options: GamedayOptions,
  where: { table: string; tableRegion: string; machineArns: readonly string[]; out: string },
): string[] {
  const primary = config.primary.region;
  const standby = config.standby.region;
  const minutes = `${Math.round(options.timeoutMs / 60_000)} min`;
  const fault =
    options.fault === 'health'
      ? `put the game-day marker (${config.application}, gameday#${primary}) in ${where.table} (${where.tableRegion}), live for ${minutes}: the health check ${gamedayCheckOf(config)?.name ?? 'gameday'} fails in ${primary}, so the watchers vote it unhealthy`
      : `start the AWS FIS experiment from template ${config.gameday?.fisExperimentTemplateId} (FIS StartExperiment in ${primary})`;
  const undo =
    options.fault === 'health'
      ? `delete the game-day marker (on every way out: the failover ended, the ${minutes} timeout, an error, Ctrl-C; if this process dies it expires by itself)`
      : 'stop the FIS experiment (StopExperiment) unless it has ended (on every way out: the failover ended, the timeout, an error, Ctrl-C)';
  const failback = {
    ask: `ask whether to start the planned failback from ${standby} to ${primary}`,
    yes: `start the planned failback from ${standby} to ${primary} (as cutover failback does)`,
    no: `print the cutover failback command to run later (from ${standby} to ${primary})`,
  }[options.failback];
  return [
    `1. ${fault}`,
    `2. wait for the failover execution that starts after the fault in ${where.machineArns.join(' or ')} (the watchers, the aggregator and the rule start it, in whichever control region wins the incident), then follow it until it ends (changes nothing)`,
    `3. ${undo}`,
    `4. read the incident's audit trail and write timeline.jsonl, report.json and report.html to ${where.out}`,
    `5. ${failback}`,
  ];
}

/**
 * One event of GetExecutionHistory as the SDK returns it (Step Functions API reference, HistoryEvent:
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html): `type` such as
 * TaskStateEntered or ExecutionSucceeded, `timestamp`, and the details object of its type.
 */
export interface HistoryEvent {
  id?: number;
  type?: string;
  timestamp?: Date | number | string;
  stateEnteredEventDetails?: { name?: string; input?: string };
  executionStartedEventDetails?: { input?: string };
  executionSucceededEventDetails?: { output?: string };
  executionFailedEventDetails?: { error?: string; cause?: string };
  executionAbortedEventDetails?: { error?: string; cause?: string };
  executionTimedOutEventDetails?: { error?: string; cause?: string };
}

const at = (e: HistoryEvent): number | null => {
  const t = e.timestamp;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : t;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
};

/** The states an execution entered, in order, with their time: the progress lines and the report's points. */
export function statesEntered(history: readonly HistoryEvent[]): { name: string; at: number }[] {
  const out: { name: string; at: number }[] = [];
  for (const e of history) {
    const t = at(e);
    const name = e.stateEnteredEventDetails?.name;
    if (e.type?.endsWith('StateEntered') && name && t !== null) out.push({ name, at: t });
  }
  return out;
}

/** The phases of a game day's RTO and after, with what each holds (the drill's labels where they agree). */
export const GAMEDAY_PHASES = [
  {
    id: 'probe',
    label: 'first failed probe',
    holds:
      'from the fault to the first unhealthy observation of the voters that made the quorum (the execution input’s detectedAt)',
  },
  {
    id: 'detection',
    label: 'detection',
    holds: 'the debounce window and the quorum: detectedAt to requestedAt (the execution’s detectionMs)',
  },
  {
    id: 'claim_recheck',
    label: 'claim & re-check',
    holds:
      'from the request to the fence’s first state: the rule starts the execution, it claims the incident, asks when needed and re-checks the votes',
  },
  {
    id: 'fence',
    label: 'fence',
    holds:
      'StopTraffic/Fence entered to RpoGuard entered: traffic stopped, the lease revoked, the old lease plus skew waited out',
  },
  {
    id: 'promote',
    label: 'promote',
    holds:
      'RpoGuard entered to GrantLease entered: the RPO guard, beforePromote hooks, the promotion until writable',
  },
  {
    id: 'grant',
    label: 'grant',
    holds: 'GrantLease entered to RouteTraffic entered: the lease granted to the standby',
  },
  {
    id: 'traffic',
    label: 'traffic',
    holds: 'RouteTraffic entered to Verify entered: the traffic step until it reports the traffic moved',
  },
] as const;
export type GamedayPhaseId = (typeof GAMEDAY_PHASES)[number]['id'];

export interface GamedayPhase {
  id: GamedayPhaseId;
  label: string;
  holds: string;
  start_at: number;
  end_at: number;
  ms: number;
}

export interface GamedayCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GamedayFacts {
  config: Pick<CutoverConfig, 'application' | 'primary' | 'standby'>;
  fault: Fault;
  faultAt: number;
  /** When the fault was undone (marker deleted, experiment stopped), or null when undoing it failed. */
  faultUndoneAt: number | null;
  execution: { arn: string; status: string; startedAt: number; stoppedAt: number | null } | null;
  history: readonly HistoryEvent[];
  audit: readonly AuditEntry[];
  /** The lease as read after the execution ended. */
  leaseAfter: { holder: string | null; epoch: number } | null;
  /** Why the watch ended without a finished execution (timeout, Ctrl-C, an error), if it did. */
  interrupted: string | null;
}

export interface GamedayReport {
  kind: 'gameday';
  application: string;
  fault: Fault;
  verdict: 'pass' | 'fail';
  checks: GamedayCheck[];
  reasons: string[];
  fault_at: number;
  /** From the fault to the end of the traffic phase (the machine entering Verify); see `rto_means`. */
  rto_ms: number | null;
  rto_means: string;
  phases: GamedayPhase[];
  /** Each phase's ms by id, and verify (after the RTO: Verify entered to its end). */
  steps: Record<`${GamedayPhaseId}_ms` | 'verify_ms', number | null>;
  /** The execution's own detectionMs (requestedAt − detectedAt), as the machine reports it. */
  detection_ms: number | null;
  execution: GamedayFacts['execution'] & { incidentId: string | null };
  states: { name: string; at: number }[];
  audit: AuditEntry[];
  lease_after: GamedayFacts['leaseAfter'];
  fault_undone_at: number | null;
  interrupted: string | null;
}

export const RTO_MEANS =
  'from the fault to the failover machine entering Verify: the lease granted to the standby and the traffic step done (Route 53 INSYNC or the holder checks turned). There is no acknowledged-write client in AWS, so this is not the first write the new primary acknowledged (the drill’s RTO); clients still wait for DNS caches to expire after it (the record TTL).';

const parseJson = (text: string | undefined): Record<string, unknown> => {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The game day's report from what AWS recorded: the execution history's state timestamps (each phase starts when
 * the machine entered the state that begins it), the execution input's detectedAt/requestedAt (the detection), the
 * audit trail (the grant and the decision), the lease read afterwards and the fault's own times. A phase the
 * execution never reached is absent; each point is clamped between the one before it and the RTO's end, so the
 * phases of a completed failover add up to the RTO exactly.
 */
export function gamedayReport(f: GamedayFacts): GamedayReport {
  const states = statesEntered(f.history);
  const first = (...names: string[]) =>
    states.find((s) => names.includes(s.name) && s.at >= (f.execution?.startedAt ?? 0))?.at ?? null;
  const started = f.history.find((e) => e.type === 'ExecutionStarted');
  const input = parseJson(started?.executionStartedEventDetails?.input);
  const succeeded = f.history.find((e) => e.type === 'ExecutionSucceeded');
  const output = parseJson(succeeded?.executionSucceededEventDetails?.output);
  const timings = (output.timings ?? {}) as Record<string, unknown>;
  const requestedAt = num(input.requestedAt) ?? (started ? at(started) : null);
  const outputDetection = num(timings.detectionMs);
  const detectedAt =
    num(input.detectedAt) ??
    (requestedAt !== null && outputDetection !== null ? requestedAt - outputDetection : requestedAt);
  const fenceStart = first('StopTraffic', 'Fence');
  const fenceEnd = first('RpoGuard', 'BeforePromoteHooks', 'Promote');
  const promoted = first('GrantLease');
  const granted = first('RouteTraffic');
  const routed = first('Verify');
  const verified = first('AfterTrafficHooks', 'Notify');
  const end = routed;
  const raw = [detectedAt, requestedAt, fenceStart, fenceEnd, promoted, granted, routed];
  const phases: GamedayPhase[] = [];
  let previous = f.faultAt;
  for (const [i, p] of GAMEDAY_PHASES.entries()) {
    const point = raw[i];
    if (point === null || point === undefined) break;
    const clamped = end === null ? Math.max(previous, point) : Math.min(end, Math.max(previous, point));
    phases.push({ ...p, start_at: previous, end_at: clamped, ms: clamped - previous });
    previous = clamped;
  }
  const steps = Object.fromEntries([
    ...GAMEDAY_PHASES.map((p) => [`${p.id}_ms`, phases.find((x) => x.id === p.id)?.ms ?? null]),
    ['verify_ms', routed !== null && verified !== null ? Math.max(0, verified - routed) : null],
  ]) as GamedayReport['steps'];
  const rto = end === null ? null : end - f.faultAt;
  const incidentId = typeof input.incidentId === 'string' ? input.incidentId : null;
  const checks = gamedayChecks(f, { states, rto, incidentId, routed, verified });
  const reasons = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  return {
    kind: 'gameday',
    application: f.config.application,
    fault: f.fault,
    verdict: reasons.length ? 'fail' : 'pass',
    checks,
    reasons,
    fault_at: f.faultAt,
    rto_ms: rto,
    rto_means: RTO_MEANS,
    phases,
    steps,
    detection_ms:
      num(timings.detectionMs) ??
      (detectedAt !== null && requestedAt !== null ? requestedAt - detectedAt : null),
    execution: f.execution ? { ...f.execution, incidentId } : null,
    states,
    audit: [...f.audit],
    lease_after: f.leaseAfter,
    fault_undone_at: f.faultUndoneAt,
    interrupted: f.interrupted,
  } as GamedayReport;
}

function gamedayChecks(
  f: GamedayFacts,
  seen: {
    states: { name: string }[];
    rto: number | null;
    incidentId: string | null;
    routed: number | null;
    verified: number | null;
  },
): GamedayCheck[] {
  const primary = f.config.primary.region;
  const standby = f.config.standby.region;
  const e = f.execution;
  const names = new Set(seen.states.map((s) => s.name));
  const granted = f.audit.find((a) => a.step === 'grant-lease');
  const fmt = (ms: number) => `${ms.toLocaleString('en-US')} ms`;
  return [
    {
      name: 'one failover execution started after the fault',
      ok: e !== null,
      detail: e
        ? `${e.arn} started ${fmt(e.startedAt - f.faultAt)} after the fault${seen.incidentId ? ` for incident ${seen.incidentId}` : ''}`
        : `none started${f.interrupted ? ` (${f.interrupted})` : ''}`,
    },
    {
      name: 'the execution succeeded through Completed',
      ok: e?.status === 'SUCCEEDED' && names.has('Completed'),
      detail: e
        ? `${e.status}${names.has('Aborted') ? ', ended in Aborted' : ''}${names.has('FailoverFailed') ? ', ended in FailoverFailed' : ''}; last state ${seen.states.at(-1)?.name ?? '-'}`
        : 'no execution',
    },
    {
      name: `the lease moved to the standby ${standby}`,
      ok: f.leaseAfter?.holder === standby,
      detail: f.leaseAfter
        ? `${f.leaseAfter.holder ?? 'nobody (revoked)'} holds it at epoch ${f.leaseAfter.epoch}${granted ? `; audit: ${granted.step} ${granted.outcome}` : ''}`
        : 'the lease could not be read',
    },
    {
      name: 'traffic moved and the new primary was verified',
      ok: seen.routed !== null && seen.verified !== null,
      detail:
        seen.routed === null
          ? 'the machine never reached Verify'
          : seen.verified === null
            ? 'Verify never passed'
            : `Verify passed ${fmt(seen.verified - seen.routed)} after it began`,
    },
    {
      name: `RTO within ${fmt(GAMEDAY_RTO_TARGET_MS)}`,
      ok: seen.rto !== null && seen.rto <= GAMEDAY_RTO_TARGET_MS,
      detail:
        seen.rto === null
          ? 'no RTO: the traffic phase never ended'
          : `${fmt(seen.rto)} (${primary} → ${standby})`,
    },
    {
      name: 'the fault was undone',
      ok: f.faultUndoneAt !== null,
      detail:
        f.faultUndoneAt !== null
          ? `${f.fault === 'health' ? 'marker deleted' : 'experiment stopped or ended'} ${fmt(f.faultUndoneAt - f.faultAt)} after the fault`
          : f.fault === 'health'
            ? 'the marker could not be deleted: it expires by itself at its until; delete it by hand sooner (docs/gameday.md)'
            : 'the experiment could not be stopped: stop it in the FIS console',
    },
  ];
}

/** The planned failback after a game day: from the standby (now the holder) back to the configured primary. */
export function failbackInputAfter(
  config: Pick<CutoverConfig, 'application' | 'primary' | 'standby'>,
  report: Pick<GamedayReport, 'execution'>,
  by: string,
): Record<string, unknown> {
  const incident = report.execution?.incidentId;
  return {
    application: config.application,
    from: config.standby.region,
    to: config.primary.region,
    requestedBy: by,
    reason: `planned failback after the game day${incident ? ` (incident ${incident})` : ''}`,
    // A failback inside the cool-down after the game day's own failover: the game day is why.
    overrideCooldown: true,
  };
}

/** A progress line for a state the execution entered, relative to the fault. */
export function progressLine(state: { name: string; at: number }, faultAt: number): string {
  const d = (state.at - faultAt) / 1000;
  return `  ${d < 0 ? '−' : '+'}${Math.abs(d).toFixed(1).padStart(6)} s  ${state.name}`;
}

/** The summary printed at the end, with the checks ✓/✗ like the drill's. */
export function formatGameday(r: GamedayReport, out: string): string {
  const fmt = (v: number | null) => (v === null ? '—' : `${v.toLocaleString('en-US')} ms`);
  const rel = (t: number) => `+${((t - r.fault_at) / 1000).toFixed(2)} s`;
  const lines = [
    '',
    `  game day      ${r.application}, fault ${r.fault} at ${new Date(r.fault_at).toISOString()}`,
    `  verdict       ${r.verdict === 'pass' ? '✓ PASS' : '✗ FAIL'}`,
    `  execution     ${r.execution ? `${r.execution.arn} ${r.execution.status}` : '—'}`,
    `  RTO           ${fmt(r.rto_ms)} (to the machine entering Verify; not a client's first write)`,
    ...r.phases.map(
      (p) => `    ${p.label.padEnd(18)} ${fmt(p.ms).padStart(10)}  ${rel(p.start_at)} → ${rel(p.end_at)}`,
    ),
    `    verify (after)     ${fmt(r.steps.verify_ms).padStart(10)}`,
    `  detectionMs   ${fmt(r.detection_ms)} (the execution's own)`,
    `  lease after   ${r.lease_after ? `${r.lease_after.holder ?? 'revoked'} at epoch ${r.lease_after.epoch}` : '—'}`,
    '  checks',
    ...r.checks.map((c) => `    ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`),
    `  artifacts     ${out}/timeline.jsonl, report.json, report.html`,
    '',
  ];
  return lines.join('\n');
}

/** Where the health contract's gameday check reads the marker (the application's role: GetItem only). */
export interface GamedayMarkerReader {
  readMarker(application: string, region: string, signal?: AbortSignal): Promise<GamedayMarker | null>;
}

/** What the game day's CLI does with markers: read both regions', put its own, remove only its own. */
export interface GamedayMarkerStore extends GamedayMarkerReader {
  putMarker(marker: GamedayMarker): Promise<void>;
  /** Removes the marker only if it is still the one written at `startedAt`; false when it was not there. */
  removeMarker(application: string, region: string, startedAt: number): Promise<boolean>;
}

/** One execution of the failover machine as the game day follows it. */
export interface ExecutionSummary {
  arn: string;
  status: string;
  startedAt: number;
  stoppedAt: number | null;
}

/** Step Functions as the game day reads it: ListExecutions, DescribeExecution, GetExecutionHistory. */
export interface ExecutionReader {
  /** The machine's executions started at or after `since`, oldest first. */
  startedSince(machineArn: string, since: number): Promise<ExecutionSummary[]>;
  describe(executionArn: string): Promise<ExecutionSummary>;
  /** Every event of the execution, oldest first (all pages). */
  history(executionArn: string): Promise<HistoryEvent[]>;
}

/** FIS experiment states (FIS API reference, ExperimentState): pending … completed, stopped, failed. */
export const FIS_ENDED = new Set(['completed', 'stopped', 'failed', 'cancelled']);

/** AWS FIS as the game day uses it: StartExperiment, GetExperiment, StopExperiment. */
export interface FaultExperiments {
  start(
    templateId: string,
    clientToken: string,
    tags: Record<string, string>,
  ): Promise<{ id: string; status: string }>;
  status(id: string): Promise<{ status: string; reason: string }>;
  stop(id: string): Promise<void>;
}
