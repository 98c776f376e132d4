import { z } from 'zod';
import { ValidationError } from '#core/errors.js';
import { StepInputError } from '#core/failover-errors.js';

/**
 * The execution state as the state machines carry it: the incident fields at the top (the failover input, or
 * the failback input once normalised by its first step), and one key per step holding that step's result.
 * Every Task gets `{ state: $, executionArn: $$.Execution.Id }` and returns its own result only.
 */

const regionName = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/, 'must be an AWS region name');

/** The `Failover Requested` event's detail, which the EventBridge rule passes as the execution input. */
export const failoverInputSchema = z.object({
  incidentId: z.string().regex(/^[a-z0-9][a-z0-9-]*:\d+:\d+$/, 'must be "application:epoch:attempt"'),
  application: z.string().min(1),
  kind: z.literal('failover'),
  from: regionName,
  to: regionName,
  epoch: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  needsApproval: z.boolean(),
  verdictKind: z.string().min(1),
  verdictCode: z.string().min(1),
  reason: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  detectedAt: z.number().int().nonnegative().optional(),
  requestedAt: z.number().int().nonnegative(),
  requestedBy: z.string().min(1),
});
export type FailoverInput = z.output<typeof failoverInputSchema>;

/**
 * What an operator types into the Step Functions console (or `aws stepfunctions start-execution`) to fail
 * back. Sample: events/failback-input.sample.json. Unknown fields are refused, so a typo is not ignored.
 */
export const failbackInputSchema = z
  .object({
    application: z.string().regex(/^[a-z0-9][a-z0-9-]{1,40}$/, 'must be the configured application name'),
    /** The region that holds the lease now (the standby that took over). */
    from: regionName,
    /** The original primary, to be primary again. */
    to: regionName,
    requestedBy: z.string().min(1, 'must name the operator'),
    reason: z.string().min(1, 'must say why'),
    /** How long `to` must have been healthy by a quorum of fresh votes. */
    minHealthyMinutes: z.number().int().nonnegative().max(1440).default(10),
    /** Replication lag of `to` behind `from` allowed before the switchover starts. */
    maxLagMs: z.number().int().nonnegative().default(1000),
    /** Weighted traffic steps, percent to `to`; defaults to config.traffic.failbackSteps. */
    trafficSteps: z.array(z.number().int().min(1).max(100)).min(1).optional(),
    /** Fail back inside the cool-down after the last failover or failback; `reason` is the override's reason. */
    overrideCooldown: z.boolean().optional(),
  })
  .strict()
  .refine((i) => i.from !== i.to, { path: ['to'], message: 'must differ from "from"' })
  .refine((i) => !i.trafficSteps || i.trafficSteps.at(-1) === 100, {
    path: ['trafficSteps'],
    message: 'must end at 100',
  });
export type FailbackInput = z.output<typeof failbackInputSchema>;

/**
 * What the failback input must agree on with the configuration: the application, and both regions among its
 * two application regions. Shared by the machine's first step and `cutover failback`, so both refuse alike.
 */
export function failbackConfigIssues(
  input: Pick<FailbackInput, 'application' | 'from' | 'to'>,
  config: { application: string; primary: { region: string }; standby: { region: string } },
): { field: string; message: string }[] {
  const issues: { field: string; message: string }[] = [];
  if (input.application !== config.application) {
    issues.push({
      field: 'application',
      message: `must be ${config.application}, the configured application`,
    });
  }
  const regions = [config.primary.region, config.standby.region];
  if (!regions.includes(input.from))
    issues.push({ field: 'from', message: `must be one of ${regions.join(', ')}` });
  if (!regions.includes(input.to))
    issues.push({ field: 'to', message: `must be one of ${regions.join(', ')}` });
  return issues;
}

/** The fields every step after the first relies on, for both machines. */
export const incidentStateSchema = z.object({
  incidentId: z.string().min(1),
  application: z.string().min(1),
  kind: z.enum(['failover', 'failback']),
  from: z.string().min(1),
  to: z.string().min(1),
  epoch: z.number().int().nonnegative(),
  requestedAt: z.number().int().nonnegative(),
  detectedAt: z.number().int().nonnegative().optional(),
  reason: z.string().optional(),
});
export type IncidentState = z.output<typeof incidentStateSchema>;

export interface StepRecord {
  name: string;
  startedAt: number;
  endedAt: number;
  outcome: string;
}

export interface Poll {
  attempt: number;
  maxAttempts: number;
  done: boolean;
}

/** The first poll of a step that a status loop follows; done already when there is nothing to wait for. */
export const newPoll = (maxAttempts: number, done = false): Poll => ({ attempt: 0, maxAttempts, done });

/** What a Task receives; see the module comment. */
export interface TaskEvent {
  state: Record<string, unknown>;
  executionArn?: string;
}

/**
 * Wait state durations in the ASL, in seconds. A test checks that the ASL files say the same, since the
 * attempt bounds below are computed from them.
 */
export const POLL_SECONDS = { traffic: 5, promote: 10, rpo: 5, verify: 5, replication: 5 } as const;

export const MAX_ATTEMPTS = {
  /** Route 53 propagates to its authoritative servers "generally within 60 seconds" (ChangeResourceRecordSets). */
  traffic: 36,
  rpo: 6,
  verify: 12,
  replication: 60,
} as const;

export function parseIncidentState(state: unknown): IncidentState {
  const parsed = incidentStateSchema.safeParse(state);
  if (!parsed.success) {
    throw new StepInputError(`execution state is missing incident fields: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

export function parseFailoverInput(state: unknown): FailoverInput {
  const parsed = failoverInputSchema.safeParse(state);
  if (!parsed.success) {
    throw new ValidationError('invalid failover input', issuesOf(parsed.error));
  }
  return parsed.data;
}

export function parseFailbackInput(input: unknown): FailbackInput {
  const parsed = failbackInputSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('invalid failback input', issuesOf(parsed.error));
  return parsed.data;
}

export function issuesOf(error: z.ZodError): { field: string; message: string }[] {
  const field = (path: PropertyKey[]) => path.map(String).join('.') || '(input)';
  // An unknown key (a typo such as "minHealthyMinute") is named as its own field, so the operator sees which.
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: field([...i.path, k]), message: 'is not a known field' }))
      : [{ field: field(i.path), message: i.message }],
  );
}

function describeIssues(error: z.ZodError): string {
  return issuesOf(error)
    .map((i) => `${i.field} ${i.message}`)
    .join('; ');
}

/** A previous step's result, or undefined when that step has not run in this execution. */
export function stepResult<T = Record<string, unknown>>(
  state: Record<string, unknown>,
  key: string,
): T | undefined {
  const v = state[key];
  return v && typeof v === 'object' ? (v as T) : undefined;
}

export function requireStep<T = Record<string, unknown>>(state: Record<string, unknown>, key: string): T {
  const v = stepResult<T>(state, key);
  if (!v) throw new StepInputError(`execution state has no result of step "${key}"`);
  return v;
}

/** The Lambda error's Cause is a JSON string ({errorType, errorMessage, trace}); locally it is the message. */
export function causeMessage(cause: unknown): string {
  if (typeof cause !== 'string') return JSON.stringify(cause ?? null);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  return cause;
}
