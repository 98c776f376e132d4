import type { Lease } from './lease.js';

/**
 * Routing traffic to the new primary: in the weighted steps of a failback, or all at once for a failover, and
 * only to the region that holds the lease, read just before (traffic follows the lease). Pure.
 */
export interface TrafficStep {
  index: number;
  /** Percent of the traffic to the new primary. */
  weight: number;
  last: boolean;
}

/** The step after `previousIndex` (null before the first); null when there is none. */
export function nextStep(steps: readonly number[], previousIndex: number | null): TrafficStep | null {
  const index = previousIndex === null ? 0 : previousIndex + 1;
  const weight = steps[index];
  return weight === undefined ? null : { index, weight, last: index === steps.length - 1 };
}

export type RoutePlan = { code: 'ROUTE'; reason: string } | { code: 'NOT_HOLDER'; reason: string };

export function planRoute(s: {
  to: string;
  weight: number;
  lease: Pick<Lease, 'epoch' | 'holder'> | null;
}): RoutePlan {
  if (!s.lease || s.lease.holder !== s.to) {
    return {
      code: 'NOT_HOLDER',
      reason: `${s.to} does not hold the lease (epoch ${s.lease?.epoch} held by ${s.lease?.holder ?? 'nobody'}); no traffic goes to it`,
    };
  }
  return {
    code: 'ROUTE',
    reason: `${s.to} holds the lease at epoch ${s.lease.epoch}: route ${s.weight}% of the traffic to it`,
  };
}
