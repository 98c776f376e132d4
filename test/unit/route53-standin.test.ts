import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransientError } from '#core/errors.js';
import { TrafficError } from '#core/failover-errors.js';
import { answer, candidates, type RecordSet, Route53StandIn } from '../../infra/local/route53-standin.js';

const E = 'us-east-1';
const W = 'us-west-2';
const up =
  (...regions: string[]) =>
  (r: string) =>
    regions.includes(r);

const weighted = (e: number, w: number): RecordSet => ({
  [E]: { weight: e, failover: 'PRIMARY' },
  [W]: { weight: w, failover: 'SECONDARY' },
});

describe("Route 53's choice of a record (edge semantics)", () => {
  it('failover routing: the healthy primary; the secondary when only it is healthy; the primary when neither is', () => {
    const r = weighted(1, 1);
    expect(candidates('failover', r, up(E, W))).toEqual([[E, 1]]);
    expect(candidates('failover', r, up(W))).toEqual([[W, 1]]);
    expect(candidates('failover', r, up())).toEqual([[E, 1]]);
    const swapped: RecordSet = {
      [E]: { weight: 1, failover: 'SECONDARY' },
      [W]: { weight: 1, failover: 'PRIMARY' },
    };
    expect(candidates('failover', swapped, up())).toEqual([[W, 1]]);
  });

  it('weighted routing: healthy records by weight; zero-weight ones only when every weighted one is down', () => {
    expect(candidates('weighted', weighted(100, 0), up(E, W))).toEqual([[E, 100]]);
    expect(candidates('weighted', weighted(100, 0), up(W))).toEqual([[W, 0]]);
    expect(candidates('weighted', weighted(50, 50), up(W))).toEqual([[W, 50]]);
  });

  it('weighted routing answers every record, by weight, when all of them are unhealthy', () => {
    expect(candidates('weighted', weighted(50, 50), up())).toEqual([
      [E, 50],
      [W, 50],
    ]);
    // Evenly when every weight is 0: the hazard of a "stop traffic" that zeroes the last weight.
    const seen = new Set<string | null>();
    const draws = [0, 0.49, 0.5, 0.99];
    for (const x of draws) seen.add(answer('weighted', weighted(0, 0), up(), () => x));
    expect(seen).toEqual(new Set([E, W]));
    expect(answer('weighted', weighted(100, 0), up(), () => 0.999)).toBe(E);
  });

  it('property: the answer is always a candidate, and never an unhealthy record while a healthy one exists', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('weighted' as const, 'failover' as const),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (routing, we, ww, eUp, wUp, eFirst, x) => {
          const records: RecordSet = {
            [E]: { weight: we, failover: eFirst ? 'PRIMARY' : 'SECONDARY' },
            [W]: { weight: ww, failover: eFirst ? 'SECONDARY' : 'PRIMARY' },
          };
          const healthy = (r: string) => (r === E ? eUp : wUp);
          const a = answer(routing, records, healthy, () => x);
          expect(candidates(routing, records, healthy).map(([r]) => r)).toContain(a);
          if (eUp || wUp) expect(healthy(a!)).toBe(true);
        },
      ),
    );
  });
});

