import type { CutoverConfig } from './config.js';
import { eligibility, type RebuildMark } from './eligibility.js';
import { type CheckWeight, failedWith, isFailed, kindOf, weightOf } from './health.js';
import { latestPerVoter, type Vote } from './vote.js';

/** What the aggregator knows besides the votes. Everything is read before deciding; nothing is fetched here. */
export interface DecisionContext {
  /** The region that holds (or last held) the lease: the one whose failure matters. */
  primary: string;
  /** The region a failover would promote. */
  standby: string;
  paused?: boolean;
  /**
   * End of the last completed failover or failback (automatic or manual), epoch ms; inside the cool-down a new
   * one is never automatic.
   */
  lastFailoverAt?: number;
  /** The standby's rebuild mark: a failover left it, and nothing has shown it replicating since. */
  standbyRebuild?: RebuildMark | null;
  /** Replication lag of the standby database, when known. */
  replicationLagMs?: number;
}

export type DecisionConfig = Pick<
  CutoverConfig,
  | 'watchers'
  | 'quorum'
  | 'debounceMs'
  | 'voteStalenessMs'
  | 'cooldownMs'
  | 'rpoBudgetMs'
  | 'approval'
  | 'lease'
  | 'health'
>;

export interface VoterEvidence {
  voter: string;
  healthy: boolean;
  since: number;
  observedAt: number;
  detail: string;
}

export interface Evidence {
  target: string;
  standby: string;
  quorum: number;
  /** Fresh votes about the primary, by voter. */
  fresh: VoterEvidence[];
  /** Watchers that abstain because their vote is stale, from the future, or missing. */
  abstaining: string[];
  /** Fresh voters whose unhealthy streak spans the whole debounce window. */
  sustainedUnhealthy: string[];
  standbyHealthyVoters: string[];
  replicationLagMs?: number;
  /**
   * Deep checks that fresh votes about the primary or the standby report failed, with their configured weight;
   * absent when none failed.
   */
  failedChecks?: FailedCheck[];
}

export interface FailedCheck {
  target: string;
  voter: string;
  name: string;
  weight: CheckWeight;
  detail: string;
  /** When it began failing, on the voter's clock. */
  since: number;
}

export type AmbiguityCode =
  | 'VOTES_SPLIT'
  | 'STANDBY_UNHEALTHY'
  | 'REPLICATION_LAG_OVER_RPO'
  | 'INSIDE_COOLDOWN'
  | 'PAUSED'
  | 'TOO_FEW_VOTERS'
  | 'TARGET_NOT_REPLICA'
  | 'TARGET_INELIGIBLE'
  | 'ASK_DEEP_CHECK';

export interface Ambiguity {
  code: AmbiguityCode;
  reason: string;
}

export type VerdictCode =
  | 'ALL_HEALTHY'
  | 'NO_FRESH_VOTES'
  | 'UNHEALTHY_BELOW_QUORUM'
  | 'DEBOUNCING'
  | 'AMBIGUOUS_NO_ACTION'
  | 'QUORUM_UNHEALTHY'
  | 'DEEP_CHECK_FAILED'
  | 'ASK_DEEP_CHECK'
  | 'QUORUM_UNHEALTHY_AMBIGUOUS'
  | 'AMBIGUOUS_PROCEED';

interface VerdictBase {
  code: VerdictCode;
  reason: string;
  evidence: Evidence;
  ambiguities: Ambiguity[];
}

export type Verdict =
  | (VerdictBase & { kind: 'healthy' })
  | (VerdictBase & { kind: 'suspect' })
  | (VerdictBase & { kind: 'failover' })
  | (VerdictBase & { kind: 'failover-needs-approval' });

export type VerdictKind = Verdict['kind'];

