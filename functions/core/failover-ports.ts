/**
 * The ports the failover and failback steps act through. The AWS adapters (functions/adapters/aws) and the
 * local drill's stand-ins implement them; the step core (functions/steps/core) sees nothing else.
 */

import type { HolderReading } from './holder.js';

export type ChangeStatus = 'PENDING' | 'INSYNC';

/** A DNS change, or none when the routing mode has nothing to change (changeId null). */
export interface TrafficChange {
  changeId: string | null;
  detail: string;
}

export interface RouteOptions {
  /**
   * A planned failback's last step after weighted ones: the records or traffic dials those steps set are put back
   * (through the record or dial API), rather than left for the health checks alone.
   */
  afterWeightedSteps?: boolean;
}

export interface TrafficRouter {
  /** Takes the region out of rotation. Must never send traffic to another region as a side effect it can avoid. */
  stopTraffic(region: string): Promise<TrafficChange>;
  /** Sends weightPercent of the traffic to region and the rest to the other application region. */
  routeTo(region: string, weightPercent: number, options?: RouteOptions): Promise<TrafficChange>;
  changeStatus(changeId: string): Promise<ChangeStatus>;
}

/** Reads a region's holder check (the data plane's view of who holds the lease); never throws. */
export interface HolderCheckReader {
  read(region: string): Promise<HolderReading>;
}

export type PromoteMode = 'unplanned' | 'planned';

export interface DatabaseStatus {
  writable: boolean;
  detail: string;
  /**
   * False when Cutover manages no database for the application (no `database` section: a data tier Cutover does
   * not watch, or no state): every region is writable by nature and there is nothing to promote or to rebuild.
   */
  managed?: false;
  /**
   * True when every region's copy takes writes (DynamoDB global tables): nothing to promote, yet the copy is a
   * replica of the primary's writes, so its replication lag still decides whether a failover loses data.
   */
  everyRegionWritable?: true;
}

export interface DatabasePromoter {
  /** Starts promoting the database of region; returns once the request is accepted, not once it is done. */
  promote(region: string, mode: PromoteMode): Promise<{ detail: string }>;
  status(region: string): Promise<DatabaseStatus>;
}

/**
 * One replication lag reading: the lag in ms (null when unknown) and when it was measured (epoch ms; null when
 * nothing was measured). A decision counts a reading taken before the fence it serves as unknown.
 */
export interface LagReading {
  lagMs: number | null;
  at: number | null;
}

export interface ReplicationLagReader {
  /** The newest replication lag reading of the database in region behind its source. */
  read(region: string): Promise<LagReading>;
}

export interface HealthCheck {
  healthy: boolean;
  detail: string;
}

export interface HealthVerifier {
  check(url: string): Promise<HealthCheck>;
}

/** What the zone's authoritative name servers answer for the application's record (data plane only). */
export type RecordAnswer =
  | { code: 'ANSWERED'; servers: string[]; answers: string[] }
  | { code: 'SKIPPED'; reason: string };

export interface RecordResolver {
  /**
   * Resolves `name` at its zone's authoritative name servers, found by a public NS lookup of the zone apex; never
   * through Route 53's API (GetHostedZone is a control plane). SKIPPED, with the reason, when it cannot.
   */
  resolve(name: string, type: 'A' | 'AAAA' | 'CNAME'): Promise<RecordAnswer>;
  /** What a region's endpoint answers with: its host name (CNAME), or that host's addresses (A, AAAA). */
  valuesOf(host: string, type: 'A' | 'AAAA' | 'CNAME'): Promise<string[]>;
}

export interface FenceActionResult {
  target: string;
  ok: boolean;
  detail: string;
}

/** Active fencing besides the lease (for example reserved concurrency 0 on the old region's writers). */
export interface FenceActions {
  fence(region: string): Promise<FenceActionResult[]>;
}

export interface Notifier {
  notify(message: string, detail: Record<string, unknown>): Promise<void>;
}

/**
 * What a person is asked: an ambiguous failover, a promotion that loses data, a failback, or whether to
 * continue a run whose afterTraffic hook with onFailure `ask` failed (the traffic has already moved).
 */
export type ApprovalKind = 'failover' | 'data-loss' | 'failback' | 'hook';

/** What a person is asked. The evidence is whatever the step knows: votes, lag, holder, epoch. */
export interface ApprovalRequest {
  incidentId: string;
  application: string;
  kind: ApprovalKind;
  from: string;
  to: string;
  reason: string;
  evidence: Record<string, unknown>;
  timeoutSeconds: number;
}

export interface ApprovalDecision {
  approved: boolean;
  by: string;
  at: number;
  reason: string;
}

/**
 * Asks a person and waits for the answer. On AWS the wait is the `.waitForTaskToken` task itself and the
 * answer comes back through SendTaskSuccess (issue 5); locally the runner binds that task to this port.
 */
export interface ApprovalChannel {
  requestApproval(request: ApprovalRequest): Promise<ApprovalDecision>;
}