describe('Route 53 API stand-in', () => {
  function standIn(routing: 'weighted' | 'failover' = 'weighted') {
    let now = 1_000;
    const api = new Route53StandIn({
      routing,
      regions: [E, W],
      propagationMs: 3_000,
      requestTimeoutMs: 50,
      now: () => now,
    });
    return { api, tick: (ms: number) => (now += ms) };
  }

  it('a change is PENDING, then INSYNC after the propagation delay; the answers use it only then', async () => {
    const { api, tick } = standIn();
    expect(api.records()).toEqual(weighted(100, 0));
    const stop = await api.stopTraffic(E);
    expect(stop.detail).toBe(`weight 0 for ${E}`);
    const route = await api.routeTo(W, 100);
    expect(await api.changeStatus(route.changeId!)).toBe('PENDING');
    expect(api.records()).toEqual(weighted(100, 0));
    tick(2_999);
    expect(await api.changeStatus(stop.changeId!)).toBe('PENDING');
    tick(1);
    expect(await api.changeStatus(stop.changeId!)).toBe('INSYNC');
    expect(await api.changeStatus(route.changeId!)).toBe('INSYNC');
    expect(api.records()).toEqual(weighted(0, 100));
    expect(api.calls().map((c) => [c.action, c.outcome])).toEqual([
      ['ChangeResourceRecordSets', 'ok'],
      ['ChangeResourceRecordSets', 'ok'],
      ['GetChange', 'ok'],
      ['GetChange', 'ok'],
      ['GetChange', 'ok'],
      ['GetChange', 'ok'],
    ]);
  });

  it('weighted steps split as Route53TrafficRouter sends them; failover routing swaps the roles in one change', async () => {
    const w = standIn();
    await w.api.routeTo(W, 10);
    w.tick(3_000);
    expect(w.api.records()).toEqual(weighted(90, 10));
    const f = standIn('failover');
    expect(await f.api.stopTraffic(E)).toMatchObject({ changeId: null });
    expect(await f.api.routeTo(E, 100)).toMatchObject({ changeId: null, detail: `${E} is already PRIMARY` });
    await f.api.routeTo(W, 100);
    f.tick(3_000);
    expect(f.api.records()).toEqual({
      [E]: { weight: 100, failover: 'SECONDARY' },
      [W]: { weight: 0, failover: 'PRIMARY' },
    });
    await expect(f.api.routeTo(E, 50)).rejects.toThrow(/failover routing cannot send 50%/);
  });

  it.each([
    ['throttling', 'Throttling', /Rate exceeded/],
    ['unavailable', 'ServiceUnavailable', /Service Unavailable/],
    ['timeout', 'TimeoutError', /no answer/],
  ] as const)(
    'refuses every call under %s as the SDK surfaces it (TransientError), changing nothing',
    async (fault, name, message) => {
      const { api, tick } = standIn();
      const before = await api.stopTraffic(E);
      api.refuse(fault);
      const started = Date.now();
      for (const call of [
        () => api.routeTo(W, 100),
        () => api.stopTraffic(W),
        () => api.changeStatus(before.changeId!),
      ]) {
        const err = await call().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(TransientError);
        expect((err as Error).message).toMatch(message);
        expect(((err as Error).cause as Error).name).toBe(name);
      }
      if (fault === 'timeout') expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 45);
      tick(10_000);
      // Only the change submitted before the outage ever applies.
      expect(api.records()).toEqual(weighted(0, 0));
      const refused = api.calls().filter((c) => c.outcome === 'refused');
      expect(refused.map((c) => [c.action, c.error])).toEqual([
        ['ChangeResourceRecordSets', name],
        ['ChangeResourceRecordSets', name],
        ['GetChange', name],
      ]);
      api.refuse(null);
      expect(await api.changeStatus(before.changeId!)).toBe('INSYNC');
    },
  );

  it('refuses bad input by name, before any call', async () => {
    const { api } = standIn();
    await expect(api.routeTo('eu-west-1', 100)).rejects.toThrow(TrafficError);
    await expect(api.routeTo('eu-west-1', 100)).rejects.toThrow(/eu-west-1 is not an application region/);
    await expect(api.routeTo(W, 0)).rejects.toThrow(
      /weightPercent must be a whole number from 1 to 100, got 0/,
    );
    await expect(api.routeTo(W, 12.5)).rejects.toThrow(/weightPercent/);
    await expect(api.changeStatus('/change/NOPE')).rejects.toThrow(/NoSuchChange/);
    expect(() => new Route53StandIn({ routing: 'weighted', regions: [E, E], propagationMs: 0 })).toThrow(
      /must differ/,
    );
    expect(() => new Route53StandIn({ routing: 'weighted', regions: [E, W], propagationMs: -1 })).toThrow(
      /propagationMs/,
    );
    expect(
      () =>
        new Route53StandIn({
          routing: 'weighted',
          regions: [E, W],
          propagationMs: 0,
          initial: weighted(300, 0),
        }),
    ).toThrow(/records.us-east-1.weight/);
    expect(
      () =>
        new Route53StandIn({
          routing: 'failover',
          regions: [E, W],
          propagationMs: 0,
          initial: { [E]: { weight: 1, failover: 'PRIMARY' }, [W]: { weight: 1, failover: 'PRIMARY' } },
        }),
    ).toThrow(/one PRIMARY and one SECONDARY/);
    expect(api.calls().filter((c) => c.action === 'ChangeResourceRecordSets')).toEqual([]);
  });
});
