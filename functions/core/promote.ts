import type { DatabaseStatus, PromoteMode } from './failover-ports.js';

/**
 * Whether to promote the target's database. A retried promote must not promote twice (RDS refuses
 * PromoteReadReplica on a non-replica), so a database that is writable already is left as it is. A failover
 * promotes unplanned; a failback is planned (no data loss). Pure.
 */
export type PromotePlan =
  | { code: 'ALREADY_WRITABLE'; mode: PromoteMode; reason: string }
  | { code: 'SUBMIT'; mode: PromoteMode; reason: string };

export function planPromote(s: {
  kind: 'failover' | 'failback';
  to: string;
  database: Pick<DatabaseStatus, 'writable' | 'detail'>;
}): PromotePlan {
  const mode: PromoteMode = s.kind === 'failback' ? 'planned' : 'unplanned';
  if (s.database.writable) {
    return {
      code: 'ALREADY_WRITABLE',
      mode,
      reason: `the database in ${s.to} is writable already (${s.database.detail}): nothing to promote`,
    };
  }
  return { code: 'SUBMIT', mode, reason: `promote the database in ${s.to} (${mode})` };
}
