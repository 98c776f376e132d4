import type { Incident } from './incident.js';
import { takeoverVerdict } from './takeover.js';

/**
 * What the aggregator does about the incident in flight (keyed inside `inFlightEpochs`), before it decides on
 * the votes. Pure: the incident as read, the reader's region and clock, the configured bound.
 *
 * A region that took an incident over but died (or failed) before putting its event puts it first; otherwise
 * the takeover verdict says whether to take a stalled failover over, abandon a stalled failback, or leave it.
 */
export type InFlightPlan =
  | { act: 're-publish'; code: 'TAKEOVER_UNPUBLISHED'; reason: string }
  | { act: 'take-over'; code: 'EXECUTION_STALLED' | 'REQUEST_UNCLAIMED'; reason: string; idleMs: number }
  | { act: 'abandon'; code: 'FAILBACK_ABANDONED'; reason: string; idleMs: number }
  | { act: 'leave'; code: 'NOT_OPEN' | 'OWN_REGION' | 'PROGRESSING'; reason: string; idleMs: number };

export function inFlightPlan(
  open: Incident,
  region: string,
  now: number,
  takeoverAfterMs: number,
): InFlightPlan {
  if (open.status === 'requested' && open.takenOverFrom && open.requestedBy === region && !open.publishedAt) {
    return {
      act: 're-publish',
      code: 'TAKEOVER_UNPUBLISHED',
      reason: `this region (${region}) took ${open.id} over from ${open.takenOverFrom} but its Failover Requested was not put`,
    };
  }
  const v = takeoverVerdict(open, region, now, takeoverAfterMs);
  if (v.take) return { act: 'take-over', code: v.code, reason: v.reason, idleMs: v.idleMs };
  if (v.abandon) return { act: 'abandon', code: v.code, reason: v.reason, idleMs: v.idleMs };
  return { act: 'leave', code: v.code, reason: v.reason, idleMs: v.idleMs };
}
