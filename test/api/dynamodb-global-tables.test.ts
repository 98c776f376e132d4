import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplicationLatencyReader } from '#adapters/aws/dynamodb-global-tables.js';
import { MetricsError } from '#core/failover-errors.js';
import { exampleConfig } from '../support/fixtures.js';

// Reading real datapoints runs on moto (test/aws/dynamodb-global-tables.test.ts); these assert the exact query
// and the errors moto does not produce: a refusal that no retry fixes, and throttling in the failed region.
const cw = mockClient(CloudWatchClient);
afterEach(() => cw.reset());
const now = 1_800_000_000_000;
const regionsAsked: string[] = [];
const reader = () =>
  new ReplicationLatencyReader(
    (region) => {
      regionsAsked.push(region);
      return new CloudWatchClient({ region });
    },
    exampleConfig((c) => {
      delete c.primary.databaseId;
      delete c.standby.databaseId;
      c.database = { engine: 'dynamodb', tables: ['carts-items', 'carts-sessions'] };
    }),
    { now: () => now },
  );
const fail = (name: string, fault: 'client' | 'server', status: number) =>
  new CloudWatchServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: name,
  });

describe('ReplicationLatencyReader', () => {
  it('asks the source region for each table into the target: maximum per minute, newest first', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 't0', Values: [120], Timestamps: [new Date(now - 60_000)] },
        { Id: 't1', Values: [90], Timestamps: [new Date(now - 120_000)] },
      ],
    });
    regionsAsked.length = 0;
    expect(await reader().read('us-west-2')).toEqual({ lagMs: 120, at: now - 120_000 });
    expect(regionsAsked).toEqual(['us-east-1']);
    const query = (table: string, id: string) => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/DynamoDB',
          MetricName: 'ReplicationLatency',
          Dimensions: [
            { Name: 'TableName', Value: table },
            { Name: 'ReceivingRegion', Value: 'us-west-2' },
          ],
        },
        Period: 60,
        Stat: 'Maximum',
      },
      ReturnData: true,
    });
    expect(cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input).toEqual({
      MetricDataQueries: [query('carts-items', 't0'), query('carts-sessions', 't1')],
      StartTime: new Date(now - 300_000),
      EndTime: new Date(now),
      ScanBy: 'TimestampDescending',
    });
  });

  it('reads the other way for a failback: the standby is the source', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    regionsAsked.length = 0;
    expect(await reader().read('us-east-1')).toEqual({ lagMs: null, at: null });
    expect(regionsAsked).toEqual(['us-west-2']);
  });

  it('takes throttling or a 5xx in the source region as an unknown lag, not a failed step', async () => {
    cw.on(GetMetricDataCommand).rejects(fail('Throttling', 'client', 400));
    expect(await reader().read('us-west-2')).toEqual({ lagMs: null, at: null });
    cw.on(GetMetricDataCommand).rejects(fail('InternalServiceError', 'server', 500));
    expect(await reader().read('us-west-2')).toEqual({ lagMs: null, at: null });
  });

  it('maps a refusal that no retry fixes to MetricsError, naming the source and the target', async () => {
    cw.on(GetMetricDataCommand).rejects(fail('AccessDenied', 'client', 403));
    const err = await reader()
      .read('us-west-2')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsError);
    expect((err as Error).message).toBe(
      'could not read ReplicationLatency from us-east-1 into us-west-2: AccessDenied: AccessDenied',
    );
  });
});
