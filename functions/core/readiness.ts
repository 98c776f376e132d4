import { z } from 'zod';
import type { CutoverConfig } from './config.js';
import type { LagReading } from './failover-ports.js';
import type { HolderReading } from './holder.js';
import type { Lease } from './lease.js';
import { withinBudget } from './rpo.js';

/**
 * Readiness: would a failover work now? Each check turns readings (taken by adapters, changing nothing) into one
 * result with a stable code and a sentence; `cutover readiness` prints one line each and the scheduled evaluation
 * counts the failures into a metric that alarms. Pure.
 */

export type ReadinessCode =
  | 'PERMISSIONS_OK'
  | 'PERMISSION_DENIED'
  | 'ROLE_UNREADABLE'
  | 'STANDBY_IS_REPLICA'
  | 'STANDBY_NOT_REPLICA'
  | 'DATABASE_UNREADABLE'
  | 'LAG_WITHIN_BUDGET'
  | 'LAG_OVER_BUDGET'
  | 'LAG_UNKNOWN'
  | 'HOLDER_CHECK_OK'
  | 'HOLDER_CHECK_UNEXPECTED'
  | 'LEASE_RENEWED'
  | 'LEASE_NOT_RENEWED'
  | 'NO_LEASE'
  | 'LEASE_UNREADABLE'
  | 'SLACK_OK'
  | 'SLACK_AUTH_FAILED'
  | 'SLACK_CHANNEL_FAILED'
  | 'MACHINE_MATCHES'
  | 'MACHINE_DRIFT'
  | 'MACHINE_MISSING'
  | 'MACHINE_UNREADABLE';

export interface ReadinessResult {
  /** What was checked, e.g. `permissions:promote`, `holder-check:us-west-2`, `state-machine:failover`. */
  check: string;
  pass: boolean;
  code: ReadinessCode;
  reason: string;
}

/** A reading that could not be taken: the AWS or HTTP error, as a sentence. */
export interface Unreadable {
  error: string;
}
const unreadable = (x: object): x is Unreadable => 'error' in x;

// ---- permissions

/** One statement a step role needs, as IAM's policy simulator takes it: actions, resources and condition values. */
/** Built by infra/readiness-plan.ts from infra/iam.ts, the statements the control stack grants. */
export interface NeededStatement {
  actions: string[];
  resources: string[];
  /** Condition key → the values the step's requests carry (e.g. the record name for Route 53's condition keys). */
  context: Record<string, string[]>;
}

export interface RolePlan {
  /** The step's role in the step registry; its function is cutover-<application>-<role>. */
  role: string;
  functionName: string;
  statements: NeededStatement[];
}

export type SimulatedDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface PermissionReading {
  /** The step's role name in the CDK app (step-registry's `role`). */
  role: string;
  /** Every (action, resource) the step needs, with IAM's simulated decision for the step's role. */
  decisions: Array<{ action: string; resource: string; decision: SimulatedDecision }>;
}

export function permissionCheck(r: PermissionReading | (Unreadable & { role: string })): ReadinessResult {
  const check = `permissions:${r.role}`;
  if (unreadable(r)) return { check, pass: false, code: 'ROLE_UNREADABLE', reason: r.error };
  const denied = r.decisions.filter((d) => d.decision !== 'allowed');
  if (denied.length === 0) {
    const actions = [...new Set(r.decisions.map((d) => d.action))];
    return {
      check,
      pass: true,
      code: 'PERMISSIONS_OK',
      reason: `IAM allows all ${r.decisions.length} action-resource pairs the step needs (${actions.join(', ')})`,
    };
  }
  return {
    check,
    pass: false,
    code: 'PERMISSION_DENIED',
    reason: `IAM denies ${denied.map((d) => `${d.action} on ${d.resource} (${d.decision})`).join('; ')}`,
  };
}

// ---- the standby database

