import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudWatchLagReader } from '#adapters/aws/cloudwatch-lag-reader.js';
import { TransientError } from '#core/errors.js';
import { exampleConfig } from '../support/fixtures.js';

// Reading real datapoints runs on moto (test/aws/cloudwatch-lag-reader.test.ts); these assert the exact query
// (period, statistic, window from the injected clock, ScanBy) and throttling, which moto does not produce.
const cw = mockClient(CloudWatchClient);
afterEach(() => cw.reset());
const now = 1_800_000_000_000;
const clock = { now: () => now };
const reply = (values: number[]) =>
  cw.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'lag', Values: values, Timestamps: values.map((_, i) => new Date(now - 60_000 * (i + 1))) },
    ],
  });

describe('CloudWatchLagReader', () => {
  it('reads RDS ReplicaLag (seconds) of the replica instance, newest first, in ms, with the time of the datapoint', async () => {
    reply([2, 9]);
    const reader = new CloudWatchLagReader(
      (region) => new CloudWatchClient({ region }),
      exampleConfig(),
      clock,
    );
    expect(await reader.read('us-west-2')).toEqual({ lagMs: 2000, at: now - 60_000 });
    expect(cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input).toEqual({
      MetricDataQueries: [
        {
          Id: 'lag',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/RDS',
              MetricName: 'ReplicaLag',
              Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-db-usw2' }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
          ReturnData: true,
        },
      ],
      StartTime: new Date(now - 300_000),
      EndTime: new Date(now),
      ScanBy: 'TimestampDescending',
    });
  });

  it('reads Aurora AuroraGlobalDBRPOLag (ms) by cluster identifier', async () => {
    reply([350]);
    const config = exampleConfig((c) => {
      c.database = { engine: 'aurora', globalClusterId: 'orders-global' };
      c.primary.databaseId = 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1';
      c.standby.databaseId = 'arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2';
    });
    const reader = new CloudWatchLagReader((region) => new CloudWatchClient({ region }), config, clock);
    expect(await reader.read('us-west-2')).toEqual({ lagMs: 350, at: now - 60_000 });
    const metric =
      cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries?.[0]?.MetricStat?.Metric;
    expect(metric).toEqual({
      Namespace: 'AWS/RDS',
      MetricName: 'AuroraGlobalDBRPOLag',
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'orders-usw2' }],
    });
  });

  it('maps throttling to TransientError', async () => {
    cw.on(GetMetricDataCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
    );
    const reader = new CloudWatchLagReader(
      (region) => new CloudWatchClient({ region }),
      exampleConfig(),
      clock,
    );
    await expect(reader.read('us-west-2')).rejects.toBeInstanceOf(TransientError);
  });
});
