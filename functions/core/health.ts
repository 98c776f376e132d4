import { z } from 'zod';

/**
 * The health contract (issue 15): the application serves `GET /cutover/health`, which runs its configured deep
 * checks (a test-row write, the standby's replication lag, queue backlog, a dependency) each under its own timeout
 * and answers one JSON document with a result per check. The watchers record each result in their vote, and
 * `decide()` weighs them by the configured weight. Everything here is pure.
 */

/** `gameday`: fails while a game-day marker for the region is live (docs/gameday.md); it never fails otherwise. */
export const CHECK_KINDS = ['write', 'replication-lag', 'queue-backlog', 'dependency', 'gameday'] as const;
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
/**
 * What the handler needs beyond the slowest check's timeout to answer once the request has reached it: the
 * prober's answer timeout must cover both. The deep probe starts that timeout when its connection is made (DNS,
 * TCP and TLS have their own `probe.connectTimeoutMs`), so the margin is the handler's own work, not the network's.
 */
export const HEALTH_ANSWER_MARGIN_MS = 100;

/**
 * One check's result as the handler answers it. `unknown`: the watcher could not read this check's result (no
 * document, an unreadable one, a late one, or one that left the check out); it is then also `ok: false`, but it is
 * an abstention for that check, never a failure (`isFailed`).
 */
export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
  unknown?: true;
}

/** A check that reported a failure: ok false, and its result was read (an unknown check is no failure). */
export function isFailed(c: CheckResult): boolean {
  return !c.ok && c.unknown !== true;
}

/** A check whose result the watcher could not read. */
export function isUnknown(c: CheckResult): boolean {
  return c.unknown === true;
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
    unknown: z.literal(true).optional(),
  })
  .strict();

export const voteCheckSchema = checkResultSchema
  .extend({ since: z.number().int().nonnegative() })
  .strict()
  .refine((c) => c.unknown !== true || !c.ok, 'an unknown check is not ok');

/** The checks of one vote: bounded, each name once (a forged list with repeats or extras is not a vote). */
export const voteChecksSchema = z
  .array(voteCheckSchema)
  .max(MAX_CHECKS)
  .refine((checks) => new Set(checks.map((c) => c.name)).size === checks.length, 'names a check twice');

/** The document the handler answers. */
export interface HealthDocument {
  status: 'ok' | 'degraded' | 'unhealthy';
  checks: CheckResult[];
}

/** What the prober reads back: the checks it could read, by name (the top-level status is not read). */
export interface ReadHealthDocument {
  checks: CheckResult[];
}

/**
 * One entry of an answered document, read leniently: only `name` and `ok` must be there and right; unknown fields
 * are ignored, a float or missing `ms` is rounded or 0, a long or missing `detail` is cut or empty. A healthy
 * application must not look failed because its document is a little off the contract.
 */
const answeredCheckSchema = z.object({
  name: z.string().min(1).max(64),
  ok: z.boolean(),
  ms: z.number().catch(0),
  detail: z.string().catch(''),
});

/**
 * The document the prober reads back, leniently: any top-level `status` (or none) is ignored, entries that are
 * not a check (no string name, no boolean ok) are skipped, and a name answered twice counts as failed if either
 * answer failed. Only the configured checks are then read (`recordedChecks`); the rest is ignored.
 */
export const healthDocumentSchema = z
  .object({ checks: z.array(z.unknown()).max(256) })
  .transform((d): ReadHealthDocument => {
    const byName = new Map<string, CheckResult>();
    for (const entry of d.checks) {
      const c = answeredCheckSchema.safeParse(entry);
      if (!c.success) continue;
      const ms = Number.isFinite(c.data.ms) ? Math.max(0, Math.round(c.data.ms)) : 0;
      const read = { name: c.data.name, ok: c.data.ok, ms, detail: clip(c.data.detail) };
      const before = byName.get(read.name);
      if (!before || (before.ok && !read.ok)) byName.set(read.name, read);
    }
    return { checks: [...byName.values()] };
  });

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
 * What a watcher records from one deep-health answer: every configured check, in configuration order. A check the
 * answer reported is recorded as reported (a real `ok: false` is a failure, whatever the status code). A check the
 * answer left out, an answer that was unreadable or late, or no answer at all is recorded as unknown: never a
 * passing check, and never a failed one either (a healthy application with an odd document must not be failed
 * over; a dead region is unhealthy by its plain probe already).
 */
export function recordedChecks(
  settings: HealthSettings,
  answer: { ok: true; document: ReadHealthDocument } | { ok: false; detail: string },
  latencyMs: number,
): CheckResult[] {
  return settings.checks.map((spec) => {
    if (!answer.ok) {
      const detail = clip(answer.detail);
      return { name: spec.name, ok: false, ms: Math.round(latencyMs), detail, unknown: true };
    }
    const r = answer.document.checks.find((c) => c.name === spec.name);
    return r
      ? { name: r.name, ok: r.ok, ms: r.ms, detail: clip(r.detail) }
      : { name: spec.name, ok: false, ms: 0, detail: 'not reported by the health endpoint', unknown: true };
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
    const same = before && before.ok === r.ok && isUnknown(before) === isUnknown(r);
    const since = same ? Math.min(before.since, observedAt) : observedAt;
    const unknown = isUnknown(r) ? { unknown: true as const } : {};
    return {
      name: r.name,
      ok: isUnknown(r) ? false : r.ok,
      ms: Math.max(0, Math.round(r.ms)),
      detail: clip(r.detail),
      ...unknown,
      since,
    };
  });
}

/** The checks of `checks` that failed (an unknown check did not) and weigh `weight` under `settings`. */
export function failedWith<C extends CheckResult>(
  checks: readonly C[] | undefined,
  settings: HealthSettings | undefined,
  weight: CheckWeight,
): C[] {
  return (checks ?? []).filter((c) => isFailed(c) && weightOf(settings, c.name) === weight);
}

/** The configured kind of a check, when the configuration knows it. */
export function kindOf(settings: HealthSettings | undefined, name: string): CheckKind | undefined {
  return settings?.checks.find((c) => c.name === name)?.kind;
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
  const parts = failed.map(
    (c) => `${c.name} ${isUnknown(c) ? 'unknown' : 'failed'} (${weightOf(settings, c.name)}): ${c.detail}`,
  );
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