/** Where the standby's database stands (the RDS adapter's Standing codes). */
export interface StandingReading {
  code: 'writable' | 'promoting' | 'promotable' | 'blocked';
  reason: string;
}

export interface DatabaseReading {
  region: string;
  standing: StandingReading | Unreadable;
  lag: LagReading | Unreadable;
}

/** The standby must be a replica a promotion may start on, and behind its source by no more than the RPO budget. */
export function databaseChecks(r: DatabaseReading, budgetMs: number): ReadinessResult[] {
  const replica: ReadinessResult = unreadable(r.standing)
    ? { check: 'database:replica', pass: false, code: 'DATABASE_UNREADABLE', reason: r.standing.error }
    : r.standing.code === 'promotable'
      ? {
          check: 'database:replica',
          pass: true,
          code: 'STANDBY_IS_REPLICA',
          reason: `${r.region}: ${r.standing.reason}`,
        }
      : {
          check: 'database:replica',
          pass: false,
          code: 'STANDBY_NOT_REPLICA',
          reason: `${r.region}: ${r.standing.reason} (${r.standing.code}): a failover could not promote it`,
        };
  let lag: ReadinessResult;
  if (unreadable(r.lag)) {
    lag = { check: 'database:lag', pass: false, code: 'LAG_UNKNOWN', reason: r.lag.error };
  } else if (r.lag.lagMs === null) {
    lag = {
      check: 'database:lag',
      pass: false,
      code: 'LAG_UNKNOWN',
      reason: `no replication lag reading for ${r.region}: the RPO guard would treat it as over budget`,
    };
  } else if (withinBudget(r.lag.lagMs, budgetMs)) {
    lag = {
      check: 'database:lag',
      pass: true,
      code: 'LAG_WITHIN_BUDGET',
      reason: `replication lag ${r.lag.lagMs} ms is within the RPO budget of ${budgetMs} ms`,
    };
  } else {
    lag = {
      check: 'database:lag',
      pass: false,
      code: 'LAG_OVER_BUDGET',
      reason: `replication lag ${r.lag.lagMs} ms is over the RPO budget of ${budgetMs} ms`,
    };
  }
  return [replica, lag];
}

// ---- the lease and the holder checks

export interface LeaseReadings {
  /** One or two consistent reads of the lease item, each with the time it was taken; null: no lease item. */
  reads: Array<{ at: number; lease: Lease | null }>;
}

/** The holder of an unexpired lease at `now`, or null. */
export function currentHolder(lease: Lease | null, now: number): string | null {
  return lease?.holder && lease.expiresAt > now ? lease.holder : null;
}

/**
 * The lease is being renewed when its expiry moved forward between two reads, or when it expires in the future,
 * which means it was renewed less than a TTL ago (a renewal sets expiresAt to renewal time + ttl).
 */
export function leaseCheck(r: LeaseReadings | Unreadable, ttlMs: number): ReadinessResult {
  const check = 'lease:renewed';
  if (unreadable(r)) return { check, pass: false, code: 'LEASE_UNREADABLE', reason: r.error };
  const last = r.reads.at(-1);
  if (!last?.lease) {
    return {
      check,
      pass: false,
      code: 'NO_LEASE',
      reason: 'no lease item: nothing holds the primary role, and the fence has nothing to revoke',
    };
  }
  const first = r.reads[0]!;
  const moved = first.lease !== null && last.lease.expiresAt > first.lease.expiresAt;
  const { holder, epoch, expiresAt } = last.lease;
  if (!holder) {
    return {
      check,
      pass: false,
      code: 'LEASE_NOT_RENEWED',
      reason: `the lease is revoked at epoch ${epoch} (a failover in progress, or one that stopped after its fence)`,
    };
  }
  if (moved) {
    return {
      check,
      pass: true,
      code: 'LEASE_RENEWED',
      reason: `${holder} renewed the lease at epoch ${epoch} between the two reads (expiry moved ${last.lease.expiresAt - first.lease!.expiresAt} ms)`,
    };
  }
  const left = expiresAt - last.at;
  if (left > 0 && left <= ttlMs) {
    return {
      check,
      pass: true,
      code: 'LEASE_RENEWED',
      reason: `${holder} holds the lease at epoch ${epoch}, expiring in ${left} ms (within the ${ttlMs} ms TTL: renewed recently)`,
    };
  }
  return {
    check,
    pass: false,
    code: 'LEASE_NOT_RENEWED',
    reason:
      left > ttlMs
        ? `the lease of ${holder} expires in ${left} ms, more than the ${ttlMs} ms TTL: a clock or a writer is wrong`
        : `the lease of ${holder} at epoch ${epoch} expired ${-left} ms before the last read and did not move: nothing renews it`,
  };
}

