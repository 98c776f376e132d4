import type { Incident } from './incident.js';

/**
 * Whether a control region should take over an open incident whose execution has stopped making progress
 * (its control region died). Pure: the incident as read, the reader's region and clock, the configured bound.
 *
 * Progress is the incident's `progressAt`, which every step writes with its ownership check before it acts
 * (functions/steps/core/record.ts), and `quietUntil`, which a step sets before a long wait it knows of (the
 * old lease, an approval). An execution is stalled once neither has moved for `takeoverAfterMs`. A stalled
 * failover is taken over; a stalled failback is abandoned (closed as failed by the aggregator).
 */
export type TakeoverVerdict =
  | {
      take: true;
      abandon?: false;
      code: 'EXECUTION_STALLED' | 'REQUEST_UNCLAIMED';
      reason: string;
      idleMs: number;
    }
  /** A stalled failback: closed as failed (so that failover may proceed), never taken over. */
  | { take: false; abandon: true; code: 'FAILBACK_ABANDONED'; reason: string; idleMs: number }
  | {
      take: false;
      abandon?: false;
      code: 'NOT_OPEN' | 'OWN_REGION' | 'PROGRESSING';
      reason: string;
      idleMs: number;
    };

/** The region of a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME). */
export function executionRegion(executionArn: string): string | null {
  const parts = executionArn.split(':');
  return parts[0] === 'arn' && parts[2] === 'states' && parts[3] ? parts[3] : null;
}

/** The last sign of life of the incident's execution (or of its request, before any claim). */
export function lastSignOfLife(incident: Incident): number {
  const progress = incident.progressAt ?? incident.claimedAt ?? incident.publishedAt ?? incident.requestedAt;
  return Math.max(progress, incident.quietUntil ?? 0);
}

export function takeoverVerdict(
  incident: Incident,
  region: string,
  now: number,
  takeoverAfterMs: number,
): TakeoverVerdict {
  const idleMs = Math.max(0, now - lastSignOfLife(incident));
  if (incident.status !== 'requested' && incident.status !== 'running') {
    return { take: false, code: 'NOT_OPEN', reason: `incident ${incident.id} is ${incident.status}`, idleMs };
  }
  // A failback is an operator's execution: a stalled one is not taken over (nobody but the operator may decide
  // to move the primary back), but it must not hold its epoch for ever either, or no failover could be
  // requested at that epoch again. Once it shows no progress for takeoverAfterMs it is abandoned: closed as
  // failed, from any region (closing starts no second execution, so the region it ran in may judge it too).
  if (incident.kind === 'failback') {
    const who = incident.executionArn ? `execution ${incident.executionArn}` : 'the unclaimed request';
    const step = incident.progressStep ? ` since step ${incident.progressStep}` : '';
    return idleMs < takeoverAfterMs
      ? {
          take: false,
          code: 'PROGRESSING',
          reason: `failback ${who} showed progress ${idleMs} ms ago (abandoned after ${takeoverAfterMs} ms)`,
          idleMs,
        }
      : {
          take: false,
          abandon: true,
          code: 'FAILBACK_ABANDONED',
          reason: `abandoned: no progress for ${idleMs} ms; a failback is not taken over (${who} of ${incident.requestedBy}${step}; abandoned after ${takeoverAfterMs} ms)`,
          idleMs,
        };
  }
  const owner =
    incident.status === 'running' && incident.executionArn
      ? (executionRegion(incident.executionArn) ?? incident.requestedBy)
      : incident.requestedBy;
  const who = incident.executionArn ? `execution ${incident.executionArn}` : `the request of ${owner}`;
  // A region cannot start a second execution of its own to replace its own: the other regions judge it.
  if (owner === region) {
    return { take: false, code: 'OWN_REGION', reason: `${who} runs in this region (${region})`, idleMs };
  }
  if (idleMs < takeoverAfterMs) {
    return {
      take: false,
      code: 'PROGRESSING',
      reason: `${who} showed progress ${idleMs} ms ago (takeover after ${takeoverAfterMs} ms)`,
      idleMs,
    };
  }
  const step = incident.progressStep ? ` since step ${incident.progressStep}` : '';
  return incident.status === 'running'
    ? {
        take: true,
        code: 'EXECUTION_STALLED',
        reason: `${who} in ${owner} made no progress for ${idleMs} ms${step} (takeover after ${takeoverAfterMs} ms)`,
        idleMs,
      }
    : {
        take: true,
        code: 'REQUEST_UNCLAIMED',
        reason: `no execution claimed the request of ${owner} for ${idleMs} ms (takeover after ${takeoverAfterMs} ms)`,
        idleMs,
      };
}
