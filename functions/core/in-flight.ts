import type { Incident } from './incident.js';
import type { PauseRecord } from './ports.js';
import { takeoverVerdict } from './takeover.js';

/**
 * What the aggregator does about the incident in flight (keyed inside `inFlightEpochs`), before it decides on
 * the votes. Pure: the incident as read, the reader's region and clock, the configured bound.
 *
 * A region that took an incident over but died (or failed) before putting its event puts it first; otherwise
 * the takeover verdict says whether to take a stalled failover over, abandon a stalled failback, or leave it.
 *
 * A pause is an operator's "no automatic failover": a takeover starts an execution nobody asked for now, so
 * while paused it is held (TAKEOVER_PAUSED), and so is the put of a takeover's own event. The one exception is
 * an incident already fenced: the old primary can no longer write, so holding it would leave no writer at all;
 * that one is finished, pause or not. Abandoning a stalled failback starts nothing (it closes the incident and
 * pages), so a pause does not hold it.
 */
export type InFlightPlan =
  | { act: 're-publish'; code: 'TAKEOVER_UNPUBLISHED'; reason: string }
  | { act: 'take-over'; code: 'EXECUTION_STALLED' | 'REQUEST_UNCLAIMED'; reason: string; idleMs: number }
  | { act: 'abandon'; code: 'FAILBACK_ABANDONED'; reason: string; idleMs: number }
  | { act: 'leave'; code: 'NOT_OPEN' | 'OWN_REGION' | 'PROGRESSING'; reason: string; idleMs: number }
  | { act: 'hold'; code: 'TAKEOVER_PAUSED'; reason: string };

/** What besides the incident the plan reads: the pause flag, and whether the incident's fence has happened. */
export interface InFlightWorld {
  pause: Pick<PauseRecord, 'pausedBy' | 'reason'> | null;
  /** The lease epoch is past the incident's (`isFenced`). */
  fenced: boolean;
}

export function inFlightPlan(
  open: Incident,
  region: string,
  now: number,
  takeoverAfterMs: number,
  world: InFlightWorld,
): InFlightPlan {
  const plan = planIgnoringPause(open, region, now, takeoverAfterMs);
  if (plan.act !== 're-publish' && plan.act !== 'take-over') return plan;
  if (!world.pause) return plan;
  const paused = `automatic failover is paused by ${world.pause.pausedBy} (${world.pause.reason})`;
  if (world.fenced) {
    return {
      ...plan,
      reason: `${plan.reason}; ${paused}, but ${open.id} is fenced already and stopping it would leave no writer`,
    };
  }
  return {
    act: 'hold',
    code: 'TAKEOVER_PAUSED',
    reason: `not acted on: ${plan.reason}; ${paused}, and ${open.id} is not fenced, so its old primary may still write`,
  };
}

function planIgnoringPause(
  open: Incident,
  region: string,
  now: number,
  takeoverAfterMs: number,
): Exclude<InFlightPlan, { act: 'hold' }> {
  if (
    open.status === 'requested' &&
    open.takenOverFrom &&
    open.requestedBy === region &&
    open.publishedAt === undefined
  ) {
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
