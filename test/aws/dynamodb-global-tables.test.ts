import { createServer } from 'node:net';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { GlobalTablesPromoter, ReplicationLatencyReader } from '#adapters/aws/dynamodb-global-tables.js';
import { eligibility } from '#core/eligibility.js';
import { MetricsError } from '#core/failover-errors.js';
import { systemClock } from '#core/ports.js';
import { rpo } from '#core/rpo.js';
import { databasePorts } from '#steps/aws-deps.js';
import { exampleConfig } from '../support/fixtures.js';
import { motoClient, unique } from '../support/moto-clients.js';

const E1 = 'us-east-1';
const W2 = 'us-west-2';

/** The example with its data in DynamoDB global tables of these names. */
const configWith = (tables: string[]) =>
  exampleConfig((c) => {
    delete c.primary.databaseId;
    delete c.standby.databaseId;
    c.database = { engine: 'dynamodb', tables };
  });

/** ReplicationLatency as DynamoDB publishes it: in the source region, per table and receiving region. */
async function publish(
  source: string,
  table: string,
  receiving: string,
  points: { agoMs: number; value: number }[],
) {
  await motoClient(CloudWatchClient, source).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/DynamoDB',
      MetricData: points.map((p) => ({
        MetricName: 'ReplicationLatency',
        Dimensions: [
          { Name: 'TableName', Value: table },
          { Name: 'ReceivingRegion', Value: receiving },
        ],
        Timestamp: new Date(Date.now() - p.agoMs),
        Value: p.value,
        Unit: 'Milliseconds',
      })),
    }),
  );
}

const reader = (tables: string[], clientFor = (region: string) => motoClient(CloudWatchClient, region)) =>
  new ReplicationLatencyReader(clientFor, configWith(tables), systemClock);

describe('ReplicationLatencyReader on moto', () => {
  it('reads the worst table into the target, from the source region, at the oldest newest datapoint', async () => {
    const [items, carts] = [unique('items'), unique('carts')];
    await publish(E1, items, W2, [
      { agoMs: 170_000, value: 4_000 },
      { agoMs: 5_000, value: 800 },
    ]);
    await publish(E1, carts, W2, [{ agoMs: 65_000, value: 1_200 }]);
    // The other direction, and the target region's own CloudWatch, are not this reading.
    await publish(W2, items, E1, [{ agoMs: 1_000, value: 99_000 }]);
    await publish(W2, carts, W2, [{ agoMs: 1_000, value: 99_000 }]);
    const reading = await reader([items, carts]).read(W2);
    expect(reading.lagMs).toBe(1_200);
    // carts' newest minute is older than items': the reading is only as new as its oldest table.
    expect(reading.at).toBeLessThan(Date.now() - 60_000);
    expect(reading.at).toBeGreaterThan(Date.now() - 180_000);
  });

  it('is unknown when one table has no datapoint in the lookback, never the other tables alone', async () => {
    const [busy, quiet] = [unique('busy'), unique('quiet')];
    await publish(E1, busy, W2, [{ agoMs: 2_000, value: 300 }]);
    await publish(E1, quiet, W2, [{ agoMs: 10 * 60_000, value: 300 }]);
    expect(await reader([busy, quiet]).read(W2)).toEqual({ lagMs: null, at: null });
    expect((await reader([busy]).read(W2)).lagMs).toBe(300);
  });

  it('is unknown, not an error, when the source region does not answer (the failed region)', async () => {
    const table = unique('items');
    await publish(E1, table, W2, [{ agoMs: 2_000, value: 300 }]);
    // A port that refuses connections stands in for a region that is down.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const down = (region: string) =>
      region === E1
        ? new CloudWatchClient({
            region,
            endpoint: `http://127.0.0.1:${closed}`,
            credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
            maxAttempts: 1,
          })
        : motoClient(CloudWatchClient, region);
    expect(await reader([table], down).read(W2)).toEqual({ lagMs: null, at: null });
  });

  it('refuses a region that is not an application region, before any call', async () => {
    await expect(reader(['items']).read('eu-west-1')).rejects.toBeInstanceOf(MetricsError);
  });

  it('feeds the RPO guard: a reading newer than the fence promotes, an older one is unknown', async () => {
    const table = unique('items');
    await publish(E1, table, W2, [{ agoMs: 3_000, value: 700 }]);
    const lag = await reader([table]).read(W2);
    const config = configWith([table]);
    const promoter = new GlobalTablesPromoter(config);
    const database = await promoter.status(W2);
    const target = eligibility({
      to: W2,
      primary: E1,
      mark: null,
      database,
      lag,
      promotedByThisIncident: false,
    });
    expect(target).toMatchObject({ eligible: true, code: 'REPLICA' });
    const guard = (fencedAt: number) =>
      rpo({
        lag,
        fencedAt,
        budgetMs: 5_000,
        attempt: 6,
        maxAttempts: 6,
        policy: 'ask',
        to: W2,
        target,
        dataLossAccepted: false,
      });
    expect(guard(lag.at! - 1)).toMatchObject({ action: 'promote', code: 'WITHIN_BUDGET' });
    expect(guard(lag.at!)).toMatchObject({ action: 'ask', code: 'OVER_BUDGET_POLICY' });
    expect(guard(lag.at!).reason).toContain('unknown (the reading of 700 ms predates the fence)');
  });
});

describe('the dynamodb engine in the step dependencies', () => {
  it('picks the global tables promoter and the ReplicationLatency reader, which reads moto', async () => {
    const table = unique('items');
    await publish(E1, table, W2, [{ agoMs: 2_000, value: 450 }]);
    const ports = databasePorts(
      configWith([table]),
      {
        rdsFor: () => {
          throw new Error('no RDS for global tables');
        },
        cloudWatchFor: (region) => motoClient(CloudWatchClient, region),
      },
      systemClock,
    );
    expect([ports.database, ports.lag].map((p) => p.constructor.name)).toEqual([
      'GlobalTablesPromoter',
      'ReplicationLatencyReader',
    ]);
    expect((await ports.lag.read(W2)).lagMs).toBe(450);
    expect(await ports.database.status(W2)).toEqual({
      writable: true,
      everyRegionWritable: true,
      detail: expect.stringContaining(
        'every replica takes writes, so there is nothing to promote in us-west-2',
      ),
    });
    expect((await ports.database.promote(W2, 'unplanned')).detail).toMatch(/^nothing promoted in us-west-2/);
  });
});
