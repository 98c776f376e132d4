import type { RebuildMark } from './eligibility.js';
import type { Incident } from './incident.js';
import { howFarItGot, type Progress } from './progress.js';

/**
 * What `cutover status` says about the last failover or failback that did not complete, and the one command an
 * operator should type next. Pure: it reads what the steps wrote (the incident's close reason, its audit trail)
 * and a fresh read of the lease, and returns a stable code with a sentence, like every other decision here.
 */

/** An audit entry as the control table holds it (ports.ts AuditEntry; repeated to keep this file free of ports). */
interface Entry {
  at: number;
  step: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface Stopped {
  incident: Incident;
  /** The step it stopped at: the step that failed, or the one whose decision aborted it. */
  step: string;
  /** The error name (failed) or the abort code (aborted). */
  error: string;
  cause: string;
  progress: Progress;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const bool = (v: unknown): boolean => v === true;

/**
 * Where a failed or aborted incident stopped. The report-failure, abort and abandon entries carry the step,
 * the error and the progress (functions/steps/core/finish.ts, functions/commons/in-flight.ts); without them
 * (an older item, or a trail whose last write was lost) the close reason, `step: error: cause` for a failure
 * and `code: reason` for an abort, and the steps the trail shows done stand in. The lease corrects the
 * progress as it does for the page (core/progress.ts): a revoke or a grant happened if the epoch moved.
 */
export function whereItStopped(
  incident: Incident,
  trail: readonly Entry[],
  lease: { epoch: number; holder: string | null } | null,
): Stopped {
  const last = (step: string) => [...trail].reverse().find((e) => e.step === step)?.detail;
  const report = last('report-failure') ?? last('abandon');
  const abort = last('abort');
  const done = (step: string) => trail.some((e) => e.step === step && e.outcome !== 'error');
  const reason = incident.closeReason ?? '';
  let step: string;
  let error: string;
  let cause: string;
  if (incident.status === 'aborted') {
    const [code, ...rest] = reason.split(': ');
    step = str(abort?.step) ?? lastStepBefore(trail, 'abort') ?? 'unknown';
    error = str(abort?.code) ?? code ?? 'Unknown';
    cause = str(abort?.reason) ?? (rest.join(': ') || reason);
  } else {
    const [s, e, ...rest] = reason.split(': ');
    step = str(report?.step) ?? str(report?.progressStep) ?? s ?? 'unknown';
    error = str(report?.error) ?? (report && 'idleMs' in report ? 'FailbackAbandoned' : (e ?? 'Unknown'));
    cause = str(report?.cause) ?? str(report?.reason) ?? (rest.join(': ') || reason);
  }
  const progress = howFarItGot({
    epoch: incident.epoch,
    to: incident.to,
    lease,
    reached: {
      fence: bool(report?.fenced) || bool(abort?.fenced) || done('fence'),
      promoteStarted: done('promote'),
      promoteDone: bool(report?.promoted) || done('promote-status'),
      leaseGranted: bool(report?.leaseGranted) || done('grant-lease'),
      trafficStarted: bool(report?.trafficMoved) || done('route-traffic'),
    },
    // Not read here: a promotion whose end nobody saw counts as done, erring to the data-loss side.
    targetWritable: null,
  });
  return { incident, step, error, cause, progress };
}

function lastStepBefore(trail: readonly Entry[], step: string): string | null {
  const i = trail.findLastIndex((e) => e.step === step);
  return i > 0 ? trail[i - 1]!.step : null;
}

export type NextStepCode =
  | 'FOLLOW_INCIDENT'
  | 'NO_LEASE'
  | 'FAIL_OVER_TO_FINISH'
  | 'REBUILD_TARGET'
  | 'RESUME'
  | 'SELF_FENCED'
  | 'READ_THE_TRAIL'
  | 'NOTHING_TO_DO';

export interface NextStep {
  code: NextStepCode;
  reason: string;
  /** The command to type, with the flags that name this configuration and table; null when none exists. */
  command: string | null;
}

export interface ScreenFacts {
  application: string;
  primary: string;
  standby: string;
  /** How the table was named on this command line (`--config F [--endpoint U]`), appended to every command. */
  flags: string;
  engine: 'rds' | 'aurora' | 'dynamodb' | null;
  /** Each region's database id (engine rds), for the rebuild command. */
  databaseIds: Record<string, string | undefined>;
  lease: { holder: string | null; epoch: number; valid: boolean; selfFenced: boolean } | null;
  pause: { pausedBy: string; reason: string } | null;
  open: Incident | null;
  /** The last failed or aborted incident, when it is newer than the last completed one. */
  stopped: Stopped | null;
  rebuilds: readonly RebuildMark[];
}

const quote = (s: string) => `"${s.replace(/["\\$`]/g, '\\$&')}"`;

