import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#core/errors.js';
import {
  assertSomeWeight,
  planRecordStop,
  planStopTraffic,
  routeWeights,
  stopWeights,
  trafficState,
} from '#core/traffic.js';

describe('traffic weights', () => {
  it('routeTo 100 sends everything to one region', () => {
    expect(routeWeights({ a: 50, b: 50 }, 'b')).toEqual({ b: 100 });
  });

  it('a partial weight leaves the rest to the regions already routed, in proportion, summing to 100', () => {
    expect(routeWeights({ a: 100 }, 'b', 10)).toEqual({ a: 90, b: 10 });
    const w = routeWeights({ a: 50, c: 25, b: 25 }, 'b', 33);
    expect(Object.values(w).reduce((s, x) => s + x, 0)).toBe(100);
    expect(w.b).toBe(33);
    expect(w.a).toBeGreaterThan(w.c!);
  });

  it('refuses a partial weight with nowhere to send the rest, and a weight out of range', () => {
    expect(() => routeWeights({}, 'b', 10)).toThrow(ValidationError);
    expect(() => routeWeights({ a: 100 }, 'b', 0)).toThrow(/weightPercent/);
    expect(() => routeWeights({ a: 100 }, 'b', 101)).toThrow(/weightPercent/);
  });

  it('stopTraffic gives the stopped share to the others, or stops everything', () => {
    expect(stopWeights({ a: 90, b: 10 }, 'a')).toEqual({ b: 100 });
    expect(stopWeights({ a: 100 }, 'a')).toEqual({});
    expect(stopWeights({ a: 100 }, 'b')).toEqual({ a: 100 });
  });

  it('the current region is the one with the largest share', () => {
    expect(trafficState({ a: 90, b: 10 }).region).toBe('a');
    expect(trafficState({}).region).toBeNull();
  });
});

describe('weighted DNS records: never every weight at 0 (Route 53 then answers all records evenly)', () => {
  it('stops a region only while another keeps a weight, and says why not otherwise', () => {
    expect(planRecordStop({ a: 90, b: 10 }, 'a')).toEqual({
      code: 'STOP',
      weights: { a: 0, b: 10 },
      reason: 'weight 0 for a; b keeps 10',
    });
    const refused = planRecordStop({ a: 100, b: 0 }, 'a');
    expect(refused.code).toBe('WOULD_ZERO_ALL');
    expect(refused.reason).toContain('a keeps its weight');
  });

  it('property: a STOP plan leaves some weight above 0 and the stopped region at 0; a refusal changes nothing', () => {
    const weights = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(weights, fc.constantFrom('a', 'b', 'c'), (w, region) => {
        const plan = planRecordStop(w, region);
        if (plan.code === 'STOP') {
          expect(plan.weights[region]).toBe(0);
          expect(Object.values(plan.weights).some((x) => x > 0)).toBe(true);
        } else {
          expect(Object.entries(w).filter(([r, x]) => r !== region && x > 0)).toEqual([]);
        }
      }),
    );
  });

  it('refuses a set of weights that are all 0, naming the field', () => {
    expect(assertSomeWeight({ a: 0, b: 1 })).toEqual({ a: 0, b: 1 });
    expect(() => assertSomeWeight({ a: 0, b: 0 })).toThrow(ValidationError);
    expect(() => assertSomeWeight({})).toThrow(/^invalid route: weights every record would be at weight 0/);
  });
});

describe('stop-traffic on the unplanned path', () => {
  it('defers the record change of mode records until after the grant, and asks every other mode', () => {
    expect(planStopTraffic({ kind: 'failover', mode: 'records', from: 'a' }).code).toBe('DEFER');
    for (const mode of ['health-check', 'accelerator', 'arc', null]) {
      expect(planStopTraffic({ kind: 'failover', mode, from: 'a' }).code).toBe('STOP');
    }
    expect(planStopTraffic({ kind: 'failback', mode: 'records', from: 'a' }).code).toBe('STOP');
  });
});
