import type { Eligibility } from './eligibility.js';
import type { DatabaseStatus, PromoteMode } from './failover-ports.js';

/**
 * Whether to promote the target's database. A retried promote must not promote twice (RDS refuses
 * PromoteReadReplica on a non-replica), so a database that this incident promoted already is left as it is. A
 * writable database that this incident did not promote is not "already writable": it is a standalone
 * database, and taking it as the new primary loses data, so only a person's approval of that loss (or the
 * operator's --accept-data-loss) lets it through. A failover promotes unplanned; a failback is planned (no data
 * loss). Pure.
 */
export type PromotePlan =
  | { code: 'ALREADY_WRITABLE'; mode: PromoteMode; reason: string }
  | { code: 'SUBMIT'; mode: PromoteMode; reason: string }
  | { code: 'NOT_ELIGIBLE'; mode: PromoteMode; reason: string };

export function planPromote(s: {
  kind: 'failover' | 'failback';
  to: string;
  database: Pick<DatabaseStatus, 'writable' | 'detail'>;
  target: Eligibility;
  /** A person approved the data loss in this execution, or the operator accepted it with the request. */
  dataLossApproved: boolean;
}): PromotePlan {
  const mode: PromoteMode = s.kind === 'failback' ? 'planned' : 'unplanned';
  if (!s.target.eligible && !(s.dataLossApproved && s.kind === 'failover')) {
    return {
      code: 'NOT_ELIGIBLE',
      mode,
      reason: `not promoting ${s.to}: ${s.target.reason}; nobody approved the data loss`,
    };
  }
  if (s.database.writable) {
    return {
      code: 'ALREADY_WRITABLE',
      mode,
      reason: `the database in ${s.to} is writable already (${s.database.detail}): nothing to promote`,
    };
  }
  return { code: 'SUBMIT', mode, reason: `promote the database in ${s.to} (${mode})` };
}
