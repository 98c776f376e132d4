/**
 * The query of Cutover's holder-check function URL (functions/holder-check.ts): `GET ?region=<application region>`.
 * One function in each lease-authority region answers for both application regions, so the region asked about
 * travels in the query, and each Route 53 health check names its own in its ResourcePath. Pure.
 */
export const HOLDER_QUERY_FIELD = 'region';

export type HolderQuery =
  | { code: 'REGION'; region: string; reason: string }
  | { code: 'BAD_QUERY'; field: string; reason: string };

/**
 * Reads the raw query string (as a function URL hands it over, without the `?`). Exactly one `region`, naming
 * one of the application regions, and nothing else: a typo in a health check's ResourcePath must fail loudly at
 * the first check rather than answer for a region nobody meant.
 */
export function parseHolderQuery(rawQuery: string, applicationRegions: readonly string[]): HolderQuery {
  const params = new URLSearchParams(rawQuery);
  const known = applicationRegions.join(', ');
  for (const key of new Set(params.keys())) {
    if (key !== HOLDER_QUERY_FIELD) {
      return {
        code: 'BAD_QUERY',
        field: key,
        reason: `unknown query parameter ${JSON.stringify(key)}: the only one is region (one of ${known})`,
      };
    }
  }
  const values = params.getAll(HOLDER_QUERY_FIELD);
  if (values.length === 0) {
    return { code: 'BAD_QUERY', field: 'region', reason: `region is required: one of ${known}` };
  }
  if (values.length > 1) {
    return {
      code: 'BAD_QUERY',
      field: 'region',
      reason: `region is given ${values.length} times: ask about one region at a time (one of ${known})`,
    };
  }
  const region = values[0]!;
  if (!applicationRegions.includes(region)) {
    return {
      code: 'BAD_QUERY',
      field: 'region',
      reason: `region ${JSON.stringify(region)} is not an application region: one of ${known}`,
    };
  }
  return { code: 'REGION', region, reason: `holder check for ${region}` };
}
