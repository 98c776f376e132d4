import { holderAnswer } from '#core/holder.js';
import { parseHolderQuery } from '#core/holder-query.js';
import { type LeaseTiming, mayWrite } from '#core/lease.js';
import type { Clock, LeaseStore } from '#core/ports.js';

export interface HolderCheckRequest {
  method: string;
  /** The query string without its `?` (a function URL's rawQueryString). */
  rawQuery: string;
}

export interface HolderCheckResponse {
  statusCode: 200 | 400 | 405 | 503;
  headers: Record<string, string>;
  body: string;
}

export interface HolderCheckDeps {
  application: string;
  applicationRegions: readonly string[];
  /** The lease authority's replica in this region; `read` must be strongly consistent. */
  leases: Pick<LeaseStore, 'read'>;
  timing: LeaseTiming;
  /** The authority region's clock: the answer is mayWrite on it, with the holder's skew and margin. */
  clock: Clock;
  log: (message: string, fields: Record<string, unknown>) => void;
}

const NO_STORE = { 'content-type': 'application/json', 'cache-control': 'no-store' };

const respond = (statusCode: HolderCheckResponse['statusCode'], body: unknown): HolderCheckResponse => ({
  statusCode,
  headers: NO_STORE,
  body: JSON.stringify(body),
});

/**
 * The holder check answered from the lease authority (for applications that cannot add `/cutover/holder`):
 * one strongly consistent read, then the same answer the application's guard gives, on this region's clock.
 * 200 only for the holder of a lease that still allows writes; 503 otherwise, and also when the lease cannot be
 * read (an MRSC replica cut off from the others refuses strongly consistent reads), so an authority that
 * cannot see the lease never vouches for anyone.
 */
export async function answerHolderCheck(
  req: HolderCheckRequest,
  deps: HolderCheckDeps,
): Promise<HolderCheckResponse> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return {
      ...respond(405, { code: 'METHOD', field: 'method', reason: `use GET, not ${req.method}` }),
      headers: { ...NO_STORE, allow: 'GET, HEAD' },
    };
  }
  const query = parseHolderQuery(req.rawQuery, deps.applicationRegions);
  if (query.code === 'BAD_QUERY') return respond(400, query);

  let lease: Awaited<ReturnType<LeaseStore['read']>>;
  try {
    lease = await deps.leases.read(deps.application);
  } catch (err) {
    const reason = `could not read the lease of ${deps.application} at the authority: ${(err as Error).message}`;
    deps.log('holder check: lease unreadable', { region: query.region, reason });
    const answer = holderAnswer(
      query.region,
      { allowed: false, epoch: null, code: 'STALE_CACHE', reason },
      null,
      deps.clock.now(),
    );
    return respond(answer.statusCode, answer.body);
  }
  const now = deps.clock.now();
  const answer = holderAnswer(query.region, mayWrite(lease, query.region, now, deps.timing), lease, now);
  return respond(answer.statusCode, answer.body);
}
