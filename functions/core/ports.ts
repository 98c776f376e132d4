import type { RebuildMark } from './eligibility.js';
import type { Incident, IncidentStatus } from './incident.js';
import type { Lease } from './lease.js';
import type { Vote } from './vote.js';

/** Narrow ports between the core and the outside. AWS adapters and the drill's local adapters implement them. */

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type VoteWrite = 'written' | 'superseded';

export interface VoteStore {
  /** Writes the vote unless the stored one has the same or a higher seq. */
  put(vote: Vote): Promise<VoteWrite>;
  get(application: string, target: string, voter: string): Promise<Vote | undefined>;
  /** All votes about one target, read consistently in the local region. */
  list(application: string, target: string): Promise<Vote[]>;
}

export type LeaseResult =
  | { ok: true; lease: Lease }
  | { ok: false; code: 'LOST_RACE' | 'NOT_HOLDER' | 'NOT_SAFE_YET'; current: Lease | null };

export interface LeaseStore {
  read(application: string): Promise<Lease | null>;
  /** Takes a lease that is absent or was not renewed (expiresAt + maxSkew has passed on the caller's clock). */
  acquire(application: string, region: string, expectedEpoch: number | null): Promise<LeaseResult>;
  /** Extends the lease; only the holder at that epoch can. */
  renew(application: string, region: string, epoch: number): Promise<LeaseResult>;
  /** The fence: epoch + 1 and no holder. The old holder's renewals fail from now on. */
  revoke(application: string, expectedEpoch: number): Promise<LeaseResult>;
  /** Gives the lease to a region at epoch + 1, once the revoked lease is safely over. */
  grant(application: string, region: string, expectedEpoch: number): Promise<LeaseResult>;
}

export interface PauseRecord {
  pausedBy: string;
  pausedAt: number;
  reason: string;
}

export type IncidentRequest = Omit<Incident, 'id' | 'attempt' | 'status'>;
export type IncidentCreate =
  | { created: true; incident: Incident }
  | { created: false; existing: Incident | null };
export type IncidentClaim =
  | { claimed: true; incident: Incident }
  | { claimed: false; incident: Incident | null; reason: string };

export type IncidentProgress = { owned: true } | { owned: false; incident: Incident | null; reason: string };
export type IncidentTakeover =
  | { takenOver: true; incident: Incident }
  | { takenOver: false; incident: Incident | null; reason: string };

/**
 * Who may close an incident: `{ execution }` only while that execution holds it, `{ unclaimed: true }` only
 * while no execution does (a claim that itself failed), `{ any: true }` whoever holds it (operator tools and
 * fixtures that close by hand). A step that outlived a takeover closes nothing.
 */
export type IncidentOwner = { execution: string } | { unclaimed: true } | { any: true };

/** The owner of an incident as a step knows it: the execution that claimed it, if any. */
export function ownerOf(executionArn: string | null | undefined): IncidentOwner {
  return executionArn ? { execution: executionArn } : { unclaimed: true };
}

export interface IncidentClose {
  id: string;
  status: Extract<IncidentStatus, 'aborted' | 'failed' | 'completed'>;
  reason: string;
  now: number;
  /** From when a new attempt may reopen the incident's epoch (aborted or failed only). */
  reopenAfter?: number;
  owner: IncidentOwner;
}

