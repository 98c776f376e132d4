import {
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { Route53TrafficRouter } from '#adapters/aws/route53-traffic-router.js';
import { TransientError } from '#core/errors.js';
import { TrafficError } from '#core/failover-errors.js';
import { exampleConfig } from '../support/fixtures.js';
import { motoClient, recordCommands, unique } from '../support/moto-clients.js';

const E1 = 'us-east-1';
const W2 = 'us-west-2';

/** A hosted zone in moto with the application's two records, one per region by set identifier. */
async function zoneWith(routing: 'weighted' | 'failover') {
  const r53 = motoClient(Route53Client, E1);
  const zoneName = `${unique('z')}.example.com`;
  const zone = await r53.send(
    new CreateHostedZoneCommand({ Name: zoneName, CallerReference: unique('ref') }),
  );
  const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
  const name = `orders.${zoneName}.`;
  const healthCheck = async (region: string) =>
    (
      await r53.send(
        new CreateHealthCheckCommand({
          CallerReference: unique('hc'),
          HealthCheckConfig: {
            Type: 'HTTPS',
            FullyQualifiedDomainName: `orders-${region}.example.com`,
            ResourcePath: '/health',
            Port: 443,
          },
        }),
      )
    ).HealthCheck!.Id!;
  const records: ResourceRecordSet[] = await Promise.all(
    [E1, W2].map(async (region, i) => ({
      Name: name,
      Type: 'CNAME' as const,
      SetIdentifier: `orders-${region}`,
      TTL: 60,
      ResourceRecords: [{ Value: `orders-${region}.example.com` }],
      HealthCheckId: await healthCheck(region),
      ...(routing === 'weighted'
        ? { Weight: i === 0 ? 100 : 0 }
        : { Failover: i === 0 ? ('PRIMARY' as const) : ('SECONDARY' as const) }),
    })),
  );
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: records.map((r) => ({ Action: 'CREATE', ResourceRecordSet: r })) },
    }),
  );
  const client = motoClient(Route53Client, E1);
  const sent = recordCommands(client);
  const config = exampleConfig((c) => {
    c.traffic.recordName = name.slice(0, -1);
    c.traffic.routing = routing;
  });
  // moto's zone ids do not start with Z as AWS's do, which the configuration checks; the adapter takes any.
  const router = new Route53TrafficRouter(client, {
    ...config,
    traffic: { ...config.traffic!, hostedZoneId: zoneId },
  });
  const read = async () => {
    const res = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    return (res.ResourceRecordSets ?? []).filter((r) => r.SetIdentifier);
  };
  return { router, read, records, sent };
}

const bySet = (sets: ResourceRecordSet[]) => Object.fromEntries(sets.map((s) => [s.SetIdentifier, s]));

describe('Route53TrafficRouter (weighted) on moto', () => {
  it('never stops traffic into all weights 0: with the standby at 0 nothing is changed, and it says why', async () => {
    const { router, read, records, sent } = await zoneWith('weighted');
    const change = await router.stopTraffic(E1);
    expect(change).toEqual({ changeId: null, detail: expect.stringContaining('every record at weight 0') });
    expect(bySet(await read())).toEqual(bySet(records));
    expect(sent).toEqual(['ListResourceRecordSetsCommand']);
  });

  it('stops traffic: the region record at weight 0, its value, TTL and health check kept', async () => {
    const { router, read, records, sent } = await zoneWith('weighted');
    await router.routeTo(W2, 10);
    sent.length = 0;
    const change = await router.stopTraffic(E1);
    expect(change.changeId).toMatch(/\S/);
    const after = bySet(await read());
    expect(after['orders-us-east-1']).toEqual({ ...records[0], Weight: 0 });
    expect(after['orders-us-west-2']).toEqual({ ...records[1], Weight: 10 });
    expect(sent).toEqual(['ListResourceRecordSetsCommand', 'ChangeResourceRecordSetsCommand']);
    expect(await router.changeStatus(change.changeId!)).toBe('INSYNC');
  });

  it('an API that does not answer is a TransientError (the failover reports it and goes on), records untouched', async () => {
    const { read, records } = await zoneWith('weighted');
    // Route 53's API down (the us-east-1 event): nothing listens on the endpoint.
    const down = new Route53Client({
      region: E1,
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    const router = new Route53TrafficRouter(down, exampleConfig());
    const err = await router.routeTo(W2, 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/could not list the records/);
    expect(bySet(await read())).toEqual(bySet(records));
  });

  it('routes each weighted step as one batch of both records', async () => {
    const { router, read, sent } = await zoneWith('weighted');
    for (const step of [10, 50, 100]) {
      sent.length = 0;
      await router.routeTo(W2, step);
      expect(sent).toEqual(['ListResourceRecordSetsCommand', 'ChangeResourceRecordSetsCommand']);
      const after = bySet(await read());
      expect([after['orders-us-west-2']?.Weight, after['orders-us-east-1']?.Weight]).toEqual([
        step,
        100 - step,
      ]);
    }
  });

  it('refuses, naming them, when the set identifiers are not in the zone', async () => {
    const { read } = await zoneWith('weighted');
    const other = new Route53TrafficRouter(
      motoClient(Route53Client, E1),
      exampleConfig((c) => {
        c.traffic.hostedZoneId = 'ZNOSUCHZONE';
      }),
    );
    const err = await other.stopTraffic(E1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrafficError);
    expect((err as Error).message).toMatch(/NoSuchHostedZone/);
    expect(await read()).toHaveLength(2);
  });
});

describe('Route53TrafficRouter (failover routing) on moto', () => {
  it('swaps PRIMARY and SECONDARY in one batch that Route 53 accepts, health checks kept', async () => {
    const { router, read, records } = await zoneWith('failover');
    expect((await router.stopTraffic(E1)).changeId).toBeNull();
    const change = await router.routeTo(W2, 100);
    expect(change.changeId).toMatch(/\S/);
    const after = bySet(await read());
    expect(after['orders-us-west-2']).toEqual({ ...records[1], Failover: 'PRIMARY' });
    expect(after['orders-us-east-1']).toEqual({ ...records[0], Failover: 'SECONDARY' });
    expect(await router.routeTo(W2, 100)).toEqual({ changeId: null, detail: 'us-west-2 is already PRIMARY' });
  });
});
