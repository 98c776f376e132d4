import type { IncomingMessage, ServerResponse } from 'node:http';
import { HOLDER_CHECK_PATH, type HolderCheckAnswer, holderAnswer } from '#core/holder.js';
import type { Clock } from '#core/ports.js';
import { systemClock } from '#core/ports.js';
import { refuseUnlessRead, sendJsonAnswer } from './http-answer.js';
import type { LeaseGuard } from './lease-guard.js';

export { HOLDER_CHECK_PATH };

/**
 * The holder check served by the application from its own LeaseGuard: 200 only while this region may write
 * under the lease, 503 otherwise, with holder, epoch and expiry in the body. No I/O: it answers from the
 * guard's cache, so a region that cannot reach the lease authority stops answering 200 when its cached lease
 * runs out for writes, exactly when its writes stop.
 */
export function holderCheck(
  guard: Pick<LeaseGuard, 'check' | 'cachedLease'>,
  region: string,
  clock: Clock = systemClock,
): HolderCheckAnswer {
  return holderAnswer(region, guard.check(), guard.cachedLease(), clock.now());
}

/**
 * A node:http (and Express/Connect-style) listener for `GET /cutover/holder`. It returns false for any other
 * path so the application's own router can go on; it never caches (Cache-Control: no-store).
 */
export function serveHolderCheck(
  guard: Pick<LeaseGuard, 'check' | 'cachedLease'>,
  region: string,
  clock: Clock = systemClock,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== HOLDER_CHECK_PATH) return false;
    if (refuseUnlessRead(req, res)) return true;
    sendJsonAnswer(req, res, holderCheck(guard, region, clock));
    return true;
  };
}
