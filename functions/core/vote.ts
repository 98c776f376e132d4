import { z } from 'zod';
import { type CheckResult, carryChecks, voteChecksSchema } from './health.js';

/**
 * One watcher's opinion of one application region. There is one item per (application, target, voter):
 * each key has a single writer, so the last-writer-wins of an MREC global table loses nothing.
 */
export const voteSchema = z
  .object({
    application: z.string().min(1),
    target: z.string().min(1),
    voter: z.string().min(1),
    healthy: z.boolean(),
    consecutiveFailures: z.number().int().nonnegative(),
    consecutiveSuccesses: z.number().int().nonnegative(),
    /** When the probe that produced this vote finished, epoch milliseconds on the voter's clock. */
    observedAt: z.number().int().nonnegative(),
    /** When the current streak (healthy or unhealthy) began; the debounce window is measured from it. */
    streakSince: z.number().int().nonnegative(),
    /** Monotonic per voter and target; the store refuses a write whose seq is not higher. */
    seq: z.number().int().positive(),
    latencyMs: z.number().nonnegative(),
    detail: z.string().max(500),
    /**
     * The deep checks of the health contract (issue 15), when configured: bounded and named once each, so a
     * forged or oversized list makes the item no vote at all (parseStoredVote).
     */
    checks: voteChecksSchema.optional(),
    /**
     * The plain probe's own verdict, when deep checks were read too (`healthy` folds in the checks the prober
     * weighed `unhealthy`): decide() weighs the checks again by its own configuration, from this.
     */
    plainHealthy: z.boolean().optional(),
    /** TTL attribute, epoch seconds. */
    expiresAt: z.number().int().nonnegative(),
  })
  .strict();

export type Vote = z.output<typeof voteSchema>;

/**
 * Where a vote is stored: the partition key names the voter, so that IAM can pin each watcher's role to its own
 * items. DynamoDB's fine-grained access control conditions on `dynamodb:LeadingKeys`, which is the partition key
 * only ("Using IAM policy conditions for fine-grained access control", Amazon DynamoDB developer guide,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html); with the voter in
 * the sort key no condition could tell one watcher's items from another's. The sort key repeats the voter, so an
 * item's key names its voter twice and a reader checks both. Applications and regions are `[a-z0-9-]`, so `#`
 * cannot occur inside a part. The readers get a target's votes by key, one per configured watcher
 * (DynamoVoteStore.list), never by a query over a partition that anyone could add items to.
 */
export function voteKey(application: string, target: string, voter: string): { pk: string; sk: string } {
  return { pk: `${application}#${target}#${voter}`, sk: voter };
}

/** What one probe saw. */
export interface ProbeResult {
  healthy: boolean;
  latencyMs: number;
  /** "ok 200", "timeout after 3000 ms", "refused", "dns", "status 503", ... */
  detail: string;
  observedAt: number;
  /** The deep checks' results, when the health contract is configured. */
  checks?: CheckResult[];
  /** The plain probe's verdict alone, when deep checks were read too. */
  plainHealthy?: boolean;
}

/**
 * The next vote of a voter, carrying its streak across invocations from the previous vote. Pure: the
 * prober reads the previous vote, calls this, and writes the result conditionally on the new seq.
 *
 * A streak carries over only if nothing interrupted the observations: the previous vote had not expired,
 * and (when `maxGapMs` is given, e.g. the vote staleness) it is at most that old. Otherwise a voter back
 * from an outage would present one unhealthy probe as a streak that spans the debounce window (I3).
 */
export function nextVote(
  previous: Vote | undefined,
  probe: ProbeResult,
  key: { application: string; target: string; voter: string },
  ttlSeconds: number,
  maxGapMs?: number,
): Vote {
  const gapMs = previous === undefined ? 0 : probe.observedAt - previous.observedAt;
  const sameStreak =
    previous !== undefined &&
    previous.healthy === probe.healthy &&
    previous.expiresAt * 1000 >= probe.observedAt &&
    (maxGapMs === undefined || gapMs <= maxGapMs);
  return {
    ...key,
    healthy: probe.healthy,
    consecutiveFailures: probe.healthy ? 0 : sameStreak ? previous.consecutiveFailures + 1 : 1,
    consecutiveSuccesses: probe.healthy ? (sameStreak ? previous.consecutiveSuccesses + 1 : 1) : 0,
    observedAt: probe.observedAt,
    // A clock that stepped back must not leave the streak starting after its own observation.
    streakSince: sameStreak ? Math.min(previous.streakSince, probe.observedAt) : probe.observedAt,
    seq: (previous?.seq ?? 0) + 1,
    latencyMs: Math.max(0, Math.round(probe.latencyMs)),
    detail: probe.detail.slice(0, 500),
    ...(probe.checks
      ? {
          checks: carryChecks(
            previous?.checks,
            probe.checks,
            probe.observedAt,
            // Each check's own state carries under the same conditions as the vote's streak, whatever its health.
            previous !== undefined &&
              previous.expiresAt * 1000 >= probe.observedAt &&
              (maxGapMs === undefined || gapMs <= maxGapMs),
          ),
        }
      : {}),
    ...(probe.plainHealthy === undefined ? {} : { plainHealthy: probe.plainHealthy }),
    expiresAt: Math.ceil(probe.observedAt / 1000) + ttlSeconds,
  };
}

/**
 * The newest vote of each (target, voter): highest seq, then latest observation. Exact ties, which a
 * well-behaved store never holds, go to the more cautious vote (healthy, then the shorter streak), so the
 * result never depends on the input order. Sorted by target, then voter.
 */
export function latestPerVoter(votes: readonly Vote[]): Vote[] {
  const best = new Map<string, Vote>();
  for (const v of votes) {
    const key = `${v.target}\u0000${v.voter}`;
    const cur = best.get(key);
    if (!cur || newer(v, cur) > 0) best.set(key, v);
  }
  return [...best.values()].sort((a, b) => compare(a.target, b.target) || compare(a.voter, b.voter));
}

/** Positive when `a` supersedes `b`; a total order on everything that decide reads. */
function newer(a: Vote, b: Vote): number {
  return (
    a.seq - b.seq ||
    a.observedAt - b.observedAt ||
    Number(a.healthy) - Number(b.healthy) ||
    a.streakSince - b.streakSince ||
    compare(a.detail, b.detail)
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
