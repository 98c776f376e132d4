import { describe, expect, it } from 'vitest';
import { ValidationError } from '#core/errors.js';
import { routeWeights, stopWeights, trafficState } from '#core/traffic.js';

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