/**
 * Decides, from a snapshot of votes, whether the primary has failed. Pure: the same snapshot always gives the
 * same verdict, whatever the order of the votes.
 *
 * A vote counts only if it is fresh (observed within voteStalenessMs and not further in the future than
 * the allowed clock skew) and comes from a configured watcher; anything else is an abstention (I3).
 * An automatic failover needs at least `quorum` fresh unhealthy votes whose streak covers the debounce window.
 */
export function decide(
  votes: readonly Vote[],
  config: DecisionConfig,
  now: number,
  context: DecisionContext,
): Verdict {
  const watchers = new Set(config.watchers);
  const isFresh = (v: Vote) =>
    watchers.has(v.voter) &&
    now - v.observedAt <= config.voteStalenessMs &&
    v.observedAt - now <= config.lease.maxSkewMs &&
    v.streakSince <= v.observedAt;

  const latest = latestPerVoter(votes.filter((v) => watchers.has(v.voter)));
  const about = (target: string) => latest.filter((v) => v.target === target);
  const primaryVotes = about(context.primary);
  const fresh = primaryVotes.filter(isFresh);
  const freshVoters = new Set(fresh.map((v) => v.voter));
  const abstaining = [...watchers].filter((w) => !freshVoters.has(w)).sort();
  // A deep check weighted `unhealthy` makes the vote unhealthy whatever the watcher folded into `healthy`: this
  // configuration decides, not the one the prober ran with.
  const unhealthy = fresh.filter((v) => unhealthySince(v, config) !== null);
  const healthy = fresh.filter((v) => unhealthySince(v, config) === null);
  // The streak must cover the window by observation, not by the passage of time since a single failed probe.
  const sustained = unhealthy.filter(
    (v) => v.observedAt - (unhealthySince(v, config) ?? v.observedAt) >= config.debounceMs,
  );
  // A `write` check weighs nothing on the standby (a replica refuses the test row by design): dropped from its votes.
  const freshStandby = about(context.standby)
    .filter(isFresh)
    .map((v) => withoutWriteChecks(v, config));
  const standbyHealthy = freshStandby.filter((v) => unhealthySince(v, config) === null);
  const failedChecks = [...fresh, ...freshStandby].flatMap((v) => failedChecksOf(v, config));

  const evidence: Evidence = {
    target: context.primary,
    standby: context.standby,
    quorum: config.quorum,
    fresh: fresh.map((v) => ({
      voter: v.voter,
      healthy: unhealthySince(v, config) === null,
      since: v.streakSince,
      observedAt: v.observedAt,
      detail: v.detail,
    })),
    abstaining,
    sustainedUnhealthy: sustained.map((v) => v.voter),
    standbyHealthyVoters: standbyHealthy.map((v) => v.voter),
    ...(context.replicationLagMs === undefined ? {} : { replicationLagMs: context.replicationLagMs }),
    ...(failedChecks.length ? { failedChecks } : {}),
  };
  const k = config.quorum;
  const verdict = (kind: VerdictKind, code: VerdictCode, reason: string, ambiguities: Ambiguity[] = []) =>
    ({ kind, code, reason, evidence, ambiguities }) as Verdict;

  // When the primary's unhealthy streak began (the earliest sustained voter's): a standby check that began failing
  // later (its replication lag, which grows as soon as the primary stops shipping) is a consequence of the outage.
  const outageSince = sustained.length
    ? Math.min(...sustained.map((v) => unhealthySince(v, config) ?? v.observedAt))
    : undefined;
  if (sustained.length >= k) {
    const ambiguities = ambiguitiesOf(config, now, context, {
      healthyVoters: healthy.map((v) => v.voter),
      standbyHealthy: standbyHealthy.length,
      failedChecks,
      outageSince,
    });
    // Every sustained voter's plain probe answers and names a failed `unhealthy` deep check: the region answers,
    // but not as it must. A region that does not answer at all keeps the plain outage's code.
    const deep = sustained.every(
      (v) => plainHealthy(v) && failedWith(v.checks, config.health, 'unhealthy').length > 0,
    );
    const deepWhy = deep ? `: ${describeFailed(failedChecks, context.primary, 'unhealthy')}` : '';
    const summary = `${sustained.length} of ${watchers.size} watchers (quorum ${k}) see ${context.primary} unhealthy for at least ${config.debounceMs} ms${deepWhy}`;
    if (ambiguities.length === 0) {
      return deep
        ? verdict('failover', 'DEEP_CHECK_FAILED', `failover: ${summary}`)
        : verdict('failover', 'QUORUM_UNHEALTHY', `failover: ${summary}`);
    }
    const why = ambiguities.map((a) => a.reason).join('; ');
    const policy = config.approval.ambiguousPolicy;
    const has = (code: AmbiguityCode) => ambiguities.some((a) => a.code === code);
    // A pause is an operator's explicit "no automatic failover": no policy overrides it. Nor does any policy
    // override the cool-down or a target that is not a replica: a target that would lose data is put to a
    // person whatever the policy, and so is a failover inside the cool-down under "proceed".
    const paused = has('PAUSED');
    const dataLoss = has('TARGET_NOT_REPLICA');
    // A deep check weighted `ask` or `ineligible` is the operator's own "a person decides": no policy overrides it.
    const person = has('ASK_DEEP_CHECK') || has('TARGET_INELIGIBLE');
    if (
      policy === 'ask' ||
      dataLoss ||
      person ||
      (policy === 'proceed' && !paused && has('INSIDE_COOLDOWN'))
    ) {
      return verdict(
        'failover-needs-approval',
        'QUORUM_UNHEALTHY_AMBIGUOUS',
        `approval needed${dataLoss ? ' (DATA LOSS if approved)' : ''}: ${summary}, but ${why}`,
        ambiguities,
      );
    }
    if (policy === 'proceed' && !paused) {
      return verdict(
        'failover',
        'AMBIGUOUS_PROCEED',
        `failover (policy proceed): ${summary}, despite ${why}`,
        ambiguities,
      );
    }
    return verdict(
      'suspect',
      'AMBIGUOUS_NO_ACTION',
      `no action (policy ${policy}): ${summary}, but ${why}`,
      ambiguities,
    );
  }

  if (sustained.length > 0 && healthy.length === 0 && fresh.length < k) {
    // Everyone who can still see the primary says it is down, but too few can see it to know: never automatic.
    const tooFew: Ambiguity = {
      code: 'TOO_FEW_VOTERS',
      reason: `only ${fresh.length} fresh voters (quorum ${k}); ${abstaining.length} abstain (${abstaining.join(', ')})`,
    };
    const ambiguities = [
      tooFew,
      ...ambiguitiesOf(config, now, context, {
        healthyVoters: [],
        standbyHealthy: standbyHealthy.length,
        failedChecks,
        outageSince,
      }),
    ];
    const why = ambiguities.map((a) => a.reason).join('; ');
    const dataLoss = ambiguities.some((a) => a.code === 'TARGET_NOT_REPLICA');
    if (config.approval.ambiguousPolicy === 'ask' || dataLoss) {
      return verdict(
        'failover-needs-approval',
        'QUORUM_UNHEALTHY_AMBIGUOUS',
        `approval needed${dataLoss ? ' (DATA LOSS if approved)' : ''}: all ${fresh.length} fresh voters see ${context.primary} unhealthy, but ${why}`,
        ambiguities,
      );
    }
    return verdict('suspect', 'AMBIGUOUS_NO_ACTION', `no action: ${why}`, ambiguities);
  }

  // A failed `ask` check on an otherwise healthy primary, for a quorum over the debounce window: nothing automatic
  // (the votes see it healthy, so a re-check would call any failover a false alarm); an operator decides. An `ask`
  // check that stays unknown that long (no readable answer) asks too: asking is never automatic.
  const asking = fresh.filter((v) =>
    (v.checks ?? []).some(
      (c) =>
        !c.ok &&
        weightOf(config.health, c.name) === 'ask' &&
        v.observedAt - Math.min(c.since, v.observedAt) >= config.debounceMs,
    ),
  );
  if (unhealthy.length === 0 && asking.length >= k) {
    return verdict(
      'suspect',
      'ASK_DEEP_CHECK',
      `a person decides: ${asking.length} fresh watchers (quorum ${k}) report for at least ${config.debounceMs} ms that ${describeFailed(failedChecks, context.primary, 'ask')}; nothing is automatic, an operator may fail over (cutover failover)`,
    );
  }

  if (unhealthy.length > 0) {
    if (unhealthy.length >= k) {
      const longest = Math.max(...unhealthy.map((v) => v.observedAt - v.streakSince));
      return verdict(
        'suspect',
        'DEBOUNCING',
        `suspect: ${unhealthy.length} watchers see ${context.primary} unhealthy; ${sustained.length} of them for the whole debounce window of ${config.debounceMs} ms (longest ${longest} ms)`,
      );
    }
    return verdict(
      'suspect',
      'UNHEALTHY_BELOW_QUORUM',
      `suspect: ${unhealthy.length} of ${fresh.length} fresh watchers see ${context.primary} unhealthy (quorum ${k})`,
    );
  }
  if (fresh.length === 0) {
    return verdict(
      'suspect',
      'NO_FRESH_VOTES',
      `suspect: no fresh votes about ${context.primary}; all watchers abstain`,
    );
  }
  return verdict(
    'healthy',
    'ALL_HEALTHY',
    `healthy: ${fresh.length} fresh watchers see ${context.primary} healthy`,
  );
}

