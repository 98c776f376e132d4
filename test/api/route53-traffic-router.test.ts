import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { Route53TrafficRouter } from '#adapters/aws/route53-traffic-router.js';
import { TransientError } from '#core/errors.js';
import { TrafficError } from '#core/failover-errors.js';
import { exampleConfig } from '../support/fixtures.js';
import { record } from '../support/machine-harness.js';

// Behaviour against Route 53's API runs on moto (test/aws/route53-traffic-router.test.ts); these assert what moto
// does not check: the exact list query and batch (comment, order), and errors moto never returns (throttling).
const r53 = mockClient(Route53Client);
afterEach(() => r53.reset());

const weighted = () => new Route53TrafficRouter(new Route53Client({ region: 'us-east-1' }), exampleConfig());
const failover = () =>
  new Route53TrafficRouter(
    new Route53Client({ region: 'us-east-1' }),
    exampleConfig((c) => {
      c.traffic.routing = 'failover';
    }),
  );

const list = (a: object, b: object) =>
  r53.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [
      { ...record('us-east-1', 'orders-us-east-1', 100), ...a },
      { ...record('us-west-2', 'orders-us-west-2', 0), ...b },
      { Name: 'other.example.com.', Type: 'CNAME', SetIdentifier: 'orders-us-east-1', Weight: 7 },
    ],
    IsTruncated: false,
    MaxItems: 100,
  });
const changeOk = () =>
  r53
    .on(ChangeResourceRecordSetsCommand)
    .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });

describe('Route53TrafficRouter (weighted)', () => {
  it('never leaves every weight at 0: with the standby still at 0, stop changes nothing and says why', async () => {
    list({}, {});
    changeOk();
    const stop = await weighted().stopTraffic('us-east-1');
    expect(stop).toEqual({ changeId: null, detail: expect.stringContaining('every record at weight 0') });
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toEqual([]);
  });

  it('stops traffic with one UPSERT of the region record at weight 0, keeping its value and TTL', async () => {
    list({}, { Weight: 10 });
    changeOk();
    expect(await weighted().stopTraffic('us-east-1')).toMatchObject({ changeId: '/change/C1' });
    expect(r53.commandCalls(ListResourceRecordSetsCommand)[0]!.args[0].input).toEqual({
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      StartRecordName: 'orders.example.com',
      StartRecordType: 'CNAME',
      MaxItems: 100,
    });
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input).toEqual({
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      ChangeBatch: {
        Comment: 'cutover: weight 0 for us-east-1',
        Changes: [{ Action: 'UPSERT', ResourceRecordSet: { ...record('us-east-1', 'orders-us-east-1', 0) } }],
      },
    });
  });

  it('maps throttling and 5xx to TransientError, the rest to TrafficError', async () => {
    list({}, { Weight: 10 });
    r53
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );
    await expect(weighted().stopTraffic('us-east-1')).rejects.toBeInstanceOf(TransientError);
    r53.on(ChangeResourceRecordSetsCommand).rejectsOnce(
      Object.assign(new Error('Invalid change'), {
        name: 'InvalidChangeBatch',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(weighted().stopTraffic('us-east-1')).rejects.toBeInstanceOf(TrafficError);
    r53
      .on(GetChangeCommand)
      .rejects(
        Object.assign(new Error('boom'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }),
      );
    await expect(weighted().changeStatus('/change/C9')).rejects.toBeInstanceOf(TransientError);
  });

  it('refuses when the records are not there, naming them', async () => {
    r53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 100 });
    await expect(weighted().stopTraffic('us-east-1')).rejects.toThrow(
      /orders-us-east-1 and orders-us-west-2/,
    );
  });
});

describe('Route53TrafficRouter (failover routing)', () => {
  const primary = { Weight: undefined, Failover: 'PRIMARY', HealthCheckId: 'hc-1' };
  const secondary = { Weight: undefined, Failover: 'SECONDARY', HealthCheckId: 'hc-2' };

  it('does not touch DNS to stop traffic: the health check steers away, and nothing may go to the standby yet', async () => {
    expect(await failover().stopTraffic('us-east-1')).toMatchObject({ changeId: null });
    expect(r53.calls()).toHaveLength(0);
  });

  it('swaps PRIMARY and SECONDARY in one all-or-nothing batch', async () => {
    list(primary, secondary);
    changeOk();
    await failover().routeTo('us-west-2', 100);
    const changes = r53.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch?.Changes;
    expect(
      changes?.map((c) => [c.Action, c.ResourceRecordSet?.SetIdentifier, c.ResourceRecordSet?.Failover]),
    ).toEqual([
      ['DELETE', 'orders-us-west-2', 'SECONDARY'],
      ['DELETE', 'orders-us-east-1', 'PRIMARY'],
      ['CREATE', 'orders-us-west-2', 'PRIMARY'],
      ['CREATE', 'orders-us-east-1', 'SECONDARY'],
    ]);
    expect(changes?.[2]?.ResourceRecordSet?.HealthCheckId).toBe('hc-2');
  });

  it('refuses a partial weight', async () => {
    list(primary, secondary);
    await expect(failover().routeTo('us-west-2', 50)).rejects.toBeInstanceOf(TrafficError);
  });
});
