import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHolderQuery } from '#core/holder-query.js';

const REGIONS = ['us-east-1', 'us-west-2'];

describe('parseHolderQuery: the holder-check function URL asks about exactly one application region', () => {
  it.each(REGIONS)('region=%s → that region', (region) => {
    expect(parseHolderQuery(`region=${region}`, REGIONS)).toEqual({
      code: 'REGION',
      region,
      reason: `holder check for ${region}`,
    });
  });

  it.each([
    ['', 'region', 'region is required: one of us-east-1, us-west-2'],
    [
      'region=us-east-1&region=us-east-1',
      'region',
      'region is given 2 times: ask about one region at a time (one of us-east-1, us-west-2)',
    ],
    [
      'region=eu-west-1',
      'region',
      'region "eu-west-1" is not an application region: one of us-east-1, us-west-2',
    ],
    [
      'region=us-east-1&x=1',
      'x',
      'unknown query parameter "x": the only one is region (one of us-east-1, us-west-2)',
    ],
  ])('%j → BAD_QUERY on %s', (query, field, reason) => {
    expect(parseHolderQuery(query, REGIONS)).toEqual({ code: 'BAD_QUERY', field, reason });
  });

  it('property: answers REGION only for a query that is exactly one region= naming an application region', () => {
    const key = fc.constantFrom('region', 'Region', 'regions', 'x', '');
    const value = fc.oneof(fc.constantFrom(...REGIONS, 'eu-west-1', ''), fc.string({ maxLength: 12 }));
    const params = fc.array(fc.tuple(key, value), { maxLength: 4 });
    fc.assert(
      fc.property(params, (pairs) => {
        const query = new URLSearchParams(pairs).toString();
        const answer = parseHolderQuery(query, REGIONS);
        const wellFormed = pairs.length === 1 && pairs[0]![0] === 'region' && REGIONS.includes(pairs[0]![1]);
        expect(answer.code).toBe(wellFormed ? 'REGION' : 'BAD_QUERY');
        if (answer.code === 'REGION') expect(answer.region).toBe(pairs[0]![1]);
        else expect(answer.reason.length).toBeGreaterThan(10);
      }),
    );
  });
});
