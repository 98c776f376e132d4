import {
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  PromoteReadReplicaCommand,
  type RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import type { CutoverConfig } from '#core/config.js';
import { DatabaseError } from '#core/failover-errors.js';
import type { DatabasePromoter, DatabaseStatus, PromoteMode } from '#core/failover-ports.js';
import { mapAwsError } from './aws-errors.js';

type Settings = Pick<CutoverConfig, 'primary' | 'standby'> & { database?: CutoverConfig['database'] };

/** A global cluster's failover or switchover in flight (DescribeGlobalClusters FailoverState.Status). */
const IN_FLIGHT = new Set(['pending', 'failing-over', 'switching-over', 'cancelling']);

/**
 * Promotes the database of a region. RDS: PromoteReadReplica on the region's cross-region read replica (for a
 * planned failback too: the replica has replayed everything once the lag is 0). Aurora global database:
 * FailoverGlobalCluster with AllowDataLoss for an unplanned failover, SwitchoverGlobalCluster for a planned
 * one (RDS API reference). Calls go to the target region, which is the one that is up.
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
    const db = this.config.database!;
    const client = this.clientFor(region);
    try {
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
    } catch (err) {
      throw mapAwsError(err, `promote ${id} in ${region}`, DatabaseError);
    }
  }

  async status(region: string): Promise<DatabaseStatus> {
    const id = this.databaseId(region);
    const db = this.config.database!;
    const client = this.clientFor(region);
    try {
      if (db.engine === 'rds') {
        const res = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
        const inst = res.DBInstances?.[0];
        if (!inst) throw new DatabaseError(`${id} not found in ${region}`);
        const source = inst.ReadReplicaSourceDBInstanceIdentifier;
        // Promotion goes through "modifying"/"rebooting" and drops the source; writable once both are done.
        const writable = inst.DBInstanceStatus === 'available' && !source;
        return {
          writable,
          detail: `${id} ${inst.DBInstanceStatus}${source ? `, replica of ${source}` : ''}`,
        };
      }
      const res = await client.send(
        new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: db.globalClusterId }),
      );
      const gc = res.GlobalClusters?.[0];
      if (!gc) throw new DatabaseError(`global cluster ${db.globalClusterId} not found`);
      const member = gc.GlobalClusterMembers?.find((m) => m.DBClusterArn === id);
      if (!member) throw new DatabaseError(`${id} is not a member of ${db.globalClusterId}`);
      const failover = gc.FailoverState?.Status;
      const writable =
        member.IsWriter === true && gc.Status === 'available' && !IN_FLIGHT.has(failover ?? '');
      return {
        writable,
        detail: `${id} ${member.IsWriter ? 'writer' : 'reader'}, global cluster ${gc.Status}${failover ? `, ${failover}` : ''}`,
      };
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
