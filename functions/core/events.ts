import type { Verdict } from './decide.js';
import type { Incident } from './incident.js';
import type { Progress } from './progress.js';

/**
 * The details of the events that the aggregator and the CLI put on the Cutover bus. One builder per event, so
 * that a `Failover Requested` from the aggregator, a takeover and `cutover failover` carry the same fields
 * (the failover machine's input). Pure.
 */
export function failoverRequestedDetail(incident: Incident): Record<string, unknown> {
  return {
    incidentId: incident.id,
    application: incident.application,
    kind: incident.kind,
    from: incident.from,
    to: incident.to,
    epoch: incident.epoch,
    attempt: incident.attempt,
    needsApproval: incident.needsApproval,
    verdictKind: incident.verdictKind,
    verdictCode: incident.verdictCode,
    reason: incident.reason,
    evidence: incident.evidence,
    detectedAt: incident.detectedAt ?? incident.requestedAt,
    requestedAt: incident.requestedAt,
    requestedBy: incident.requestedBy,
  };
}

/** `Primary Suspect` and `Primary Recovered`: the verdict that changed, and the one it replaced. */
export function transitionDetail(application: string, verdict: Verdict, at: number, previous: string | null) {
  return {
    application,
    target: verdict.evidence.target,
    kind: verdict.kind,
    previous,
    code: verdict.code,
    reason: verdict.reason,
    evidence: verdict.evidence,
    at,
  };
}

/**
 * `Failback Failed` for a failback that the aggregator abandoned: no execution reports it, so there are no
 * step timings, only the time since the request.
 */
export function failbackAbandonedDetail(
  open: Incident,
  abandon: { reason: string; step: string; progress: Progress },
  lease: { epoch: number; holder: string | null } | null,
  now: number,
) {
  return {
    incidentId: open.id,
    application: open.application,
    kind: 'failback',
    from: open.from,
    to: open.to,
    step: abandon.step,
    error: 'FailbackAbandoned',
    cause: `${abandon.reason}; the lease is ${lease ? `${lease.holder ?? 'revoked'} at epoch ${lease.epoch}` : 'missing'}`,
    ...abandon.progress,
    failedAt: now,
    timings: {
      detectionMs: null,
      decisionMs: null,
      fenceMs: null,
      promoteMs: null,
      trafficMs: null,
      verifyMs: null,
      totalMs: Math.max(0, now - open.requestedAt),
      approvalMs: null,
    },
    steps: [],
  };
}
