import { readFileSync } from 'node:fs';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { CutoverConfig } from '#core/config.js';
import { type Clock, systemClock } from '#core/ports.js';
import {
  type FailbackInput,
  failbackConfigIssues,
  failbackInputSchema,
  issuesOf,
} from '#steps/core/state.js';
import { loadConfig } from './config-file.js';
import {
  describeAwsError,
  flags,
  type Io,
  iso,
  machineOption,
  processIo,
  required,
  type StateMachineRef,
  stateMachineProblems,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

export const USAGE = usageOf('failback');

export interface FailbackCommandDeps {
  io?: Io;
  clock?: Clock;
  sfn?: (region: string) => SFNClient;
}

type Issue = { field: string; message: string };

/**
 * Starts a planned failback. Exit codes: 0 started (or, with --dry-run, validated); 1 the configuration, the
 * input or the machine is refused, or Step Functions refused the start; 2 a usage problem. Nothing is sent
 * unless every check passes.
 */
export async function failbackCommand(argv: string[], deps: FailbackCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  return withUsage(io, USAGE, async () => {
    const v = flags(argv, {
      config: { type: 'string' },
      input: { type: 'string' },
      'state-machine-arn': { type: 'string' },
      region: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    });
    const dryRun = v['dry-run'] ?? false;
    const arn = machineOption(v['state-machine-arn'], dryRun, 'failback');
    const values = {
      config: required(v.config, '--config'),
      input: required(v.input, '--input'),
      arn,
      region: v.region,
      dryRun,
    };
    return startFailback(values, io, deps);
  });
}

async function startFailback(
  values: {
    config: string;
    input: string;
    arn: StateMachineRef | null;
    region?: string | undefined;
    dryRun: boolean;
  },
  io: Io,
  deps: FailbackCommandDeps,
): Promise<number> {
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
  if (values.dryRun || !values.arn) {
    io.out(`${JSON.stringify(checked.input, null, 2)}\n`);
    return 0;
  }

  const region = values.region ?? values.arn.region;
  const name = executionName(checked.input, (deps.clock ?? systemClock).now());
  const sfn = (deps.sfn ?? ((r) => new SFNClient({ region: r })))(region);
  try {
    const res = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: values.arn.arn,
        name,
        input: JSON.stringify(checked.input),
      }),
    );
    const i = checked.input;
    io.out(
      `started the failback of ${i.application} from ${i.from} to ${i.to}\n` +
        `  execution ${res.executionArn}\n` +
        `  started   ${res.startDate ? iso(res.startDate.getTime()) : '-'}\n` +
        `  next      the machine checks that ${i.from} holds the lease and the preconditions, then asks for approval\n`,
    );
    return 0;
  } catch (err) {
    io.err(`StartExecution of ${values.arn.arn} failed, nothing started: ${describeAwsError(err)}\n`);
    return 1;
  }
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
