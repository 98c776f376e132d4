import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RpoSnapshot, rpo, rpoAction } from '#core/rpo.js';

describe('rpoAction', () => {
  it('promotes within budget, waits while attempts remain, then applies the policy', () => {
    expect(rpoAction(4000, 5000, 1, 6, 'ask')).toBe('promote');
    expect(rpoAction(6000, 5000, 5, 6, 'ask')).toBe('wait');
    expect(rpoAction(6000, 5000, 6, 6, 'ask')).toBe('ask');
    expect(rpoAction(6000, 5000, 6, 6, 'abort')).toBe('abort');
    expect(rpoAction(6000, 5000, 6, 6, 'proceed')).toBe('proceed');
  });

  it('never treats an unknown lag as within budget', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 10 }), (budget, attempt) => {
        expect(rpoAction(null, budget, attempt, 6, 'abort')).not.toBe('promote');
      }),
    );
  });
});

const FENCED = 1_700_000_000_000;
const replica = { eligible: true, code: 'REPLICA', reason: 'not writable', clearMark: false } as const;
const base: RpoSnapshot = {
  lag: { lagMs: 4_000, at: FENCED + 2_000 },
  fencedAt: FENCED,
  budgetMs: 5_000,
  attempt: 1,
  maxAttempts: 6,
  policy: 'ask',
  to: 'us-west-2',
  target: replica,
  dataLossAccepted: false,
};
const readAfter = (lagMs: number | null) => ({ lagMs, at: FENCED + 2_000 });

describe('rpo', () => {
  it('WITHIN_BUDGET promotes', () => {
    expect(rpo(base)).toEqual({
      action: 'promote',
      code: 'WITHIN_BUDGET',
      reason: 'replication lag 4000 ms is within the RPO budget of 5000 ms',
    });
  });

  it('OVER_BUDGET_WAIT reads again while attempts remain, then OVER_BUDGET_POLICY applies the policy', () => {
    expect(rpo({ ...base, lag: readAfter(6_000), attempt: 2 })).toEqual({
      action: 'wait',
      code: 'OVER_BUDGET_WAIT',
      reason: 'replication lag 6000 ms is over the RPO budget of 5000 ms after 2 readings',
    });
    expect(rpo({ ...base, lag: readAfter(null), attempt: 6, policy: 'abort' })).toEqual({
      action: 'abort',
      code: 'OVER_BUDGET_POLICY',
      reason: 'replication lag unknown is over the RPO budget of 5000 ms after 6 readings; policy abort',
    });
  });

  it('a zero read before the fence is unknown: it never lets the guard pass', () => {
    expect(rpo({ ...base, lag: { lagMs: 0, at: FENCED - 30_000 }, attempt: 6 })).toEqual({
      action: 'ask',
      code: 'OVER_BUDGET_POLICY',
      reason:
        'replication lag unknown (the reading of 0 ms predates the fence) is over the RPO budget of 5000 ms after 6 readings; policy ask',
    });
    expect(rpo({ ...base, lag: { lagMs: 0, at: FENCED } }).action).toBe('wait');
    expect(rpo({ ...base, lag: { lagMs: 0, at: null } }).action).toBe('wait');
  });

  it('ALREADY_PROMOTED only when this incident promoted the target', () => {
    const ours = {
      eligible: true,
      code: 'PROMOTED_BY_THIS_INCIDENT',
      reason: 'the database in us-west-2 was promoted by this incident already',
      clearMark: false,
    } as const;
    expect(rpo({ ...base, lag: readAfter(null), target: ours })).toEqual({
      action: 'promote',
      code: 'ALREADY_PROMOTED',
      reason:
        'the database in us-west-2 is writable already; the database in us-west-2 was promoted by this incident already',
    });
  });

  it('TARGET_NOT_ELIGIBLE asks a person with a data-loss warning, whatever the policy and the lag', () => {
    const standalone = {
      eligible: false,
      code: 'NOT_A_REPLICA',
      reason: 'the database in us-west-2 is writable but was not promoted by this incident',
    } as const;
    for (const policy of ['ask', 'abort', 'proceed'] as const) {
      expect(rpo({ ...base, lag: readAfter(0), policy, target: standalone })).toEqual({
        action: 'ask',
        code: 'TARGET_NOT_ELIGIBLE',
        reason:
          'DATA LOSS if approved: the database in us-west-2 is writable but was not promoted by this incident',
      });
    }
    expect(rpo({ ...base, target: standalone, dataLossAccepted: true }).action).toBe('proceed');
  });

  const eligibility = fc.constantFrom(
    replica,
    { eligible: true, code: 'PROMOTED_BY_THIS_INCIDENT', reason: 'ours', clearMark: false } as const,
    { eligible: false, code: 'NOT_A_REPLICA', reason: 'standalone' } as const,
    { eligible: false, code: 'NEEDS_REBUILD', reason: 'marked' } as const,
  );
  const snapshot = fc.record({
    lag: fc.record({
      lagMs: fc.option(fc.nat(20_000), { nil: null }),
      at: fc.option(fc.integer({ min: FENCED - 60_000, max: FENCED + 60_000 }), { nil: null }),
    }),
    fencedAt: fc.constant(FENCED),
    budgetMs: fc.nat(10_000),
    attempt: fc.integer({ min: 1, max: 8 }),
    maxAttempts: fc.constant(6),
    policy: fc.constantFrom('ask' as const, 'abort' as const, 'proceed' as const),
    to: fc.constant('us-west-2'),
    target: eligibility,
    dataLossAccepted: fc.boolean(),
  });

  it('never promotes on an unknown or pre-fence reading unless this incident promoted the target; proceeds only by policy or an accepted loss', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        fc.pre(s.lag.lagMs === null || s.lag.at === null || s.lag.at <= FENCED);
        const d = rpo(s);
        if (d.action === 'promote') expect(s.target.code).toBe('PROMOTED_BY_THIS_INCIDENT');
        if (d.action === 'proceed' && d.code === 'OVER_BUDGET_POLICY')
          expect([s.policy, s.attempt >= s.maxAttempts]).toEqual(['proceed', true]);
      }),
    );
  });

  it('a target that is not eligible is never promoted nor proceeded with unless the operator accepted the loss', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        fc.pre(!s.target.eligible);
        const d = rpo(s);
        expect(d.code).toBe('TARGET_NOT_ELIGIBLE');
        expect(d.action).toBe(s.dataLossAccepted ? 'proceed' : 'ask');
      }),
    );
  });

  it('promotes on a reading only within budget and after the fence', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        const d = rpo(s);
        if (d.code === 'WITHIN_BUDGET') {
          expect(s.lag.lagMs).toBeLessThanOrEqual(s.budgetMs);
          expect(s.lag.at).toBeGreaterThan(FENCED);
        }
        if (d.action === 'wait') expect(s.attempt).toBeLessThan(s.maxAttempts);
      }),
    );
  });
});
