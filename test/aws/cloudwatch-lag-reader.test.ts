import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CloudWatchLagReader } from '#adapters/aws/cloudwatch-lag-reader.js';
import { MetricsError } from '#core/failover-errors.js';
import { systemClock } from '#core/ports.js';
import { exampleConfig } from '../support/fixtures.js';
import { motoClient, unique } from '../support/moto-clients.js';

const W2 = 'us-west-2';

/** Datapoints as RDS publishes them, `agoMs` before now, in the replica's region. */
async function publish(
  metric: string,
  dimension: string,
  id: string,
  points: { agoMs: number; value: number }[],
) {
  await motoClient(CloudWatchClient, W2).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/RDS',
      MetricData: points.map((p) => ({
        MetricName: metric,
        Dimensions: [{ Name: dimension, Value: id }],
        Timestamp: new Date(Date.now() - p.agoMs),
        Value: p.value,
      })),
    }),
  );
}

const reader = (standbyId: string, engine: 'rds' | 'aurora' = 'rds') =>
  new CloudWatchLagReader(
    (region) => motoClient(CloudWatchClient, region),
    exampleConfig((c) => {
      if (engine === 'aurora') c.database = { engine: 'aurora', globalClusterId: 'orders-global' };
      c.standby.databaseId = standbyId;
    }),
    systemClock,
  );

describe('CloudWatchLagReader on moto', () => {
  it("reads the newest minute's maximum of RDS ReplicaLag (seconds) of the replica, in ms", async () => {
    const id = unique('replica');
    await publish('ReplicaLag', 'DBInstanceIdentifier', id, [
      { agoMs: 150_000, value: 40 },
      { agoMs: 5_000, value: 2 },
      { agoMs: 4_000, value: 3 },
    ]);
    // Another instance's lag is not this one's.
    await publish('ReplicaLag', 'DBInstanceIdentifier', unique('other'), [{ agoMs: 1_000, value: 99 }]);
    const reading = await reader(id).read(W2);
    expect(reading.lagMs).toBe(3000);
    // The reading says when it was measured: the decision that uses it compares that with the fence.
    expect(reading.at).toBeGreaterThan(Date.now() - 120_000);
  });

  it('reads Aurora AuroraGlobalDBRPOLag (ms) by the cluster identifier taken from the configured ARN', async () => {
    const cluster = unique('cluster');
    await publish('AuroraGlobalDBRPOLag', 'DBClusterIdentifier', cluster, [{ agoMs: 3_000, value: 850 }]);
    expect((await reader(`arn:aws:rds:${W2}:123456789012:cluster:${cluster}`, 'aurora').read(W2)).lagMs).toBe(
      850,
    );
  });

  it('is null when nothing was published in the lookback, or when replication is not running (-1)', async () => {
    const quiet = unique('quiet');
    await publish('ReplicaLag', 'DBInstanceIdentifier', quiet, [{ agoMs: 10 * 60_000, value: 1 }]);
    expect((await reader(quiet).read(W2)).lagMs).toBeNull();
    const stopped = unique('stopped');
    await publish('ReplicaLag', 'DBInstanceIdentifier', stopped, [{ agoMs: 2_000, value: -1 }]);
    expect((await reader(stopped).read(W2)).lagMs).toBeNull();
  });

  it('a region without a databaseId is a MetricsError, before any call', async () => {
    await expect(reader('x').read('eu-west-1')).rejects.toBeInstanceOf(MetricsError);
  });
});
