import {
  type DBCluster,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  type GlobalCluster,
  PromoteReadReplicaCommand,
  type RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import type { CutoverConfig } from '#core/config.js';
import { TransientError } from '#core/errors.js';
import { DatabaseError } from '#core/failover-errors.js';
import type { DatabasePromoter, DatabaseStatus, PromoteMode } from '#core/failover-ports.js';
import { mapAwsError } from './aws-errors.js';

type Settings = Pick<CutoverConfig, 'primary' | 'standby'> & { database?: CutoverConfig['database'] };

/** A global cluster's failover or switchover in flight (DescribeGlobalClusters FailoverState.Status). */
const IN_FLIGHT = new Set(['pending', 'failing-over', 'switching-over', 'cancelling']);

/**
 * What an RDS instance goes through while PromoteReadReplica runs (RDS user guide, promoting a read replica).
 * Hazard: a replica modified for another reason looks the same; then nothing is promoted and the promote step's
 * status polls run out, which fails the execution loudly rather than promoting twice.
 */
const PROMOTING = new Set(['modifying', 'rebooting']);

/** RDS's answer to a promotion the database is not in a state for (a race with another promote, say). */
const INVALID_STATE = new Set([
  'InvalidDBInstanceState',
  'InvalidDBInstanceStateFault',
  'InvalidDBClusterStateFault',
  'InvalidGlobalClusterStateFault',
]);

/**
 * Where the target's database stands, read from RDS. `writable`: promoted and taking writes; `promoting`: a
 * promotion towards it is under way; `promotable`: a replica that a promotion may start on; `blocked`: no
 * promotion can start now (another one is in flight elsewhere, or the instance is busy).
 */
export type Standing =
  | { code: 'writable'; reason: string }
  | { code: 'promoting'; reason: string }
  | { code: 'promotable'; reason: string }
  | { code: 'blocked'; reason: string; transient: boolean };

/** An RDS instance: a replica until PromoteReadReplica drops its source, writable once available again. Pure. */
export function instanceStanding(
  inst: Pick<
    DBInstance,
    'DBInstanceIdentifier' | 'DBInstanceStatus' | 'ReadReplicaSourceDBInstanceIdentifier'
  >,
): Standing {
  const id = inst.DBInstanceIdentifier;
  const status = inst.DBInstanceStatus ?? 'unknown';
  const source = inst.ReadReplicaSourceDBInstanceIdentifier;
  if (!source) {
    return status === 'available'
      ? { code: 'writable', reason: `${id} available, not a replica` }
      : { code: 'promoting', reason: `${id} ${status}, no longer a replica` };
  }
  if (status === 'available') return { code: 'promotable', reason: `${id} available, replica of ${source}` };
  if (PROMOTING.has(status)) return { code: 'promoting', reason: `${id} ${status}, replica of ${source}` };
  return { code: 'blocked', reason: `${id} ${status}, replica of ${source}`, transient: true };
}

/**
 * An Aurora cluster in a global database, judged from the cluster itself (available, with a writer instance,
 * and the writer of its global cluster): the global cluster's FailoverState can stay on "failing-over" while
 * the old primary region is unreachable, so it only tells whether a promotion is under way, and towards whom.
 * A cluster that is not a member is refused: it may be a misconfigured id as well as a detached cluster. Pure.
 */
export function clusterStanding(
  cluster: Pick<DBCluster, 'DBClusterArn' | 'Status' | 'DBClusterMembers'>,
  global: Pick<GlobalCluster, 'GlobalClusterIdentifier' | 'GlobalClusterMembers' | 'FailoverState'>,
): Standing {
  const arn = cluster.DBClusterArn;
  const member = global.GlobalClusterMembers?.find((m) => m.DBClusterArn === arn);
  const hasWriter = cluster.DBClusterMembers?.some((m) => m.IsClusterWriter === true) ?? false;
  const ready = cluster.Status === 'available' && hasWriter;
  if (!member) {
    return {
      code: 'blocked',
      reason: `${arn} is not a member of global cluster ${global.GlobalClusterIdentifier}`,
      transient: false,
    };
  }
  const role = member.IsWriter ? 'global writer' : 'global reader';
  const state = `${arn} ${cluster.Status}, ${hasWriter ? 'a writer instance' : 'no writer instance'}, ${role}`;
  const fs = global.FailoverState;
  const inFlight = IN_FLIGHT.has(fs?.Status ?? '');
  if (ready && member.IsWriter) return { code: 'writable', reason: state };
  if (inFlight && fs?.ToDbClusterArn === arn) {
    return { code: 'promoting', reason: `${state}; ${fs?.Status} towards it` };
  }
  if (member.IsWriter) return { code: 'promoting', reason: `${state}; not ready yet` };
  if (inFlight) {
    return {
      code: 'blocked',
      reason: `${state}; ${global.GlobalClusterIdentifier} is ${fs?.Status} towards ${fs?.ToDbClusterArn}`,
      transient: false,
    };
  }
  return { code: 'promotable', reason: state };
}

/**
 * Promotes the database of a region. RDS: PromoteReadReplica on the region's cross-region read replica (for a
 * planned failback too: the replica has replayed everything once the lag is 0). Aurora global database:
 * FailoverGlobalCluster with AllowDataLoss for an unplanned failover, SwitchoverGlobalCluster for a planned
 * one (RDS API reference). Calls go to the target region, which is the one that is up.
 *
 * A promote is retried (the state machine's Retry, a second execution), so it reads where the database stands
 * first and asks RDS only when a promotion may start; RDS refuses a second one with an invalid-state error, and
 * when that error comes anyway (a race), it reads again before calling it a failure.
 */
export class RdsDatabasePromoter implements DatabasePromoter {
  constructor(
    private readonly clientFor: (region: string) => RDSClient,
    private readonly config: Settings,
  ) {
    if (!config.database) throw new DatabaseError('database is not configured');
  }

  async promote(region: string, mode: PromoteMode): Promise<{ detail: string }> {
    const id = this.databaseId(region);
    const before = await this.standing(region);
    if (before.code === 'writable') return { detail: `already promoted: ${before.reason}` };
    if (before.code === 'promoting') return { detail: `promotion in progress: ${before.reason}` };
    if (before.code === 'blocked') {
      const message = `cannot promote ${id} in ${region} now: ${before.reason}`;
      throw before.transient ? new TransientError(message) : new DatabaseError(message);
    }
    try {
      return await this.submit(region, mode);
    } catch (err) {
      if (!INVALID_STATE.has((err as { name?: string }).name ?? '')) {
        throw mapAwsError(err, `promote ${id} in ${region}`, DatabaseError);
      }
      const after = await this.standing(region);
      if (after.code === 'writable')
        return { detail: `already promoted (by a concurrent call): ${after.reason}` };
      if (after.code === 'promoting') {
        return { detail: `promotion in progress (started by a concurrent call): ${after.reason}` };
      }
      throw mapAwsError(err, `promote ${id} in ${region} (${after.reason})`, DatabaseError);
    }
  }

  async status(region: string): Promise<DatabaseStatus> {
    const s = await this.standing(region);
    return { writable: s.code === 'writable', detail: s.reason };
  }

  private async submit(region: string, mode: PromoteMode): Promise<{ detail: string }> {
    const id = this.databaseId(region);
    const db = this.config.database!;
    const client = this.clientFor(region);
    if (db.engine === 'rds') {
      const res = await client.send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: id }));
      return { detail: `PromoteReadReplica ${id}: ${res.DBInstance?.DBInstanceStatus ?? 'accepted'}` };
    }
    const globalClusterId = db.globalClusterId!;
    if (mode === 'unplanned') {
      await client.send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalClusterId,
          TargetDbClusterIdentifier: id,
          AllowDataLoss: true,
        }),
      );
      return { detail: `FailoverGlobalCluster ${globalClusterId} → ${id} (AllowDataLoss)` };
    }
    await client.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalClusterId,
        TargetDbClusterIdentifier: id,
      }),
    );
    return { detail: `SwitchoverGlobalCluster ${globalClusterId} → ${id}` };
  }

  /** Where the region's database stands now; read-only (also `cutover readiness`). */
  async standing(region: string): Promise<Standing> {
    const id = this.databaseId(region);
    const db = this.config.database!;
    const client = this.clientFor(region);
    try {
      if (db.engine === 'rds') {
        const res = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
        const inst = res.DBInstances?.[0];
        if (!inst) throw new DatabaseError(`${id} not found in ${region}`);
        return instanceStanding(inst);
      }
      const [clusters, globals] = await Promise.all([
        client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })),
        client.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: db.globalClusterId })),
      ]);
      const cluster = clusters.DBClusters?.[0];
      if (!cluster) throw new DatabaseError(`${id} not found in ${region}`);
      // Matched by name rather than taken first: moto answers with every global cluster there is.
      const gc = globals.GlobalClusters?.find((g) => g.GlobalClusterIdentifier === db.globalClusterId);
      if (!gc) throw new DatabaseError(`global cluster ${db.globalClusterId} not found`);
      return clusterStanding(cluster, gc);
    } catch (err) {
      if (err instanceof DatabaseError) throw err;
      throw mapAwsError(err, `describe ${id} in ${region}`, DatabaseError);
    }
  }

  private databaseId(region: string): string {
    const r = [this.config.primary, this.config.standby].find((x) => x.region === region);
    if (!r?.databaseId) throw new DatabaseError(`no databaseId for ${region}`);
    return r.databaseId;
  }
}
