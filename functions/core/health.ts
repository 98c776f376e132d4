import { z } from 'zod';

/**
 * The health contract (issue 15): the application serves `GET /cutover/health`, which runs its configured deep
 * checks (a test-row write, the standby's replication lag, queue backlog, a dependency) each under its own timeout
 * and answers one JSON document with a result per check. The watchers record each result in their vote, and
 * `decide()` weighs them by the configured weight. Everything here is pure.
 */

export const CHECK_KINDS = ['write', 'replication-lag', 'queue-backlog', 'dependency'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * What a failed check does. `unhealthy`: the region is unhealthy (its votes are unhealthy votes). `ineligible`:
 * the region may not be a failover target. `ask`: a person decides (an approval, never automatic). `warn`: recorded
 * in the vote and the evidence only.
 */
export const CHECK_WEIGHTS = ['unhealthy', 'ineligible', 'ask', 'warn'] as const;
export type CheckWeight = (typeof CHECK_WEIGHTS)[number];

/** A vote carries at most this many check results: a bounded item, and a bounded decision. */
export const MAX_CHECKS = 8;
export const CHECK_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const CHECK_DETAIL_MAX = 200;
export const DEEP_HEALTH_PATH = '/cutover/health';
/** What the handler needs beyond the slowest check's timeout to answer: the prober's timeout must cover both. */
export const HEALTH_ANSWER_MARGIN_MS = 100;

/** One check's result as the handler answers it. */
export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

/** One check's result as a vote records it: `since`, when its current state (ok or failed) began. */
export interface VoteCheck extends CheckResult {
  since: number;
}

export const checkResultSchema = z
  .object({
    name: z.string().regex(CHECK_NAME),
    ok: z.boolean(),
    ms: z.number().int().nonnegative(),
    detail: z.string().max(CHECK_DETAIL_MAX),
  })
  .strict();

export const voteCheckSchema = checkResultSchema.extend({ since: z.number().int().nonnegative() }).strict();

/** The checks of one vote: bounded, each name once (a forged list with repeats or extras is not a vote). */
export const voteChecksSchema = z
  .array(voteCheckSchema)
  .max(MAX_CHECKS)
  .refine((checks) => new Set(checks.map((c) => c.name)).size === checks.length, 'names a check twice');

/** The document the handler answers; what the prober reads back (extra fields are ignored, checks bounded). */
export const healthDocumentSchema = z.object({
  status: z.enum(['ok', 'degraded', 'unhealthy']),
  checks: z.array(checkResultSchema).max(MAX_CHECKS),
});
export type HealthDocument = z.output<typeof healthDocumentSchema>;

/** A configured check, as the handler and the deciders need it (defaults resolved). */
export interface CheckSpec {
  name: string;
  kind: CheckKind;
  weight: CheckWeight;
  timeoutMs: number;
}

export interface HealthSettings {
  path: string;
  checks: readonly CheckSpec[];
}

/** The configured weight of a check; a check the configuration does not know weighs nothing (`warn`). */
export function weightOf(settings: HealthSettings | undefined, name: string): CheckWeight {
  return settings?.checks.find((c) => c.name === name)?.weight ?? 'warn';
}

/**
 * The handler's answer: 503 when a check weighted `unhealthy` failed, 200 otherwise ("degraded" when any other
 * failed). The status code is for humans and load balancers; the watchers read the per-check results.
 */
export function evaluateHealth(
  results: readonly CheckResult[],
  specs: readonly CheckSpec[],
): { statusCode: 200 | 503; body: HealthDocument } {
  const failed = results.filter((r) => !r.ok);
  const unhealthy = failed.some((r) => specs.find((s) => s.name === r.name)?.weight === 'unhealthy');
  const status = unhealthy ? 'unhealthy' : failed.length ? 'degraded' : 'ok';
  return {
    statusCode: unhealthy ? 503 : 200,
    body: { status, checks: results.map((r) => ({ ...r, detail: r.detail.slice(0, CHECK_DETAIL_MAX) })) },
  };
}

/**
 * What a watcher records from one deep-health answer: every configured check, in configuration order; a check
 * the answer left out (or an answer that never came) is a failed check, never a passing one.
 */
export function recordedChecks(
  settings: HealthSettings,
  answer: { ok: true; document: HealthDocument } | { ok: false; detail: string },
  latencyMs: number,
): CheckResult[] {
  return settings.checks.map((spec) => {
    if (!answer.ok) {
      return { name: spec.name, ok: false, ms: Math.round(latencyMs), detail: clip(answer.detail) };
    }
    const r = answer.document.checks.find((c) => c.name === spec.name);
    return r ?? { name: spec.name, ok: false, ms: 0, detail: 'not reported by the health endpoint' };
  });
}

/**
 * The vote's checks, each carrying the instant its current state began: from the previous vote when that check
 * was in the same state and the streak was not interrupted (`carry`), else this observation.
 */
export function carryChecks(
  previous: readonly VoteCheck[] | undefined,
  results: readonly CheckResult[],
  observedAt: number,
  carry: boolean,
): VoteCheck[] {
  return results.slice(0, MAX_CHECKS).map((r) => {
    const before = carry ? previous?.find((p) => p.name === r.name) : undefined;
    const since = before && before.ok === r.ok ? Math.min(before.since, observedAt) : observedAt;
    return { name: r.name, ok: r.ok, ms: Math.max(0, Math.round(r.ms)), detail: clip(r.detail), since };
  });
}

/** The checks of `checks` that failed and weigh `weight` under `settings`. */
export function failedWith<C extends CheckResult>(
  checks: readonly C[] | undefined,
  settings: HealthSettings | undefined,
  weight: CheckWeight,
): C[] {
  return (checks ?? []).filter((c) => !c.ok && weightOf(settings, c.name) === weight);
}

/** The plain probe together with the `unhealthy` checks: what a watcher's vote says of the region. */
export function voteHealthy(
  plainHealthy: boolean,
  checks: readonly CheckResult[],
  settings: HealthSettings | undefined,
): boolean {
  return plainHealthy && failedWith(checks, settings, 'unhealthy').length === 0;
}

/** The vote's detail: the plain probe's, then every failed check with its weight. */
export function voteDetail(
  plainDetail: string,
  checks: readonly CheckResult[],
  settings: HealthSettings | undefined,
): string {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return plainDetail;
  const parts = failed.map((c) => `${c.name} failed (${weightOf(settings, c.name)}): ${c.detail}`);
  return `${plainDetail}; ${parts.join('; ')}`.slice(0, 500);
}

function clip(s: string): string {
  return s.slice(0, CHECK_DETAIL_MAX);
}

/** A check's verdict from a reading against its threshold: the detail says the reading and the bound. */
export function thresholdResult(
  what: string,
  value: number | null,
  max: number,
  unit: string,
): { ok: boolean; detail: string } {
  if (value === null) return { ok: false, detail: `no ${what} reading` };
  const ok = value <= max;
  return { ok, detail: `${what} ${value} ${unit} ${ok ? '≤' : '>'} ${max} ${unit}` };
}

/**
 * Where a queue-backlog check reads the age of the oldest message, in seconds; null when the queue holds no
 * message to age (SQS publishes ApproximateAgeOfOldestMessage only while one is there).
 */
export interface QueueBacklogReader {
  oldestMessageAgeSeconds(queue: string, signal: AbortSignal): Promise<number | null>;
}
