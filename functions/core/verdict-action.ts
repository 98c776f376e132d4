import type { Verdict, VerdictCode } from './decide.js';
import type { Incident } from './incident.js';
import type { IncidentRequest, VerdictChange } from './ports.js';

/**
 * The aggregator's decisions around a verdict, pure: whose failure matters (from the lease), what to announce
 * when the verdict changes, whether to request a failover, and what a lost conditional put means.
 */
export type Roles =
  | { decide: false; code: 'FENCE_IN_PROGRESS'; reason: string }
  | {
      decide: true;
      code: 'LEASE_HELD' | 'NO_LEASE';
      reason: string;
      primary: string;
      standby: string;
      epoch: number;
    };

/**
 * The lease holder is the primary whose failure matters (the configured primary before any lease). A revoked
 * lease means a failover holds the fence: the votes are not judged until it grants the lease.
 */
export function rolesOf(
  lease: { holder: string | null; epoch: number } | null,
  regions: { primary: string; standby: string },
): Roles {
  if (lease && lease.holder === null) {
    return {
      decide: false,
      code: 'FENCE_IN_PROGRESS',
      reason: `the lease is revoked at epoch ${lease.epoch}: a failover holds the fence`,
    };
  }
  const primary = lease?.holder ?? regions.primary;
  const standby = primary === regions.primary ? regions.standby : regions.primary;
  return lease
    ? {
        decide: true,
        code: 'LEASE_HELD',
        reason: `${primary} holds the lease at epoch ${lease.epoch}; a failover would promote ${standby}`,
        primary,
        standby,
        epoch: lease.epoch,
      }
    : {
        decide: true,
        code: 'NO_LEASE',
        reason: `no lease yet: ${primary} is the configured primary; a failover would promote ${standby}`,
        primary,
        standby,
        epoch: 0,
      };
}

export type Announcement =
  | {
      announce: true;
      detailType: 'Primary Suspect' | 'Primary Recovered';
      code: 'BECAME_SUSPECT' | 'RECOVERED';
      reason: string;
    }
  | { announce: false; code: 'UNCHANGED' | 'FIRST_HEALTHY' | 'REQUESTS_FAILOVER'; reason: string };

/**
 * A change of verdict kind is announced once: to suspect, and back to healthy from anything else. A first
 * healthy verdict recovers from nothing, and a failover verdict is announced by its own request.
 */
export function announcement(kind: Verdict['kind'], change: VerdictChange): Announcement {
  if (!change.changed) return { announce: false, code: 'UNCHANGED', reason: `still ${kind}` };
  if (kind === 'suspect') {
    return {
      announce: true,
      detailType: 'Primary Suspect',
      code: 'BECAME_SUSPECT',
      reason: `suspect after ${change.previous ?? 'no verdict'}`,
    };
  }
  if (kind === 'healthy') {
    return change.previous === null
      ? { announce: false, code: 'FIRST_HEALTHY', reason: 'healthy is the first verdict recorded' }
      : {
          announce: true,
          detailType: 'Primary Recovered',
          code: 'RECOVERED',
          reason: `healthy after ${change.previous}`,
        };
  }
  return { announce: false, code: 'REQUESTS_FAILOVER', reason: `${kind} is announced by its request` };
}

export type RequestPlan =
  | { act: 'nothing'; code: VerdictCode; reason: string }
  | { act: 'request'; code: VerdictCode; reason: string; request: IncidentRequest };

/**
 * A verdict that asks for a failover becomes an incident request keyed at the lease epoch: every region and
 * every delivery that sees the same outage computes the same key, so the conditional put admits one of them.
 * Detection starts when the first of the sustaining voters saw the primary unhealthy. Any other verdict
 * requests nothing; a pause is one of the verdict's ambiguities, so it never yields an automatic request.
 */
export function requestPlan(
  verdict: Verdict,
  at: { application: string; region: string; now: number; epoch: number; primary: string; standby: string },
): RequestPlan {
  if (verdict.kind !== 'failover' && verdict.kind !== 'failover-needs-approval') {
    return { act: 'nothing', code: verdict.code, reason: verdict.reason };
  }
  const sustained = new Set(verdict.evidence.sustainedUnhealthy);
  const since = verdict.evidence.fresh.filter((v) => sustained.has(v.voter)).map((v) => v.since);
  return {
    act: 'request',
    code: verdict.code,
    reason: verdict.reason,
    request: {
      application: at.application,
      kind: 'failover',
      epoch: at.epoch,
      from: at.primary,
      to: at.standby,
      verdictKind: verdict.kind,
      verdictCode: verdict.code,
      reason: verdict.reason,
      evidence: verdict.evidence,
      needsApproval: verdict.kind === 'failover-needs-approval',
      requestedAt: at.now,
      requestedBy: at.region,
      detectedAt: since.length ? Math.min(...since) : at.now,
    },
  };
}

export type LostPut =
  | {
      act: 're-publish';
      code: 'WINNER_UNPUBLISHED';
      incidentId: string;
      reason: string;
      /** The answer when another delivery claimed the publication meanwhile. */
      otherwise: Duplicate;
    }
  | Duplicate;

type Duplicate = {
  act: 'duplicate';
  code: 'INCIDENT_EXISTS' | 'LOST_RACE';
  incidentId: string | null;
  reason: string;
};

/**
 * The conditional put found an incident at the key. Only its winner may put its event: a retry of the same
 * region finds its own request unpublished when it crashed between the put and the event. Anything else is a
 * duplicate delivery or a lost race.
 */
export function lostPut(existing: Incident | null, region: string): LostPut {
  if (!existing) {
    return {
      act: 'duplicate',
      code: 'LOST_RACE',
      incidentId: null,
      reason: 'lost the race for the incident',
    };
  }
  const duplicate: Duplicate = {
    act: 'duplicate',
    code: 'INCIDENT_EXISTS',
    incidentId: existing.id,
    reason: `incident ${existing.id} is already ${existing.status}`,
  };
  if (
    existing.status === 'requested' &&
    existing.publishedAt === undefined &&
    existing.requestedBy === region
  ) {
    return {
      act: 're-publish',
      code: 'WINNER_UNPUBLISHED',
      incidentId: existing.id,
      reason: `incident ${existing.id} was requested by this region (${region}) but its event was not put`,
      otherwise: duplicate,
    };
  }
  return duplicate;
}
