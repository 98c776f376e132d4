import type { CutoverConfig } from './config.js';

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

export interface RpoSnapshot {
  lagMs: number | null;
  budgetMs: number;
  attempt: number;
  maxAttempts: number;
  policy: CutoverConfig['approval']['ambiguousPolicy'];
  to: string;
  /**
   * The target database, read only when the lag is not within budget: promoted already by the execution this
   * one took over, it has no replication lag to read. Null when not read.
   */
  database: { writable: boolean; detail: string } | null;
}

export type Rpo =
  | { action: 'promote'; code: 'ALREADY_PROMOTED' | 'WITHIN_BUDGET'; reason: string }
  | { action: 'wait'; code: 'OVER_BUDGET_WAIT'; reason: string }
  | { action: 'ask' | 'abort' | 'proceed'; code: 'OVER_BUDGET_POLICY'; reason: string };

/**
 * The RPO guard, after the fence: no new writes reach the old primary, so the lag can only shrink. Still over
 * budget (or unknown) after a few readings, the configured policy decides: ask a person, abort, or proceed.
 * A database promoted already was a data-loss decision taken and not to be undone. Pure.
 */
export function rpo(s: RpoSnapshot): Rpo {
  if (s.database?.writable) {
    return {
      action: 'promote',
      code: 'ALREADY_PROMOTED',
      reason: `the database in ${s.to} is writable already (${s.database.detail}); promoted by an earlier execution`,
    };
  }
  const action = rpoAction(s.lagMs, s.budgetMs, s.attempt, s.maxAttempts, s.policy);
  const lag = s.lagMs === null ? 'unknown' : `${s.lagMs} ms`;
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