/**
 * Since when the vote says its target is unhealthy, or null when it does not: the watcher's own unhealthy streak,
 * or else the oldest failing deep check weighted `unhealthy` by this configuration. A check claiming to fail since
 * after its own observation counts from the observation, never earlier (I3).
 */
function unhealthySince(v: Vote, config: DecisionConfig): number | null {
  if (!plainHealthy(v)) return v.streakSince;
  const failing = failedWith(v.checks, config.health, 'unhealthy');
  if (failing.length === 0) return null;
  return Math.min(...failing.map((c) => Math.min(c.since, v.observedAt)));
}

/**
 * The plain probe's verdict: recorded apart when the vote carries deep checks (`healthy` then folds in the checks
 * the prober weighed `unhealthy`, which this configuration weighs again); else the vote's own.
 */
function plainHealthy(v: Vote): boolean {
  if (v.plainHealthy !== undefined) return v.plainHealthy;
  // An older vote: only a vote whose checks the prober did not fold into `healthy` tells the plain probe's verdict.
  return v.healthy;
}

/** The vote without its `write`-kind checks (what a standby's vote says: a replica takes no test row). */
function withoutWriteChecks(v: Vote, config: DecisionConfig): Vote {
  if (!v.checks) return v;
  const checks = v.checks.filter((c) => kindOf(config.health, c.name) !== 'write');
  if (checks.length === v.checks.length) return v;
  return { ...v, checks };
}

