import type { DatabaseStatus, LagReading } from './failover-ports.js';

/**
 * The control table's record that a failover (or failback) left `region`: its database stopped following the
 * primary at `since` and must be rebuilt as a replica of the current primary before it may be promoted again.
 */
export interface RebuildMark {
  region: string;
  since: number;
  incidentId: string;
  reason: string;
}

/** Everything the eligibility decision may know about a target; what was not read is null. */
export interface EligibilitySnapshot {
  to: string;
  /** The current (or, after the fence, the former) primary: the database the target must follow. */
  primary: string;
  mark: RebuildMark | null;
  database: Pick<DatabaseStatus, 'writable' | 'detail' | 'managed' | 'everyRegionWritable'> | null;
  lag: LagReading | null;
  /** This incident submitted the target's promotion itself (its own audit trail says so). */
  promotedByThisIncident: boolean;
  /**
   * Deep checks weighted `ineligible` that fresh votes about the target report failed (the health contract, issue
   * 15), e.g. its replica's lag over budget; absent or empty when none did, or when nothing read the votes.
   */
  ineligibleChecks?: readonly { name: string; detail: string; voters: readonly string[] }[];
}

export type Eligibility =
  | { eligible: true; code: 'REPLICA'; reason: string; clearMark: boolean }
  | { eligible: true; code: 'PROMOTED_BY_THIS_INCIDENT'; reason: string; clearMark: false }
  | { eligible: true; code: 'NO_DATABASE'; reason: string; clearMark: true }
  | { eligible: false; code: 'NEEDS_REBUILD' | 'NOT_A_REPLICA' | 'TARGET_INELIGIBLE'; reason: string };

export type EligibilityCode = Eligibility['code'];

const lossWarning = (s: EligibilitySnapshot) =>
  `promoting it loses every write acknowledged in ${s.primary} since it stopped following`;

/**
 * Whether a failover or failback target may be promoted: a replica of the current primary, or a database this
 * very incident promoted already (a retry or a takeover). A writable target that this incident did not promote
 * is a standalone database, never "already promoted". A target marked for rebuild stays ineligible until a
 * reading shows it as a replica again: not writable, with a lag reading taken after the mark, which then clears
 * the mark. Pure.
 */
export function eligibility(s: EligibilitySnapshot): Eligibility {
  if (s.promotedByThisIncident) {
    return {
      eligible: true,
      code: 'PROMOTED_BY_THIS_INCIDENT',
      reason: `the database in ${s.to} was promoted by this incident already`,
      clearMark: false,
    };
  }
  const failed = s.ineligibleChecks ?? [];
  if (failed.length > 0) {
    // The application's own report about the target outweighs what the control plane infers: its checks see the
    // replica from inside (e.g. its lag), and a configured `ineligible` weight says a person must look first.
    return {
      eligible: false,
      code: 'TARGET_INELIGIBLE',
      reason: `${s.to} is not a failover target now: ${failed.map((c) => `deep check ${c.name} failed (${c.detail}, seen by ${c.voters.join(', ')})`).join('; ')}`,
    };
  }
  if (s.database?.managed === false) {
    // Nothing to promote, nothing that can go stale: the data tier replicates by itself (or there is none).
    return {
      eligible: true,
      code: 'NO_DATABASE',
      reason: `no database is managed for ${s.to}: ${s.database.detail}`,
      clearMark: true,
    };
  }
  if (s.database?.everyRegionWritable) {
    // Writable by nature and never promoted, so never marked for rebuild: a replica whose lag the RPO guard reads.
    return {
      eligible: true,
      code: 'REPLICA',
      reason: `the database in ${s.to} takes writes in every region and replicates from ${s.primary} (${s.database.detail})`,
      clearMark: true,
    };
  }
  if (s.database?.writable) {
    return {
      eligible: false,
      code: 'NOT_A_REPLICA',
      reason: `the database in ${s.to} is writable but was not promoted by this incident (${s.database.detail}): a standalone database, not a replica of ${s.primary}; ${lossWarning(s)}`,
    };
  }
  if (s.mark) {
    const replicating =
      s.database !== null &&
      s.lag !== null &&
      s.lag.lagMs !== null &&
      s.lag.at !== null &&
      s.lag.at > s.mark.since;
    if (replicating) {
      return {
        eligible: true,
        code: 'REPLICA',
        reason: `${s.to} was left by ${s.mark.incidentId} and is a replica again (not writable, lag ${s.lag?.lagMs} ms read after the mark)`,
        clearMark: true,
      };
    }
    return {
      eligible: false,
      code: 'NEEDS_REBUILD',
      reason: `${s.to} needs a rebuild: ${s.mark.reason} (since ${new Date(s.mark.since).toISOString()}, ${s.mark.incidentId}), and no reading shows it replicating from ${s.primary} since; ${lossWarning(s)}`,
    };
  }
  return {
    eligible: true,
    code: 'REPLICA',
    reason: `the database in ${s.to} is ${s.database ? `not writable (${s.database.detail})` : 'not marked for rebuild'}`,
    clearMark: false,
  };
}