/** The one thing to do next, most urgent first: a revoked lease (nobody writes) before anything else. */
export function nextStep(f: ScreenFacts): NextStep {
  const cli = (args: string) => `cutover ${args} ${f.flags}`;
  const needsRebuild = (region: string) => f.rebuilds.some((m) => m.region === region);
  if (f.open) {
    return {
      code: 'FOLLOW_INCIDENT',
      reason: `incident ${f.open.id} (${f.open.kind} ${f.open.from} → ${f.open.to}) is ${f.open.status}${f.open.progressStep ? ` at ${f.open.progressStep}` : ''}: let it finish and follow its trail`,
      command: cli(`audit ${f.open.id}`),
    };
  }
  if (!f.lease) {
    return {
      code: 'NO_LEASE',
      reason: `no lease exists: start the LeaseKeeper (or the scheduled heartbeat) in the configured primary ${f.primary}, which takes the lease at epoch 1 on its first healthy tick (locally: \`cutover local up --bootstrap\`)`,
      command: null,
    };
  }
  if (f.lease.holder === null) {
    // Revoked and nothing in flight: a failover fenced and stopped, and nobody writes until a grant.
    const s = f.stopped;
    const towards = s?.incident.to ?? f.standby;
    const back = s?.incident.from ?? f.primary;
    const to = needsRebuild(towards) && !needsRebuild(back) ? back : towards;
    // A promotion done by the stopped incident is not this new one's: the grant path needs the flag (runbook).
    const dataLoss = needsRebuild(to) || (s?.progress.promoted === true && to === s.incident.to);
    const why = s
      ? `incident ${s.incident.id} ${s.incident.status} at ${s.step} after the fence (${s.error}: ${s.cause})`
      : `the lease was revoked at epoch ${f.lease.epoch} and no incident is open`;
    return {
      code: 'FAIL_OVER_TO_FINISH',
      reason: `NOBODY WRITES: ${why}; fix the cause, then fail over to ${to}${dataLoss ? ` (--accept-data-loss: ${needsRebuild(to) ? `${to} needs a rebuild` : `${to} was promoted by ${s?.incident.id}, not by the new incident`}; see docs/runbook.md)` : ''}`,
      command: cli(
        `failover --to ${to} --reason ${quote(s ? `finish ${s.incident.id} after ${s.step} failed` : `grant the revoked lease at epoch ${f.lease.epoch}`)}${dataLoss ? ' --accept-data-loss' : ''}`,
      ),
    };
  }
  const s = f.stopped;
  if (s && needsRebuild(s.incident.to) && !s.progress.fenced) {
    return rebuild(f, s.incident.to, `incident ${s.incident.id} was refused at ${s.step}: ${s.cause}`);
  }
  if (f.pause) {
    return {
      code: 'RESUME',
      reason: `automatic failover is paused by ${f.pause.pausedBy} (${f.pause.reason}): resume once that work is done`,
      command: cli('resume'),
    };
  }
  if (f.lease.selfFenced) {
    return {
      code: 'SELF_FENCED',
      reason: `${f.lease.holder} holds the lease but stopped renewing it, so it refuses writes (docs/lease-keeper.md); if it cannot renew and ${f.lease.holder === f.primary ? f.standby : f.primary} is healthy, fail over (check with --dry-run first)`,
      command: cli(
        `failover --to ${f.lease.holder === f.primary ? f.standby : f.primary} --reason ${quote(`${f.lease.holder} self-fenced`)} --dry-run`,
      ),
    };
  }
  if (s) {
    return {
      code: 'READ_THE_TRAIL',
      reason: `incident ${s.incident.id} ${s.incident.status} at ${s.step} before the fence: ${f.lease.holder} still holds the lease at epoch ${f.lease.epoch}; read the cause in its trail (the aggregator may retry after reopenAfterMs; \`cutover pause\` holds it)`,
      command: cli(`audit ${s.incident.id}`),
    };
  }
  return {
    code: 'NOTHING_TO_DO',
    reason: `${f.lease.holder} holds the lease and nothing is in flight`,
    command: null,
  };
}

/**
 * A region that stopped following the primary is rebuilt as a replica of it. For RDS that is a new cross-region
 * read replica whose source is the primary's ARN (CreateDBInstanceReadReplica); the old instance must be renamed
 * or deleted first, since the identifier is taken. Aurora and DynamoDB have no single command for it.
 */
function rebuild(f: ScreenFacts, region: string, why: string): NextStep {
  const source = region === f.primary ? f.standby : f.primary;
  const id = f.databaseIds[region];
  const sourceId = f.databaseIds[source];
  const command =
    f.engine === 'rds' && id && sourceId
      ? `aws rds create-db-instance-read-replica --region ${region} --db-instance-identifier ${id} --source-db-instance-identifier arn:aws:rds:${source}:$(aws sts get-caller-identity --query Account --output text):db:${sourceId}`
      : null;
  return {
    code: 'REBUILD_TARGET',
    reason: `${why}; ${region} must be rebuilt as a replica of ${source} before it may be promoted${command ? ` (rename or delete the old ${id} first)` : ' (docs/runbook.md, "Rebuild a region")'}`,
    command,
  };
}