/** 200 where the lease is held, 503 everywhere else (the traffic layer's health checks read exactly this). */
export function holderChecks(readings: HolderReading[], holder: string | null): ReadinessResult[] {
  return readings.map((r) => {
    const expected = r.region === holder ? 200 : 503;
    const check = `holder-check:${r.region}`;
    const why = r.region === holder ? `${r.region} holds the lease` : `${r.region} does not hold the lease`;
    return r.status === expected
      ? { check, pass: true, code: 'HOLDER_CHECK_OK', reason: `${why}: ${r.detail}` }
      : {
          check,
          pass: false,
          code: 'HOLDER_CHECK_UNEXPECTED',
          reason: `${why}, so ${expected} was expected: ${r.detail}`,
        };
  });
}

// ---- Slack

export interface SlackReading {
  channel: string;
  /** auth.test: the token is valid. */
  auth: { team: string; user: string } | Unreadable;
  /** conversations.info on the configured channel. */
  info: { name: string; isMember: boolean } | Unreadable;
}

export function slackCheck(r: SlackReading): ReadinessResult {
  const check = 'slack';
  if (unreadable(r.auth)) {
    return { check, pass: false, code: 'SLACK_AUTH_FAILED', reason: `auth.test failed: ${r.auth.error}` };
  }
  if (unreadable(r.info)) {
    return {
      check,
      pass: false,
      code: 'SLACK_CHANNEL_FAILED',
      reason: `conversations.info on ${r.channel} failed: ${r.info.error}`,
    };
  }
  if (!r.info.isMember) {
    return {
      check,
      pass: false,
      code: 'SLACK_CHANNEL_FAILED',
      reason: `the bot ${r.auth.user} is not a member of #${r.info.name}: approval requests could not be posted there`,
    };
  }
  return {
    check,
    pass: true,
    code: 'SLACK_OK',
    reason: `token valid for ${r.auth.user} in ${r.auth.team}; member of #${r.info.name}`,
  };
}

// ---- state machines

