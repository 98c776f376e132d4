import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { CutoverConfig } from '#core/config.js';
import { MetricsError } from '#core/failover-errors.js';
import type { LagReading, ReplicationLagReader } from '#core/failover-ports.js';
import type { Clock } from '#core/ports.js';
import { mapAwsError } from './aws-errors.js';

type Settings = Pick<CutoverConfig, 'primary' | 'standby'> & { database?: CutoverConfig['database'] };

/**
 * Replication lag from CloudWatch, in the replica's region: RDS `ReplicaLag` (seconds, per DB instance; -1
 * when replication is not running) or Aurora `AuroraGlobalDBRPOLag` (milliseconds, per secondary cluster).
 * Both are published about once a minute, so a reading can be up to a minute old: the RPO guard reads it
 * after the fence, when the lag can only shrink.
 */
export class CloudWatchLagReader implements ReplicationLagReader {
  constructor(
    private readonly clientFor: (region: string) => CloudWatchClient,
    private readonly config: Settings,
    private readonly clock: Clock,
    private readonly lookbackMs = 5 * 60_000,
  ) {
    if (!config.database) throw new MetricsError('database is not configured');
  }

  async read(region: string): Promise<LagReading> {
    const r = [this.config.primary, this.config.standby].find((x) => x.region === region);
    if (!r?.databaseId) throw new MetricsError(`no databaseId for ${region}`);
    const aurora = this.config.database!.engine === 'aurora';
    const now = this.clock.now();
    const metric = aurora
      ? {
          Namespace: 'AWS/RDS',
          MetricName: 'AuroraGlobalDBRPOLag',
          // The cluster dimension takes the identifier; databaseId holds the cluster ARN for Aurora.
          Dimensions: [{ Name: 'DBClusterIdentifier', Value: r.databaseId.split(':').at(-1)! }],
        }
      : {
          Namespace: 'AWS/RDS',
          MetricName: 'ReplicaLag',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: r.databaseId }],
        };
    try {
      const res = await this.clientFor(region).send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            { Id: 'lag', MetricStat: { Metric: metric, Period: 60, Stat: 'Maximum' }, ReturnData: true },
          ],
          StartTime: new Date(now - this.lookbackMs),
          EndTime: new Date(now),
          ScanBy: 'TimestampDescending',
        }),
      );
      const result = res.MetricDataResults?.find((m) => m.Id === 'lag');
      const value = result?.Values?.[0];
      // The datapoint's own time, not the query's: the decisions compare it with the fence.
      const at = result?.Timestamps?.[0]?.getTime() ?? null;
      if (value === undefined || value < 0) return { lagMs: null, at };
      return { lagMs: Math.round(aurora ? value : value * 1000), at };
    } catch (err) {
      throw mapAwsError(err, `read ${metric.MetricName} of ${r.databaseId}`, MetricsError);
    }
  }
}
