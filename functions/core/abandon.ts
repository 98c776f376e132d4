import type { Incident } from './incident.js';
import { howFarItGot, type Progress, type ProgressEvidence } from './progress.js';
import { failbackOrder } from './step-registry.js';

/**
 * The failback's steps in the order they run (from the step registry); an incident's `progressStep` is the last
 * one its execution started. The control store's claim records 'claim' before the first step. A poll records
 * its own step ('promote-status', 'route-traffic-status') between the step it polls and the next one.
 */
export const FAILBACK_ORDER: readonly string[] = ['claim', ...failbackOrder()];

/**
 * What a failback reached, from the last step it started: a step is started once it or a later one is the last
 * started, and ended once a later one is. A step outside the order (or none) reaches nothing.
 */
export function failbackReached(progressStep: string | undefined): ProgressEvidence['reached'] {
  const order = FAILBACK_ORDER;
  const at = progressStep === undefined ? -1 : order.indexOf(progressStep);
  const started = (step: string) => at >= 0 && at >= order.indexOf(step);
  const ended = (step: string) => at > order.indexOf(step);
  return {
    fence: ended('fence'),
    promoteStarted: started('promote'),
    promoteDone: ended('promote-status'),
    leaseGranted: ended('grant-lease'),
    trafficStarted: started('route-traffic'),
  };
}

export interface AbandonPlan {
  code: 'FAILBACK_ABANDONED';
  /** The takeover verdict's sentence: the log line, the audit's reason and the start of the page's cause. */
  reason: string;
  /** Written as the incident's closeReason; the region tells the winner of racing aggregators apart. */
  closeReason: string;
  /** The step the page names: the last one started, or 'start' when none was. */
  step: string;
  progress: Progress;
}

/**
 * How the aggregator abandons a stalled failback, and how far the failback got, for the people paged. The lease
 * is a fresh read (fenced, granted); the steps come from the last one started. Nobody reads the target's
 * database here, so a started promotion counts as done ("may have": the page errs toward the data-loss side).
 */
export function abandonPlan(
  open: Incident,
  verdict: { code: 'FAILBACK_ABANDONED'; reason: string },
  lease: { epoch: number; holder: string | null } | null,
  region: string,
): AbandonPlan {
  return {
    code: verdict.code,
    reason: verdict.reason,
    closeReason: `${verdict.reason}; closed by the aggregator in ${region}`,
    step: open.progressStep ?? 'start',
    progress: howFarItGot({
      epoch: open.epoch,
      to: open.to,
      lease,
      reached: failbackReached(open.progressStep),
      targetWritable: null,
    }),
  };
}

export type AbandonClose =
  | { won: true; code: 'CLOSED'; reason: string }
  | { won: false; code: 'ALREADY_CLOSED'; reason: string };

/**
 * Whether this aggregator's close is the one that stands: a close that found the incident already failed
 * returns it as it was, with another close time or reason, and the one who closed it pages.
 */
export function abandonClose(
  closed: Pick<Incident, 'id' | 'closedAt' | 'closeReason'>,
  plan: Pick<AbandonPlan, 'closeReason'>,
  now: number,
): AbandonClose {
  return closed.closedAt === now && closed.closeReason === plan.closeReason
    ? { won: true, code: 'CLOSED', reason: `closed ${closed.id} as failed` }
    : { won: false, code: 'ALREADY_CLOSED', reason: `already closed: ${closed.closeReason}` };
}
