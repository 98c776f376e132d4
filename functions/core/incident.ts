import type { Evidence, Verdict } from './decide.js';

export type IncidentStatus = 'requested' | 'running' | 'aborted' | 'failed' | 'completed';
export type IncidentKind = 'failover' | 'failback';

/**
 * One failover attempt. Keyed by (application, lease epoch): the epoch only moves when a failover fences, so
 * every region, duplicate stream delivery and retry that sees the same outage computes the same key, and
 * the conditional put lets exactly one of them create it (I4). An aborted incident may be reopened at the same
 * epoch after `reopenAfter`, as a new attempt.
 */
export interface Incident {
  id: string;
  application: string;
  kind: IncidentKind;
  epoch: number;
  attempt: number;
  status: IncidentStatus;
  from: string;
  to: string;
  /** 'manual' when an operator requested it (`cutover failover`): no quorum decided, a person did. */
  verdictKind: Verdict['kind'] | 'manual';
  verdictCode: string;
  reason: string;
  evidence: Evidence | Record<string, unknown>;
  needsApproval: boolean;
  requestedAt: number;
  requestedBy: string;
  /** When the primary was first seen unhealthy by the sustaining voters: the start of detection. */
  detectedAt?: number;
  executionArn?: string;
  claimedAt?: number;
  closedAt?: number;
  closeReason?: string;
  reopenAfter?: number;
  publishedAt?: number;
  /** The last step that the claiming execution started (written with its ownership check), and when. */
  progressAt?: number;
  progressStep?: string;
  /** Until when the execution is known to be waiting (the old lease, an approval): not a stall. */
  quietUntil?: number;
  /** The execution ARN that a takeover replaced, or the requesting region when none had claimed it. */
  takenOverFrom?: string;
  takenOverAt?: number;
  takeovers?: number;
}

export function incidentId(application: string, epoch: number, attempt: number): string {
  return `${application}:${epoch}:${attempt}`;
}

export function parseIncidentId(id: string): { application: string; epoch: number; attempt: number } | null {
  const m = /^([a-z0-9][a-z0-9-]*):(\d+):(\d+)$/.exec(id);
  if (!m) return null;
  return { application: m[1]!, epoch: Number(m[2]), attempt: Number(m[3]) };
}

/**
 * The epochs an incident in flight may be keyed at, seen from the current lease epoch: the incident is keyed
 * at the epoch before its fence, so it sits at the lease epoch (not fenced yet), one below (fenced) or two
 * below (granted, not yet completed).
 */
export const IN_FLIGHT_EPOCHS = 2;

export function inFlightEpochs(leaseEpoch: number): { fromEpoch: number; toEpoch: number } {
  return { fromEpoch: leaseEpoch - IN_FLIGHT_EPOCHS, toEpoch: leaseEpoch };
}

/**
 * Whether the incident keyed at `epoch` has been fenced: its fence revokes the lease at epoch + 1 (and the grant
 * moves it to epoch + 2), and nothing else moves the epoch while the incident is open. From then on the old
 * primary cannot write, so only finishing the incident leaves a writer.
 */
export const isFenced = (lease: { epoch: number } | null, epoch: number): boolean =>
  lease !== null && lease.epoch > epoch;
