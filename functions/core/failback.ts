import type { VoterEvidence } from './decide.js';
import type { Eligibility } from './eligibility.js';
import type { DatabaseStatus, LagReading } from './failover-ports.js';
import type { Incident } from './incident.js';
import type { Lease } from './lease.js';
import { freshLag } from './rpo.js';

/**
 * The preconditions of a planned failback: the lease is still where the operator said; the original region has
 * been healthy for N minutes by a quorum of fresh votes; its database is a replica (not writable) of the current
 * primary, with lag under the threshold. Any unmet one aborts before anything changes. Pure.
 */
export interface FailbackSnapshot {
  from: string;
  to: string;
  epoch: number;
  quorum: number;
  minHealthyMinutes: number;
  maxLagMs: number;
  now: number;
  lease: Pick<Lease, 'holder' | 'epoch'> | null;
  /** Fresh votes about `to` (decide's evidence, with `to` as the primary). */
  fresh: readonly VoterEvidence[];
  database: Pick<DatabaseStatus, 'writable' | 'detail' | 'everyRegionWritable'>;
  /** Replication lag of `to` behind `from`; null when unknown. */
  lagMs: number | null;
  /** Whether `to` may be promoted (core/eligibility.ts): a region marked for rebuild must show it replicates. */
  target: Eligibility;
}

export type UnmetCode =
  | 'LEASE_MOVED'
  | 'NOT_HEALTHY_LONG_ENOUGH'
  | 'NOT_REPLICATING'
  | 'NEEDS_REBUILD'
  | 'LAG_OVER_THRESHOLD';

export interface Unmet {
  code: UnmetCode;
  reason: string;
}

export type FailbackPreconditions =
  | { met: true; code: 'PRECONDITIONS_MET'; reason: string; unmet: []; healthyVoters: string[] }
  | { met: false; code: 'PRECONDITIONS_NOT_MET'; reason: string; unmet: Unmet[]; healthyVoters: string[] };

export function preconditions(s: FailbackSnapshot): FailbackPreconditions {
  const unmet: Unmet[] = [];
  const { lease } = s;
  if (!lease || lease.holder !== s.from || lease.epoch !== s.epoch) {
    unmet.push({
      code: 'LEASE_MOVED',
      reason: `expected ${s.from} to hold the lease at epoch ${s.epoch}; found ${lease?.holder ?? 'nobody'} at ${lease?.epoch ?? '-'}`,
    });
  }
  const since = s.now - s.minHealthyMinutes * 60_000;
  const healthyVoters = s.fresh.filter((v) => v.healthy && v.since <= since).map((v) => v.voter);
  if (healthyVoters.length < s.quorum) {
    unmet.push({
      code: 'NOT_HEALTHY_LONG_ENOUGH',
      reason: `${healthyVoters.length} fresh watchers (quorum ${s.quorum}) have seen ${s.to} healthy for ${s.minHealthyMinutes} min`,
    });
  }
  // Global tables are writable in every region and still replicate: their lag, below, is the precondition.
  if (s.database.writable && !s.database.everyRegionWritable) {
    unmet.push({
      code: 'NOT_REPLICATING',
      reason: `the database in ${s.to} is writable, not a replica: ${s.database.detail}`,
    });
  }
  if (!s.database.writable && !s.target.eligible) {
    unmet.push({ code: 'NEEDS_REBUILD', reason: s.target.reason });
  }
  if (s.lagMs === null || s.lagMs > s.maxLagMs) {
    unmet.push({
      code: 'LAG_OVER_THRESHOLD',
      reason: `replication lag of ${s.to} is ${s.lagMs === null ? 'unknown' : `${s.lagMs} ms`}, threshold ${s.maxLagMs} ms`,
    });
  }
  if (unmet.length === 0) {
    return {
      met: true,
      code: 'PRECONDITIONS_MET',
      reason: 'all preconditions met',
      unmet: [],
      healthyVoters,
    };
  }
  return {
    met: false,
    code: 'PRECONDITIONS_NOT_MET',
    reason: unmet.map((u) => u.reason).join('; '),
    unmet,
    healthyVoters,
  };
}

/**
 * The drain, after the fence of a failback: the original region must have replayed everything (lag 0) before
 * it is promoted, or the failback loses writes. Unknown lag is not drained, and a reading taken before the fence
 * is unknown: a zero from then says nothing about the writes acknowledged until the fence. Pure.
 */
export type Drain =
  | { code: 'DRAINED'; done: true; reason: string }
  | { code: 'LAGGING'; done: false; reason: string };

export function drain(to: string, reading: LagReading, fencedAt: number | null): Drain {
  const lagMs = freshLag(reading, fencedAt);
  if (lagMs === 0) return { code: 'DRAINED', done: true, reason: `${to} has replayed everything (lag 0 ms)` };
  const lag =
    lagMs !== null
      ? `${lagMs} ms`
      : reading.lagMs !== null
        ? `unknown (the reading of ${reading.lagMs} ms predates the fence)`
        : 'unknown';
  return { code: 'LAGGING', done: false, reason: `replication lag of ${to} is ${lag}; waiting for 0` };
}

/**
 * Whether an incident that already exists at the epoch is this execution's own, left by an earlier attempt of
 * StartFailback: a failback bound to this very execution, or a failback request that no execution holds and
 * that this same input made (same from, to and requester). Another execution's incident is never adopted. Pure.
 */
export function isOwnRetry(
  existing: Pick<Incident, 'kind' | 'status' | 'executionArn' | 'from' | 'to' | 'requestedBy'>,
  input: { from: string; to: string; requestedBy: string },
  executionArn: string,
): boolean {
  if (existing.kind !== 'failback') return false;
  if (existing.status === 'running') return existing.executionArn === executionArn;
  return (
    existing.status === 'requested' &&
    existing.executionArn === undefined &&
    existing.from === input.from &&
    existing.to === input.to &&
    existing.requestedBy === input.requestedBy
  );
}

/**
 * The cool-down holds for a failback as for any move of the primary: inside it, a failback needs the operator's
 * explicit override (`overrideCooldown` in its input, with the input's reason), which the incident records. Pure.
 */
export type FailbackCooldown =
  | { go: true; code: 'OUTSIDE_COOLDOWN'; reason: string; override: null }
  | { go: true; code: 'COOLDOWN_OVERRIDDEN'; reason: string; override: string }
  | { go: false; code: 'INSIDE_COOLDOWN'; reason: string };

export function failbackCooldown(s: {
  lastMoveAt: number | null;
  cooldownMs: number;
  now: number;
  override: boolean;
}): FailbackCooldown {
  const since = s.lastMoveAt === null ? null : s.now - s.lastMoveAt;
  if (since === null || since >= s.cooldownMs) {
    return {
      go: true,
      code: 'OUTSIDE_COOLDOWN',
      reason:
        since === null
          ? 'no failover or failback has completed yet'
          : `the last failover or failback ended ${since} ms ago, outside the cool-down of ${s.cooldownMs} ms`,
      override: null,
    };
  }
  const inside = `the last failover or failback ended ${since} ms ago, inside the cool-down of ${s.cooldownMs} ms`;
  return s.override
    ? { go: true, code: 'COOLDOWN_OVERRIDDEN', reason: `cool-down overridden: ${inside}`, override: inside }
    : {
        go: false,
        code: 'INSIDE_COOLDOWN',
        reason: `${inside}; set "overrideCooldown": true in the input to go on (its reason is recorded)`,
      };
}
