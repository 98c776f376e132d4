import {
  DescribeAcceleratorCommand,
  GlobalAcceleratorClient,
  ListAcceleratorsCommand,
  ListEndpointGroupsCommand,
  ListListenersCommand,
  UpdateEndpointGroupCommand,
} from '@aws-sdk/client-global-accelerator';
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AcceleratorTrafficDials } from '#adapters/aws/accelerator-traffic-dials.js';
import { trafficRouterFor } from '#adapters/aws/traffic-ports.js';
import type { HolderCheckReader } from '#core/failover-ports.js';
import { exampleConfig } from '../support/fixtures.js';
import { record } from '../support/machine-harness.js';

// moto has no Global Accelerator: the exact commands are asserted on aws-sdk-client-mock.
const ga = mockClient(GlobalAcceleratorClient);
const r53 = mockClient(Route53Client);
afterEach(() => {
  ga.reset();
  r53.reset();
});

const ACC = 'arn:aws:globalaccelerator::123456789012:accelerator/acc-1';
const OTHER = 'arn:aws:globalaccelerator::123456789012:accelerator/acc-0';
const endpoints = {
  'us-east-1': 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders/1',
  'us-west-2': 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/orders/2',
};
const group = (region: string) => `${ACC}/listener/l-1/endpoint-group/${region}`;

function accelerators() {
  ga.on(ListAcceleratorsCommand).resolves({
    Accelerators: [{ AcceleratorArn: OTHER }, { AcceleratorArn: ACC }],
  });
  ga.on(ListListenersCommand, { AcceleratorArn: OTHER }).resolves({
    Listeners: [{ ListenerArn: `${OTHER}/listener/l-0` }],
  });
  ga.on(ListListenersCommand, { AcceleratorArn: ACC }).resolves({
    Listeners: [{ ListenerArn: `${ACC}/listener/l-1` }],
  });
  ga.on(ListEndpointGroupsCommand, { ListenerArn: `${OTHER}/listener/l-0` }).resolves({
    // Another application's accelerator in the same region: not ours, because its endpoint is not.
    EndpointGroups: [
      {
        EndpointGroupArn: 'not-ours',
        EndpointGroupRegion: 'us-east-1',
        EndpointDescriptions: [{ EndpointId: 'other-lb' }],
      },
    ],
  });
  ga.on(ListEndpointGroupsCommand, { ListenerArn: `${ACC}/listener/l-1` }).resolves({
    EndpointGroups: Object.entries(endpoints).map(([region, id]) => ({
      EndpointGroupArn: group(region),
      EndpointGroupRegion: region,
      EndpointDescriptions: [{ EndpointId: id }],
      TrafficDialPercentage: 100,
    })),
  });
  ga.on(UpdateEndpointGroupCommand).resolves({});
}

const dials = () =>
  new AcceleratorTrafficDials(new GlobalAcceleratorClient({ region: 'us-west-2' }), endpoints);

describe('AcceleratorTrafficDials (planned paths only)', () => {
  it('finds the endpoint groups once by the configured endpoints, then dials a weighted step and puts both back at 100', async () => {
    accelerators();
    const router = dials();
    const step = await router.routeTo('us-west-2', 10);
    expect(step).toEqual({ changeId: `dial:${ACC}`, detail: 'traffic dial us-west-2 100, us-east-1 90' });
    await router.routeTo('us-west-2', 100);
    expect(ga.commandCalls(UpdateEndpointGroupCommand).map((c) => c.args[0].input)).toEqual([
      { EndpointGroupArn: group('us-west-2'), TrafficDialPercentage: 100 },
      { EndpointGroupArn: group('us-east-1'), TrafficDialPercentage: 90 },
      { EndpointGroupArn: group('us-west-2'), TrafficDialPercentage: 100 },
      { EndpointGroupArn: group('us-east-1'), TrafficDialPercentage: 100 },
    ]);
    // Found once, kept for the container's life.
    expect(ga.commandCalls(ListAcceleratorsCommand)).toHaveLength(1);
  });

  it('is INSYNC once the accelerator is DEPLOYED', async () => {
    ga.on(DescribeAcceleratorCommand)
      .resolvesOnce({ Accelerator: { AcceleratorArn: ACC, Status: 'IN_PROGRESS' } })
      .resolves({ Accelerator: { AcceleratorArn: ACC, Status: 'DEPLOYED' } });
    const router = dials();
    expect(await router.changeStatus(`dial:${ACC}`)).toBe('PENDING');
    expect(await router.changeStatus(`dial:${ACC}`)).toBe('INSYNC');
    expect(ga.commandCalls(DescribeAcceleratorCommand)[0]!.args[0].input).toEqual({ AcceleratorArn: ACC });
  });

  it('names the endpoints when no accelerator holds them, and touches no dial', async () => {
    ga.on(ListAcceleratorsCommand).resolves({ Accelerators: [] });
    await expect(dials().routeTo('us-west-2', 50)).rejects.toThrow(
      /no accelerator has endpoint groups for us-east-1/,
    );
    expect(ga.commandCalls(UpdateEndpointGroupCommand)).toEqual([]);
  });

  it('never dials to stop traffic: endpoint health steers the unplanned path', async () => {
    expect((await dials().stopTraffic('us-east-1')).changeId).toBeNull();
    expect(ga.calls()).toEqual([]);
  });
});

describe('ModeTrafficRouter: weighted steps by API, the rest by the holder checks', () => {
  const reader: HolderCheckReader = {
    read: async (region) => ({
      region,
      status: region === 'us-west-2' ? 200 : 503,
      body: { holding: region === 'us-west-2', holder: 'us-west-2', epoch: 3 },
      detail: 'test',
    }),
  };

  it('mode health-check: 100% follows the lease with no Route 53 call; a weighted step and the step after it use the records', async () => {
    r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        record('us-east-1', 'orders-us-east-1', 100),
        record('us-west-2', 'orders-us-west-2', 0),
      ],
      IsTruncated: false,
      MaxItems: 100,
    });
    r53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
    const router = trafficRouterFor(exampleConfig(), {
      route53: new Route53Client({ region: 'us-east-1' }),
      holderReader: reader,
    });
    const unplanned = await router.routeTo('us-west-2', 100);
    expect(unplanned.changeId).toBe('holder:us-west-2');
    expect(await router.changeStatus(unplanned.changeId!)).toBe('INSYNC');
    expect(await router.stopTraffic('us-east-1')).toMatchObject({ changeId: null });
    expect(r53.calls()).toEqual([]);

    expect((await router.routeTo('us-west-2', 10)).changeId).toBe('/change/C1');
    expect((await router.routeTo('us-west-2', 100, { afterWeightedSteps: true })).changeId).toBe(
      '/change/C1',
    );
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(2);
  });

  it('mode accelerator: the weighted steps turn the dials; 100% follows the lease with no API call', async () => {
    accelerators();
    const router = trafficRouterFor(
      exampleConfig((c) => {
        c.traffic.mode = 'accelerator';
        c.traffic.accelerator = { endpoints };
      }),
      {
        route53: new Route53Client({ region: 'us-east-1' }),
        accelerator: new GlobalAcceleratorClient({ region: 'us-west-2' }),
        holderReader: reader,
      },
    );
    expect((await router.routeTo('us-west-2', 100)).changeId).toBe('holder:us-west-2');
    expect(ga.calls()).toEqual([]);
    expect((await router.routeTo('us-west-2', 50)).changeId).toBe(`dial:${ACC}`);
    expect(ga.commandCalls(UpdateEndpointGroupCommand)).toHaveLength(2);
    expect(r53.calls()).toEqual([]);
  });
});
