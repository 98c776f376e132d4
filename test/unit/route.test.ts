import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextStep, planDnsCheck, planRoute } from '#core/route.js';

const S = 'us-west-2';

describe('nextStep', () => {
  it('walks the weighted steps of a failback one by one, the last one marked', () => {
    expect(nextStep([10, 50, 100], null)).toEqual({ index: 0, weight: 10, last: false });
    expect(nextStep([10, 50, 100], 1)).toEqual({ index: 2, weight: 100, last: true });
    expect(nextStep([10, 50, 100], 2)).toBeNull();
    expect(nextStep([100], null)).toEqual({ index: 0, weight: 100, last: true });
  });

  it('visits every step once, in order, and only the final one is last', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 }), (steps) => {
        const seen: number[] = [];
        let prev: number | null = null;
        for (let step = nextStep(steps, prev); step; step = nextStep(steps, prev)) {
          seen.push(step.weight);
          expect(step.last).toBe(step.index === steps.length - 1);
          prev = step.index;
        }
        expect(seen).toEqual(steps);
      }),
    );
  });
});

describe('planRoute', () => {
  it('ROUTE to the region that holds the lease', () => {
    expect(planRoute({ to: S, weight: 10, lease: { epoch: 9, holder: S } })).toEqual({
      code: 'ROUTE',
      reason: 'us-west-2 holds the lease at epoch 9: route 10% of the traffic to it',
    });
  });

  it('NOT_HOLDER otherwise: no traffic goes to a region without the lease', () => {
    expect(planRoute({ to: S, weight: 100, lease: { epoch: 8, holder: null } })).toEqual({
      code: 'NOT_HOLDER',
      reason: 'us-west-2 does not hold the lease (epoch 8 held by nobody); no traffic goes to it',
    });
    fc.assert(
      fc.property(
        fc.option(fc.record({ epoch: fc.nat(), holder: fc.constantFrom(S, 'us-east-1', null) }), {
          nil: null,
        }),
        fc.integer({ min: 1, max: 100 }),
        (lease, weight) => {
          expect(planRoute({ to: S, weight, lease }).code === 'ROUTE').toBe(lease?.holder === S);
        },
      ),
    );
  });
});

describe('planDnsCheck: whose endpoint the authoritative answer names', () => {
  const expected = { 'us-west-2': ['orders-usw2.example.com'], 'us-east-1': ['orders-use1.example.com'] };
  const check = (answers: string[]) =>
    planDnsCheck({ to: 'us-west-2', from: 'us-east-1', answer: { answers }, expected });

  it('new region, old region, neither, or skipped with its reason', () => {
    expect(check(['ORDERS-USW2.example.com.'])).toEqual({
      code: 'DNS_NEW_REGION',
      reason: "the authoritative answer (orders-usw2.example.com) is us-west-2's",
    });
    expect(check(['orders-use1.example.com']).code).toBe('DNS_OLD_REGION');
    // Both (weighted records when every health check is unhealthy answer all): not yet switched.
    expect(check(['orders-usw2.example.com', 'orders-use1.example.com']).code).toBe('DNS_OLD_REGION');
    expect(check(['elsewhere.example.com']).reason).toContain('neither region');
    expect(check([]).code).toBe('DNS_UNKNOWN');
    expect(
      planDnsCheck({ to: 'us-west-2', from: 'us-east-1', answer: { skipped: 'no zone apex' }, expected }),
    ).toEqual({ code: 'DNS_SKIPPED', reason: 'no zone apex' });
  });
});
