import { readFileSync } from 'node:fs';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CutoverConfig } from '#core/config.js';
import { failbackCooldown } from '#core/failback.js';
import { type Incident, inFlightEpochs } from '#core/incident.js';
import { type Clock, systemClock } from '#core/ports.js';
import {
  type FailbackInput,
  failbackConfigIssues,
  failbackInputSchema,
  issuesOf,
} from '#steps/core/state.js';
import { loadConfig } from './config-file.js';
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
  type StateMachineRef,
  sfnClient,
  stateMachineProblems,
  tableError,
  tableFlags,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

export const USAGE = usageOf('failback');

export interface FailbackCommandDeps {
  io?: Io;
  clock?: Clock;
  sfn?: (region: string) => SFNClient | Promise<SFNClient>;
  /** The caller's account, for the machine's ARN when --state-machine-arn is not given (STS by default). */
  identity?: IdentityReader;
  client?: (table: ControlTable) => DynamoDBDocumentClient;
}

type Issue = { field: string; message: string };

/**
 * Starts a planned failback. Exit codes: 0 started (or, with --dry-run, validated); 1 the configuration, the
 * input, the lease or the machine is refused, or Step Functions refused the start; 2 a usage problem. Nothing
 * is sent unless every check passes.
 */
export async function failbackCommand(argv: string[], deps: FailbackCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  return withUsage(io, USAGE, async () => {
    const v = flags(argv, {
      config: { type: 'string' },
      input: { type: 'string' },
      'state-machine-arn': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      ...tableFlags,
    });
    const values = {
      config: required(v.config, '--config'),
      input: required(v.input, '--input'),
      arn: machineOption(v['state-machine-arn'], 'failback'),
      table: v.table,
      region: v.region,
      endpoint: v.endpoint,
      dryRun: v['dry-run'] ?? false,
    };
    return startFailback(values, io, deps);
  });
}

async function startFailback(
  values: {
    config: string;
    input: string;
    arn: StateMachineRef | null;
    table?: string | undefined;
    region?: string | undefined;
    endpoint?: string | undefined;
    dryRun: boolean;
  },
  io: Io,
  deps: FailbackCommandDeps,
): Promise<number> {
  const clock = deps.clock ?? systemClock;
  const config = loadConfig(values.config, io);
  if (!config) return 1;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(values.input, 'utf8'));
  } catch (err) {
    io.err(`cannot read ${values.input}: ${(err as Error).message}\n`);
    return 1;
  }
  const checked = checkFailbackRequest(raw, config, values.arn);
  if (!checked.ok) {
    io.err(`INVALID ${values.input}: ${checked.issues.length} problem(s); nothing was sent\n`);
    for (const issue of checked.issues) io.err(`  ${issue.field}: ${issue.message}\n`);
    return 1;
  }
  if (values.dryRun) return dryRun(checked.input, config, values, io, deps, clock);

  let machine = values.arn;
  if (!machine) {
    try {
      machine = await derivedMachine(config, 'failback', deps.identity);
    } catch (err) {
      if (!(err instanceof MachineArnError)) throw err;
      io.err(`${err.message}; nothing was sent\n`);
      return 1;
    }
  }
  const name = executionName(checked.input, clock.now());
  const sfn = await (deps.sfn ?? sfnClient)(machine.region);
  try {
    const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    const res = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine.arn,
        name,
        input: JSON.stringify(checked.input),
      }),
    );
    const i = checked.input;
    io.out(
      `started the failback of ${i.application} from ${i.from} to ${i.to}\n` +
        `  execution ${res.executionArn}${values.arn ? '' : " (machine derived from the configuration and the caller's account)"}\n` +
        `  started   ${res.startDate ? iso(res.startDate.getTime()) : '-'}\n` +
        `  next      the machine checks that ${i.from} holds the lease and the preconditions, then asks for approval; follow it with \`cutover status\`\n`,
    );
    return 0;
  } catch (err) {
    io.err(`StartExecution of ${machine.arn} failed, nothing started: ${describeAwsError(err)}\n`);
    return 1;
  }
}

/**
 * A dry run reads what the failback machine's first state reads (functions/steps/core/failback.ts): the lease,
 * which `from` must hold; the last move, whose cool-down needs overrideCooldown; an incident in flight, which a
 * failback may not run beside. It refuses as that state would, and sends nothing. The preconditions that need
 * the votes and the database (healthy for N minutes, replicating, lag) are the machine's to check.
 */
