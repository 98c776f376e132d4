import type {
  DatabasePromoter,
  DatabaseStatus,
  LagReading,
  PromoteMode,
  ReplicationLagReader,
} from '#core/failover-ports.js';

const NONE =
  'no database is configured (no state, or a data tier Cutover does not watch: writable in every region; global tables have database.engine "dynamodb")';

/**
 * The DatabasePromoter of a configuration without a `database` section: there is nothing for Cutover to promote.
 * `status` reports every region writable by nature, so Promote plans ALREADY_WRITABLE and promotes nothing (its
 * audit record carries this detail) and the machine goes on to grant the lease; the lease, not the database, is
 * then the only fence. A failback's preconditions want the target to be a replica, so they refuse a
 * configuration without a database (README, Known gaps).
 */
export class NoDatabasePromoter implements DatabasePromoter {
  async status(region: string): Promise<DatabaseStatus> {
    return { writable: true, managed: false, detail: `${NONE}; nothing to promote in ${region}` };
  }

  /** Not reached through planPromote (the status is writable); if called, it promotes nothing and says so. */
  async promote(region: string, mode: PromoteMode): Promise<{ detail: string }> {
    return { detail: `${NONE}; nothing promoted in ${region} (${mode})` };
  }
}

/**
 * The ReplicationLagReader without a database: there is no replica to measure, so the lag is unknown (null),
 * never zero. The RPO guard treats unknown as over budget and reads the target's status, which
 * NoDatabasePromoter reports unmanaged, so it proceeds without waiting (NO_DATABASE, core/eligibility.ts).
 */
export class NoDatabaseLagReader implements ReplicationLagReader {
  async read(): Promise<LagReading> {
    return { lagMs: null, at: null };
  }
}