/** `${Name}` → value, as CloudFormation's DefinitionSubstitutions do to the ASL. */
export function substituteDefinition(asl: string, values: Record<string, string>): string {
  return asl.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

export interface MachineReading {
  kind: 'failover' | 'failback';
  arn: string;
  /** DescribeStateMachine's definition, or why it could not be read (notFound: it is not deployed). */
  deployed: { definition: string } | (Unreadable & { notFound: boolean });
  /** What the CDK app builds from this configuration: the ASL with its substitutions. */
  expected: string;
}

export function machineCheck(r: MachineReading): ReadinessResult {
  const check = `state-machine:${r.kind}`;
  if (unreadable(r.deployed)) {
    return r.deployed.notFound
      ? {
          check,
          pass: false,
          code: 'MACHINE_MISSING',
          reason: `${r.arn} is not deployed: ${r.deployed.error}`,
        }
      : { check, pass: false, code: 'MACHINE_UNREADABLE', reason: r.deployed.error };
  }
  const diff = definitionDifference(r.deployed.definition, r.expected);
  return diff === null
    ? {
        check,
        pass: true,
        code: 'MACHINE_MATCHES',
        reason: `${r.arn} runs the definition this configuration builds`,
      }
    : {
        check,
        pass: false,
        code: 'MACHINE_DRIFT',
        reason: `${r.arn} differs from what this configuration builds: ${diff}; redeploy (cdk deploy) or use the configuration it was deployed with`,
      };
}

/** Where two ASL documents differ (the first state, or top-level field, that does), or null when they are equal. */
export function definitionDifference(deployed: string, expected: string): string | null {
  let a: Record<string, unknown>;
  try {
    a = JSON.parse(deployed) as Record<string, unknown>;
  } catch {
    return 'the deployed definition is not JSON';
  }
  const b = JSON.parse(expected) as Record<string, unknown>;
  const states = (x: Record<string, unknown>) => (x.States ?? {}) as Record<string, unknown>;
  const names = [...new Set([...Object.keys(states(b)), ...Object.keys(states(a))])];
  for (const name of names) {
    const was = states(a)[name];
    const want = states(b)[name];
    if (was === undefined) return `state ${name} is missing`;
    if (want === undefined) return `state ${name} is not in the configuration's machine`;
    if (canonical(was) !== canonical(want)) return `state ${name} differs`;
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key !== 'States' && canonical(a[key]) !== canonical(b[key])) return `${key} differs`;
  }
  return null;
}

/** JSON with object keys sorted, so that key order (which CloudFormation may change) never counts as drift. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

// ---- all of it

export interface ReadinessReadings {
  permissions: Array<PermissionReading | (Unreadable & { role: string })>;
  /** null: no database Cutover promotes (none configured, or DynamoDB global tables). */
  database: DatabaseReading | null;
  lease: LeaseReadings | Unreadable;
  holders: HolderReading[];
  /** null: Slack is not configured. */
  slack: SlackReading | null;
  machines: MachineReading[];
}

export interface Readiness {
  pass: boolean;
  failed: number;
  results: ReadinessResult[];
}

export function evaluateReadiness(
  r: ReadinessReadings,
  config: Pick<CutoverConfig, 'rpoBudgetMs' | 'lease'>,
  now: number,
): Readiness {
  const lastLease = unreadable(r.lease) ? null : (r.lease.reads.at(-1)?.lease ?? null);
  const results = [
    ...r.permissions.map(permissionCheck),
    ...(r.database ? databaseChecks(r.database, config.rpoBudgetMs) : []),
    leaseCheck(r.lease, config.lease.ttlMs),
    ...holderChecks(r.holders, currentHolder(lastLease, now)),
    ...(r.slack ? [slackCheck(r.slack)] : []),
    ...r.machines.map(machineCheck),
  ];
  const failed = results.filter((x) => !x.pass).length;
  return { pass: failed === 0, failed, results };
}

// ---- the scheduled evaluation's input

const readinessInput = z.object({
  plan: z.array(
    z.object({
      role: z.string().min(1),
      functionName: z.string().min(1),
      statements: z.array(
        z.object({
          actions: z.array(z.string().min(1)).min(1),
          resources: z.array(z.string().min(1)).min(1),
          context: z.record(z.string(), z.array(z.string())),
        }),
      ),
    }),
  ),
  substitutions: z.record(z.string(), z.string()),
  machines: z.array(z.object({ kind: z.enum(['failover', 'failback']), arn: z.string().min(1) })),
});

export type ReadinessInput = z.infer<typeof readinessInput>;

export class ReadinessInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadinessInputError';
  }
}

/** The schedule's input (set by the CDK app); anything else is refused with the fields that are wrong. */
export function parseReadinessInput(event: unknown): ReadinessInput {
  const r = readinessInput.safeParse(event);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
  throw new ReadinessInputError(
    `not a readiness input (the schedule's, from the CDK app): ${problems.join('; ')}`,
  );
}
