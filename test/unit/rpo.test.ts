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

const base: RpoSnapshot = {
  lagMs: 4_000,
  budgetMs: 5_000,
  attempt: 1,
  maxAttempts: 6,
  policy: 'ask',
  to: 'us-west-2',
  database: null,
};

describe('rpo', () => {
  it('WITHIN_BUDGET promotes', () => {
    expect(rpo(base)).toEqual({
      action: 'promote',
      code: 'WITHIN_BUDGET',
      reason: 'replication lag 4000 ms is within the RPO budget of 5000 ms',
    });
  });

  it('OVER_BUDGET_WAIT reads again while attempts remain, then OVER_BUDGET_POLICY applies the policy', () => {
    expect(rpo({ ...base, lagMs: 6_000, attempt: 2 })).toEqual({
      action: 'wait',
      code: 'OVER_BUDGET_WAIT',
      reason: 'replication lag 6000 ms is over the RPO budget of 5000 ms after 2 readings',
    });
    expect(rpo({ ...base, lagMs: null, attempt: 6, policy: 'abort' })).toEqual({
      action: 'abort',
      code: 'OVER_BUDGET_POLICY',
      reason: 'replication lag unknown is over the RPO budget of 5000 ms after 6 readings; policy abort',
    });
  });

  it('ALREADY_PROMOTED when the target is writable: an earlier execution took the data-loss decision', () => {
    expect(rpo({ ...base, lagMs: null, database: { writable: true, detail: 'available' } })).toEqual({
      action: 'promote',
      code: 'ALREADY_PROMOTED',
      reason: 'the database in us-west-2 is writable already (available); promoted by an earlier execution',
    });
  });

  const snapshot = fc.record({
    lagMs: fc.option(fc.nat(20_000), { nil: null }),
    budgetMs: fc.nat(10_000),
    attempt: fc.integer({ min: 1, max: 8 }),
    maxAttempts: fc.constant(6),
    policy: fc.constantFrom('ask' as const, 'abort' as const, 'proceed' as const),
    to: fc.constant('us-west-2'),
    database: fc.option(fc.record({ writable: fc.boolean(), detail: fc.string() }), { nil: null }),
  });

  it('never promotes with unknown lag unless the target is writable already; proceeds only by policy', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        fc.pre(s.lagMs === null && s.database?.writable !== true);
        const d = rpo(s);
        expect(d.action).not.toBe('promote');
        if (d.action === 'proceed') expect([s.policy, s.attempt >= s.maxAttempts]).toEqual(['proceed', true]);
      }),
    );
  });

  it('promotes on a reading only within budget', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        const d = rpo(s);
        if (d.code === 'WITHIN_BUDGET') expect(s.lagMs).toBeLessThanOrEqual(s.budgetMs);
        if (d.action === 'wait') expect(s.attempt).toBeLessThan(s.maxAttempts);
      }),
    );
  });
});
