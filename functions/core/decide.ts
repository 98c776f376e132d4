import type { CutoverConfig } from './config.js';
import { eligibility, type RebuildMark } from './eligibility.js';
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
}

export type AmbiguityCode =
  | 'VOTES_SPLIT'
  | 'STANDBY_UNHEALTHY'
  | 'REPLICATION_LAG_OVER_RPO'
  | 'INSIDE_COOLDOWN'
  | 'PAUSED'
  | 'TOO_FEW_VOTERS'
  | 'TARGET_NOT_REPLICA';

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
  const unhealthy = fresh.filter((v) => !v.healthy);
  const healthy = fresh.filter((v) => v.healthy);
  // The streak must cover the window by observation, not by the passage of time since a single failed probe.
  const sustained = unhealthy.filter((v) => v.observedAt - v.streakSince >= config.debounceMs);
  const standbyHealthy = about(context.standby).filter((v) => isFresh(v) && v.healthy);

  const evidence: Evidence = {
    target: context.primary,
    standby: context.standby,
    quorum: config.quorum,
    fresh: fresh.map((v) => ({
      voter: v.voter,
      healthy: v.healthy,
      since: v.streakSince,
      observedAt: v.observedAt,
      detail: v.detail,
    })),
    abstaining,
    sustainedUnhealthy: sustained.map((v) => v.voter),
    standbyHealthyVoters: standbyHealthy.map((v) => v.voter),
    ...(context.replicationLagMs === undefined ? {} : { replicationLagMs: context.replicationLagMs }),
  };
  const k = config.quorum;
  const verdict = (kind: VerdictKind, code: VerdictCode, reason: string, ambiguities: Ambiguity[] = []) =>
    ({ kind, code, reason, evidence, ambiguities }) as Verdict;

  if (sustained.length >= k) {
    const ambiguities = ambiguitiesOf(config, now, context, {
      healthyVoters: healthy.map((v) => v.voter),
      standbyHealthy: standbyHealthy.length,
    });
    const summary = `${sustained.length} of ${watchers.size} watchers (quorum ${k}) see ${context.primary} unhealthy for at least ${config.debounceMs} ms`;
    if (ambiguities.length === 0) {
      return verdict('failover', 'QUORUM_UNHEALTHY', `failover: ${summary}`);
    }
    const why = ambiguities.map((a) => a.reason).join('; ');
    const policy = config.approval.ambiguousPolicy;
    const has = (code: AmbiguityCode) => ambiguities.some((a) => a.code === code);
    // A pause is an operator's explicit "no automatic failover": no policy overrides it. Nor does any policy
    // override the cool-down or a target that is not a replica: a target that would lose data is put to a
    // person whatever the policy, and so is a failover inside the cool-down under "proceed".
    const paused = has('PAUSED');
    const dataLoss = has('TARGET_NOT_REPLICA');
    if (policy === 'ask' || dataLoss || (policy === 'proceed' && !paused && has('INSIDE_COOLDOWN'))) {
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
      ...ambiguitiesOf(config, now, context, { healthyVoters: [], standbyHealthy: standbyHealthy.length }),
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

function ambiguitiesOf(
  config: DecisionConfig,
  now: number,
  context: DecisionContext,
  seen: { healthyVoters: string[]; standbyHealthy: number },
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
  const target = eligibility({
    to: context.standby,
    primary: context.primary,
    mark: context.standbyRebuild ?? null,
    database: null,
    lag: null,
    promotedByThisIncident: false,
  });
  if (!target.eligible) out.push({ code: 'TARGET_NOT_REPLICA', reason: target.reason });
  return out;
}

/** True when the verdict asks for a failover, automatic or approved. */
export function requestsFailover(v: Verdict): boolean {
  return v.kind === 'failover' || v.kind === 'failover-needs-approval';
}