/** The checks of a vote that failed (an unknown check did not: it abstains). */
function failedChecksOf(v: Vote, config: DecisionConfig): FailedCheck[] {
  return (v.checks ?? []).filter(isFailed).map((c) => ({
    target: v.target,
    voter: v.voter,
    name: c.name,
    weight: weightOf(config.health, c.name),
    detail: c.detail,
    since: c.since,
  }));
}

/** "deep check db-write failed (…), seen by a, b" for each failed check of `weight` about `target`. */
function describeFailed(checks: readonly FailedCheck[], target: string, weight: CheckWeight): string {
  const byName = new Map<string, { detail: string; voters: string[] }>();
  for (const c of checks) {
    if (c.target !== target || c.weight !== weight) continue;
    const e = byName.get(c.name) ?? { detail: c.detail, voters: [] };
    e.voters.push(c.voter);
    byName.set(c.name, e);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(
      ([name, e]) => `deep check ${name} failed in ${target} (${e.detail}, seen by ${e.voters.join(', ')})`,
    )
    .join('; ');
}

function ineligibleOf(checks: readonly FailedCheck[], target: string, outageSince: number | undefined) {
  const byName = new Map<string, { name: string; detail: string; voters: string[] }>();
  for (const c of checks) {
    if (c.target !== target || c.weight !== 'ineligible') continue;
    // Judged by its state before the outage: a check that began failing after the primary's streak began does
    // not make the target ineligible (the standby's lag grows as soon as the primary stops shipping).
    if (outageSince !== undefined && c.since >= outageSince) continue;
    const e = byName.get(c.name) ?? { name: c.name, detail: c.detail, voters: [] };
    e.voters.push(c.voter);
    byName.set(c.name, e);
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function ambiguitiesOf(
  config: DecisionConfig,
  now: number,
  context: DecisionContext,
  seen: {
    healthyVoters: string[];
    standbyHealthy: number;
    failedChecks: readonly FailedCheck[];
    /** When the primary's unhealthy streak began, when it is sustained. */
    outageSince?: number | undefined;
  },
): Ambiguity[] {
  const out: Ambiguity[] = [];
  if (seen.healthyVoters.length > 0) {
    out.push({
      code: 'VOTES_SPLIT',
      reason: `votes split: ${seen.healthyVoters.join(', ')} still see ${context.primary} healthy`,
    });
  }
  if (seen.standbyHealthy < config.quorum) {
    out.push({
      code: 'STANDBY_UNHEALTHY',
      reason: `standby ${context.standby} is healthy for only ${seen.standbyHealthy} fresh voters (quorum ${config.quorum})`,
    });
  }
  if (context.replicationLagMs !== undefined && context.replicationLagMs > config.rpoBudgetMs) {
    out.push({
      code: 'REPLICATION_LAG_OVER_RPO',
      reason: `replication lag ${context.replicationLagMs} ms is over the RPO budget of ${config.rpoBudgetMs} ms`,
    });
  }
  if (context.lastFailoverAt !== undefined && now - context.lastFailoverAt < config.cooldownMs) {
    out.push({
      code: 'INSIDE_COOLDOWN',
      reason: `the last failover or failback ended ${now - context.lastFailoverAt} ms ago, inside the cool-down of ${config.cooldownMs} ms`,
    });
  }
  if (context.paused) {
    out.push({ code: 'PAUSED', reason: 'automatic failover is paused by an operator' });
  }
  const snapshot = {
    to: context.standby,
    primary: context.primary,
    mark: context.standbyRebuild ?? null,
    database: null,
    lag: null,
    promotedByThisIncident: false,
  };
  // Both questions are asked: a deep check's verdict must not hide a rebuild mark's data-loss warning.
  const replica = eligibility(snapshot);
  if (!replica.eligible) out.push({ code: 'TARGET_NOT_REPLICA', reason: replica.reason });
  const checked = eligibility({
    ...snapshot,
    ineligibleChecks: ineligibleOf(seen.failedChecks, context.standby, seen.outageSince),
  });
  if (!checked.eligible && checked.code === 'TARGET_INELIGIBLE') {
    out.push({ code: 'TARGET_INELIGIBLE', reason: checked.reason });
  }
  const asks = [context.primary, context.standby]
    .map((t) => describeFailed(seen.failedChecks, t, 'ask'))
    .filter((d) => d !== '');
  if (asks.length) out.push({ code: 'ASK_DEEP_CHECK', reason: `a person decides: ${asks.join('; ')}` });
  return out;
}

/** True when the verdict asks for a failover, automatic or approved. */
export function requestsFailover(v: Verdict): boolean {
  return v.kind === 'failover' || v.kind === 'failover-needs-approval';
}
