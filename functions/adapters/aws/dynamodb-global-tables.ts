import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { CutoverConfig } from '#core/config.js';
import { DatabaseError, MetricsError } from '#core/failover-errors.js';
import type {
  DatabasePromoter,
  DatabaseStatus,
  LagReading,
  PromoteMode,
  ReplicationLagReader,
} from '#core/failover-ports.js';
import type { Clock } from '#core/ports.js';
import { isTransient, mapAwsError } from './aws-errors.js';

type Settings = Pick<CutoverConfig, 'primary' | 'standby'> & { database?: CutoverConfig['database'] };

function tablesOf(config: Settings, typed: new (message: string) => Error): string[] {
  const db = config.database;
  if (db?.engine !== 'dynamodb' || !db.tables?.length) {
    throw new typed('database.engine is not "dynamodb" with database.tables');
  }
  return db.tables;
}

/**
 * The DatabasePromoter of DynamoDB global tables (database.engine "dynamodb"). Every replica of a global table
 * takes writes in its own region (multi-active replication), so there is nothing to promote: `status` reports the
 * target writable at once, and the promote step records ALREADY_WRITABLE with this detail as the reason. The
 * lease (and the guard's fencing token) is what stops the old region writing, not the database.
 */
export class GlobalTablesPromoter implements DatabasePromoter {
  private readonly tables: string[];

  constructor(config: Settings) {
    this.tables = tablesOf(config, DatabaseError);
  }

  async status(region: string): Promise<DatabaseStatus> {
    return {
      writable: true,
      everyRegionWritable: true,
      detail: `DynamoDB global tables ${this.tables.join(', ')}: every replica takes writes, so there is nothing to promote in ${region}; the lease fences the old region`,
    };
  }

  /** Not reached through planPromote (the status is writable); if called, it promotes nothing and says so. */
  async promote(region: string, mode: PromoteMode): Promise<{ detail: string }> {
    return { detail: `nothing promoted in ${region} (${mode}): ${(await this.status(region)).detail}` };
  }
}

/**
 * Replication lag of global tables into `region` from CloudWatch `ReplicationLatency` (namespace AWS/DynamoDB,
 * milliseconds, dimensions TableName and ReceivingRegion: Amazon DynamoDB developer guide, "Monitoring global
 * tables" and "DynamoDB metrics and dimensions"). DynamoDB emits it for every source and destination pair; the
 * dimensions name only the receiving region, so the source is the region whose CloudWatch holds the datapoint,
 * and that is where this reads: the other application region, the one writes came from.
 *
 * The reading is the worst table's newest minute (maximum), taken at the oldest of the tables' newest
 * datapoints, so that "newer than the fence" holds for every table. A table without a datapoint makes the whole
 * reading unknown, never zero. In a region outage the source region's CloudWatch may not answer at all: an
 * unreachable or failing source (throttling, 5xx, network) is an unknown lag too, which the RPO guard treats as
 * over budget (core/rpo.ts); a refusal that a retry cannot fix (access denied, bad request) is a MetricsError.
 */
export class ReplicationLatencyReader implements ReplicationLagReader {
  private readonly tables: string[];

  constructor(
    private readonly clientFor: (region: string) => CloudWatchClient,
    private readonly config: Settings,
    private readonly clock: Clock,
    private readonly lookbackMs = 5 * 60_000,
  ) {
    this.tables = tablesOf(config, MetricsError);
  }

  async read(region: string): Promise<LagReading> {
    const source = [this.config.primary, this.config.standby].find((r) => r.region !== region)?.region;
    if (!source || ![this.config.primary.region, this.config.standby.region].includes(region)) {
      throw new MetricsError(`${region} is not an application region`);
    }
    const now = this.clock.now();
    let results: { Id?: string; Values?: number[]; Timestamps?: Date[] }[];
    try {
      const res = await this.clientFor(source).send(
        new GetMetricDataCommand({
          MetricDataQueries: this.tables.map((table, i) => ({
            Id: `t${i}`,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/DynamoDB',
                MetricName: 'ReplicationLatency',
                Dimensions: [
                  { Name: 'TableName', Value: table },
                  { Name: 'ReceivingRegion', Value: region },
                ],
              },
              Period: 60,
              Stat: 'Maximum',
            },
            ReturnData: true,
          })),
          StartTime: new Date(now - this.lookbackMs),
          EndTime: new Date(now),
          ScanBy: 'TimestampDescending',
        }),
      );
      results = res.MetricDataResults ?? [];
    } catch (err) {
      if (isTransient(err)) return { lagMs: null, at: null };
      throw mapAwsError(err, `read ReplicationLatency from ${source} into ${region}`, MetricsError);
    }
    let lagMs = 0;
    let at = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.tables.length; i++) {
      const r = results.find((m) => m.Id === `t${i}`);
      const value = r?.Values?.[0];
      const time = r?.Timestamps?.[0]?.getTime();
      if (value === undefined || time === undefined) return { lagMs: null, at: null };
      lagMs = Math.max(lagMs, Math.round(value));
      at = Math.min(at, time);
    }
    return { lagMs, at };
  }
}