async function dryRun(
  input: FailbackInput,
  config: CutoverConfig,
  values: Parameters<typeof openControlTable>[1],
  io: Io,
  deps: FailbackCommandDeps,
  clock: Clock,
): Promise<number> {
  const { table, control, leases } = openControlTable(config, values, clock, deps.client);
  const now = clock.now();
  let lease: Awaited<ReturnType<typeof leases.read>>;
  let last: Incident | null;
  let open: Incident | null;
  try {
    lease = await leases.read(input.application);
    [last, open] = await Promise.all([
      control.lastCompletedFailover(input.application),
      lease
        ? control.openIncident(input.application, inFlightEpochs(lease.epoch).fromEpoch, lease.epoch)
        : Promise.resolve(null),
    ]);
  } catch (err) {
    io.err(tableError(table, err));
    return 1;
  }
  const held = lease
    ? `${lease.holder ?? 'nobody (revoked)'} holds the lease at epoch ${lease.epoch}${lease.holder ? `, ${now < lease.expiresAt ? `valid until ${iso(lease.expiresAt)}` : `EXPIRED at ${iso(lease.expiresAt)}`}` : ''}`
    : 'no lease exists';
  const issues: Issue[] = [];
  if (!lease || lease.holder !== input.from) {
    issues.push({
      field: 'from',
      message: `must be the region that holds the lease; ${lease?.holder ?? 'nobody'} holds it at epoch ${lease?.epoch ?? '-'}${lease && lease.holder === null ? ': run a manual failover first (`cutover status` gives the command)' : ''}`,
    });
  }
  const cooldown = failbackCooldown({
    lastMoveAt: last?.closedAt ?? null,
    cooldownMs: config.cooldownMs,
    now,
    override: input.overrideCooldown ?? false,
  });
  if (!cooldown.go) issues.push({ field: 'overrideCooldown', message: cooldown.reason });
  if (open) {
    issues.push({
      field: 'from',
      message: `incident ${open.id} (${open.kind} ${open.from} → ${open.to}) is ${open.status}: a failback does not run beside it; wait for it (\`cutover status\`)`,
    });
  }
  if (issues.length) {
    io.err(
      `REFUSED dry run: ${held} (${table.name}, ${table.region}); a real run's first state would refuse it; nothing was sent\n`,
    );
    for (const issue of issues) io.err(`  ${issue.field}: ${issue.message}\n`);
    return 1;
  }
  io.out(
    `dry run: ${held} (${table.name}, ${table.region}); the input is valid and the lease is where it says; nothing was sent\n` +
      `  the machine still checks that ${input.to} has been healthy for ${input.minHealthyMinutes} min and replicates with lag under ${input.maxLagMs} ms, then asks for approval\n` +
      `${JSON.stringify(input, null, 2)}\n`,
  );
  return 0;
}

export type FailbackRequest = { ok: true; input: FailbackInput } | { ok: false; issues: Issue[] };

/**
 * The input against the schema, then against the configuration, and the machine against what the CDK app
 * deploys for this application. Every problem is named with its field; a field that fails the schema is not
 * judged again against the configuration.
 */
export function checkFailbackRequest(
  raw: unknown,
  config: CutoverConfig,
  machine: { region: string; name: string } | null,
): FailbackRequest {
  const parsed = failbackInputSchema.safeParse(raw);
  const issues: Issue[] = parsed.success ? [] : issuesOf(parsed.error);
  const fields = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const candidate = {
    application: String(fields.application ?? ''),
    from: String(fields.from ?? ''),
    to: String(fields.to ?? ''),
  };
  const failed = new Set(issues.map((i) => i.field));
  issues.push(...failbackConfigIssues(candidate, config).filter((i) => !failed.has(i.field)));
  if (machine) {
    for (const message of stateMachineProblems(machine, config, 'failback')) {
      issues.push({ field: '--state-machine-arn', message });
    }
  }
  if (issues.length || !parsed.success) return { ok: false, issues };
  return { ok: true, input: parsed.data };
}

/**
 * failback-<application>-<to>-<UTC second>: Step Functions keeps a STANDARD execution's name unique for 90 days,
 * and a start repeated with the same name and input returns the running execution instead of a second one.
 */
export function executionName(input: Pick<FailbackInput, 'application' | 'to'>, now: number): string {
  const stamp = iso(now)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const tail = `-${input.to}-${stamp}`;
  // Execution names take at most 80 characters; the application part gives way.
  return `${`failback-${input.application}`.slice(0, 80 - tail.length)}${tail}`;
}