export interface IncidentStore {
  /** Conditional put: one winner per (application, epoch) while an incident is open. */
  requestIncident(request: IncidentRequest, now: number): Promise<IncidentCreate>;
  getIncident(id: string): Promise<Incident | null>;
  /** requested → running, bound to one execution. A second claim, by any execution, fails. */
  claimIncident(id: string, executionArn: string, now: number): Promise<IncidentClaim>;
  /**
   * The execution fence: records that `executionArn` starts `step`, only while the incident is still bound to
   * that execution. `owned: false` means another execution took the incident over; the caller must not act.
   */
  recordProgress(
    id: string,
    executionArn: string,
    progress: { at: number; step: string; quietUntil?: number },
  ): Promise<IncidentProgress>;
  /** The newest open (requested or running) incident keyed at an epoch in [fromEpoch, toEpoch]. */
  openIncident(application: string, fromEpoch: number, toEpoch: number): Promise<Incident | null>;
  /**
   * Takeover of a stalled incident: back to requested and bound to no execution, requested by `by`, only if it
   * is exactly as `seen` (same status, execution, progress and takeover count). One of racing regions wins.
   */
  takeOverIncident(seen: Incident, by: string, now: number): Promise<IncidentTakeover>;
  /**
   * Closes an open incident as `owner` allows (LostRaceError when another owner holds it). Closing it again
   * with the same status is a no-op that returns the incident as first closed.
   */
  closeIncident(close: IncidentClose): Promise<Incident>;
  /**
   * The newest completed incident that moved the primary, failover (automatic or manual) or failback: the
   * cool-down counts from its close.
   */
  lastCompletedFailover(application: string): Promise<Incident | null>;
  /**
   * The newest closed incident (among the newest 20) whose status is one of `statuses`: `cutover status` shows
   * the last failed or aborted one, with how far it got and what to type next.
   */
  lastClosedIncident(
    application: string,
    statuses: readonly Extract<IncidentStatus, 'aborted' | 'failed' | 'completed'>[],
  ): Promise<Incident | null>;
}

/**
 * The regions a failover or failback left: their database stopped following the primary and must be rebuilt as
 * a replica before it may be promoted again (core/eligibility.ts).
 */
export interface RebuildStore {
  getRebuild(application: string, region: string): Promise<RebuildMark | null>;
  listRebuilds(application: string): Promise<RebuildMark[]>;
  /** Marks the region; a region marked already keeps its earlier mark (the older divergence). */
  markRebuild(application: string, mark: RebuildMark): Promise<void>;
  /** Clears the mark set at `since`, once a reading shows the region replicating; a newer mark is left alone. */
  clearRebuild(application: string, region: string, since: number): Promise<void>;
}

export interface VerdictStore {
  /** Records the verdict kind; `changed` is true for exactly one caller per transition. */
  recordVerdict(application: string, kind: string, code: string, now: number): Promise<VerdictChange>;
  /** The verdict kind last recorded, and since when it holds (written on a change of kind only). */
  getVerdict(application: string): Promise<VerdictRecord | null>;
}

export interface PublicationClaims {
  /** Marks that the incident's "Failover Requested" event was put on the bus (LostRaceError at another attempt). */
  markPublished(id: string, now: number): Promise<void>;
  /**
   * Claims the right to put the incident's `Failover Requested` event: true for exactly one caller while the
   * incident is requested and unpublished. A caller whose put fails releases it, so that a retry can put it.
   */
  claimPublish(id: string, now: number): Promise<boolean>;
  /** Hands the claim made at `claimedAt` back; a claim made by someone else is left alone. */
  releasePublish(id: string, claimedAt: number): Promise<void>;
}

export interface PauseStore {
  getPause(application: string): Promise<PauseRecord | null>;
  setPause(application: string, record: PauseRecord): Promise<void>;
  clearPause(application: string): Promise<void>;
}

export interface AuditStore {
  appendAudit(application: string, incidentId: string, entry: AuditEntry): Promise<void>;
  /** The incident's audit entries in the order of their `at`. */
  listAudit(application: string, incidentId: string): Promise<AuditEntry[]>;
}

/**
 * Everything the control table holds besides the lease and approvals. Besides the refusals each method
 * describes, a method fails with StoreError (throttled, timed out, unreachable: the state machines retry it),
 * StoreRefusedError (a retry will not fix it) or MalformedItemError (a stored item of the wrong shape).
 */
export interface ControlStore
  extends IncidentStore,
    VerdictStore,
    PublicationClaims,
    PauseStore,
    AuditStore,
    RebuildStore {}

export type VerdictChange = { changed: boolean; previous: string | null };

export interface VerdictRecord {
  kind: string;
  code: string;
  since: number;
}

export interface AuditEntry {
  at: number;
  step: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface EventPublisher {
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
}
