import type { CutoverConfig } from './config.js';
import type { Eligibility } from './eligibility.js';
import type { LagReading } from './failover-ports.js';

export type RpoAction = 'promote' | 'wait' | 'ask' | 'abort' | 'proceed';

/** A lag reading within the budget. Unknown lag is treated as over budget, never as zero. */
export const withinBudget = (lagMs: number | null, budgetMs: number): lagMs is number =>
  lagMs !== null && lagMs <= budgetMs;

/** What to do with a lag reading: promote within budget, read again while attempts remain, then the policy. */
export function rpoAction(
  lagMs: number | null,
  budgetMs: number,
  attempt: number,
  maxAttempts: number,
  policy: CutoverConfig['approval']['ambiguousPolicy'],
): RpoAction {
  if (withinBudget(lagMs, budgetMs)) return 'promote';
  if (attempt < maxAttempts) return 'wait';
  return policy;
}

/**
 * The lag a decision may use: a reading taken at or before `after` (the fence, or the decision it serves) says
 * nothing about the writes since, so it counts as unknown, as does a reading without a time.
 */
export function freshLag(reading: LagReading, after: number | null): number | null {
  if (after === null) return reading.lagMs;
  return reading.at !== null && reading.at > after ? reading.lagMs : null;
}

export interface RpoSnapshot {
  lag: LagReading;
  /** When the fence revoked the lease; null when there was nothing to revoke. */
  fencedAt: number | null;
  budgetMs: number;
  attempt: number;
  maxAttempts: number;
  policy: CutoverConfig['approval']['ambiguousPolicy'];
  to: string;
  /** Whether the target may be promoted at all (core/eligibility.ts). */
  target: Eligibility;
  /** An operator accepted the data loss for this incident (`cutover failover --accept-data-loss`). */
  dataLossAccepted: boolean;
}

export type Rpo =
  | { action: 'promote'; code: 'ALREADY_PROMOTED' | 'WITHIN_BUDGET' | 'NO_DATABASE'; reason: string }
  | { action: 'wait'; code: 'OVER_BUDGET_WAIT'; reason: string }
  | { action: 'ask' | 'abort' | 'proceed'; code: 'OVER_BUDGET_POLICY'; reason: string }
  | { action: 'ask' | 'proceed'; code: 'TARGET_NOT_ELIGIBLE'; reason: string };

/**
 * The RPO guard, after the fence: no new writes reach the old primary, so the lag can only shrink. Only a
 * reading taken after the fence counts. Still over budget (or unknown) after a few readings, the configured
 * policy decides: ask a person, abort, or proceed. A target that is not a replica of the primary (a standalone
 * database, or one marked for rebuild) is a data loss no policy takes: a person is asked, unless an operator
 * accepted the loss when requesting the failover. A database promoted by this incident already was a data-loss
 * decision taken and not to be undone. Pure.
 */
export function rpo(s: RpoSnapshot): Rpo {
  if (!s.target.eligible) {
    return s.dataLossAccepted
      ? {
          action: 'proceed',
          code: 'TARGET_NOT_ELIGIBLE',
          reason: `DATA LOSS accepted by the operator: ${s.target.reason}`,
        }
      : {
          action: 'ask',
          code: 'TARGET_NOT_ELIGIBLE',
          reason: `DATA LOSS if approved: ${s.target.reason}`,
        };
  }
  if (s.target.code === 'NO_DATABASE') {
    // No replication Cutover could measure or lose: the data tier replicates by itself, or there is none.
    return { action: 'promote', code: 'NO_DATABASE', reason: s.target.reason };
  }
  if (s.target.code === 'PROMOTED_BY_THIS_INCIDENT') {
    return {
      action: 'promote',
      code: 'ALREADY_PROMOTED',
      reason: `the database in ${s.to} is writable already; ${s.target.reason}`,
    };
  }
  const lagMs = freshLag(s.lag, s.fencedAt);
  const stale = lagMs === null && s.lag.lagMs !== null;
  const action = rpoAction(lagMs, s.budgetMs, s.attempt, s.maxAttempts, s.policy);
  const lag =
    lagMs !== null
      ? `${lagMs} ms`
      : stale
        ? `unknown (the reading of ${s.lag.lagMs} ms predates the fence)`
        : 'unknown';
  if (action === 'promote') {
    return {
      action,
      code: 'WITHIN_BUDGET',
      reason: `replication lag ${lag} is within the RPO budget of ${s.budgetMs} ms`,
    };
  }
  const over = `replication lag ${lag} is over the RPO budget of ${s.budgetMs} ms after ${s.attempt} readings`;
  if (action === 'wait') return { action, code: 'OVER_BUDGET_WAIT', reason: over };
  return { action, code: 'OVER_BUDGET_POLICY', reason: `${over}; policy ${s.policy}` };
}
