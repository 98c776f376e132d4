import {
  EndpointTemporarilyUnavailableException,
  Route53RecoveryClusterClient,
  UpdateRoutingControlStatesCommand,
  ValidationException,
} from '@aws-sdk/client-route53-recovery-cluster';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { type ArcClusterEndpoint, ArcRoutingControlRouter } from '#adapters/aws/arc-routing-controls.js';
import { ModeTrafficRouter } from '#adapters/aws/mode-traffic-router.js';
import { trafficRouterFor } from '#adapters/aws/traffic-ports.js';
import type { ChangeStatus, TrafficChange, TrafficRouter } from '#core/failover-ports.js';
import { exampleConfig } from '../support/fixtures.js';

// moto has no Route 53 ARC: the exact commands are asserted on aws-sdk-client-mock, one mock per endpoint.
const EAST = 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/east';
const WEST = 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/west';
const endpoints: ArcClusterEndpoint[] = [
  { region: 'us-east-1', endpoint: 'https://host-aaaaaa.us-east-1.example.com/v1' },
  { region: 'ap-southeast-2', endpoint: 'https://host-bbbbbb.ap-southeast-2.example.com/v1' },
  { region: 'eu-west-1', endpoint: 'https://host-cccccc.eu-west-1.example.com/v1' },
];

/** A client per endpoint, each with its own mock, so a test can say which endpoint was asked. */
function cluster() {
  const clients = endpoints.map(
    (ep) => new Route53RecoveryClusterClient({ region: ep.region, endpoint: ep.endpoint }),
  );
  const mocks = clients.map((c) => mockClient(c));
  const clientFor = (ep: ArcClusterEndpoint) =>
    clients[endpoints.findIndex((e) => e.endpoint === ep.endpoint)]!;
  return { mocks, clientFor };
}

/** The holder-check side, as the health-check router answers: a pseudo change that the status poll resolves. */
const follow = (): TrafficRouter & { routed: string[] } => {
  const routed: string[] = [];
  return {
    routed,
    stopTraffic: async (): Promise<TrafficChange> => ({ changeId: null, detail: 'nothing' }),
    routeTo: async (region): Promise<TrafficChange> => {
      routed.push(region);
      return { changeId: `holder:${region}`, detail: `waiting for ${region}'s holder check` };
    },
    changeStatus: async (): Promise<ChangeStatus> => 'INSYNC',
  };
};

const unavailable = () =>
  new EndpointTemporarilyUnavailableException({ message: 'endpoint in maintenance', $metadata: {} });

const expected = {
  UpdateRoutingControlStateEntries: [
    { RoutingControlArn: WEST, RoutingControlState: 'On' },
    { RoutingControlArn: EAST, RoutingControlState: 'Off' },
  ],
};

describe('ArcRoutingControlRouter', () => {
  it('turns the new region On and the old Off in one request to the first endpoint, then reads the holder checks', async () => {
    const { mocks, clientFor } = cluster();
    mocks[0]!.on(UpdateRoutingControlStatesCommand).resolves({});
    const f = follow();
    const router = new ArcRoutingControlRouter(
      clientFor,
      endpoints,
      { 'us-east-1': EAST, 'us-west-2': WEST },
      f,
    );
    const change = await router.routeTo('us-west-2', 100);
    expect(change.changeId).toBe('holder:us-west-2');
    expect(change.detail).toContain('through us-east-1');
    expect(mocks[0]!.commandCalls(UpdateRoutingControlStatesCommand).map((c) => c.args[0].input)).toEqual([
      expected,
    ]);
    expect(mocks[1]!.calls()).toEqual([]);
    expect(f.routed).toEqual(['us-west-2']);
    expect(await router.changeStatus(change.changeId!)).toBe('INSYNC');
  });

  it('tries the next endpoint when one refuses or times out, and starts from the one that answered next time', async () => {
    const { mocks, clientFor } = cluster();
    mocks[0]!.on(UpdateRoutingControlStatesCommand).rejects(unavailable());
    mocks[1]!
      .on(UpdateRoutingControlStatesCommand)
      .rejects(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }));
    mocks[2]!.on(UpdateRoutingControlStatesCommand).resolves({});
    const router = new ArcRoutingControlRouter(
      clientFor,
      endpoints,
      { 'us-east-1': EAST, 'us-west-2': WEST },
      follow(),
    );
    const change = await router.routeTo('us-west-2', 100);
    expect(change.detail).toContain('through eu-west-1');
    for (const m of mocks) {
      expect(m.commandCalls(UpdateRoutingControlStatesCommand).map((c) => c.args[0].input)).toEqual([
        expected,
      ]);
    }
    // The next change goes to eu-west-1 first.
    await router.routeTo('us-east-1', 100);
    expect(mocks[2]!.commandCalls(UpdateRoutingControlStatesCommand)[1]!.args[0].input).toEqual({
      UpdateRoutingControlStateEntries: [
        { RoutingControlArn: EAST, RoutingControlState: 'On' },
        { RoutingControlArn: WEST, RoutingControlState: 'Off' },
      ],
    });
    expect(mocks[0]!.commandCalls(UpdateRoutingControlStatesCommand)).toHaveLength(1);
  });

  it('fails with every endpoint named when none answers', async () => {
    const { mocks, clientFor } = cluster();
    for (const m of mocks) m.on(UpdateRoutingControlStatesCommand).rejects(unavailable());
    const router = new ArcRoutingControlRouter(
      clientFor,
      endpoints,
      { 'us-east-1': EAST, 'us-west-2': WEST },
      follow(),
    );
    const err = (await router.routeTo('us-west-2', 100).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TrafficError');
    for (const ep of endpoints) expect(err.message).toContain(ep.region);
  });

  it('does not go round the endpoints with a request the cluster refuses for what it asks', async () => {
    const { mocks, clientFor } = cluster();
    mocks[0]!
      .on(UpdateRoutingControlStatesCommand)
      .rejects(new ValidationException({ message: 'safety rule would be broken', $metadata: {} }));
    const router = new ArcRoutingControlRouter(
      clientFor,
      endpoints,
      { 'us-east-1': EAST, 'us-west-2': WEST },
      follow(),
    );
    await expect(router.routeTo('us-west-2', 100)).rejects.toThrow(/ARC refused .*ValidationException/);
    expect(mocks[1]!.calls()).toEqual([]);
  });

  it('never turns a control Off to stop traffic (never both Off), and refuses partial weights and unknown regions', async () => {
    const { mocks, clientFor } = cluster();
    const router = new ArcRoutingControlRouter(
      clientFor,
      endpoints,
      { 'us-east-1': EAST, 'us-west-2': WEST },
      follow(),
    );
    expect((await router.stopTraffic('us-east-1')).changeId).toBeNull();
    await expect(router.routeTo('us-west-2', 50)).rejects.toThrow(/on or off/);
    await expect(router.routeTo('eu-central-1', 100)).rejects.toThrow(/no routing control for eu-central-1/);
    for (const m of mocks) expect(m.calls()).toEqual([]);
  });
});

describe('traffic port by mode', () => {
  const arcConfig = (withEndpoints: boolean) => {
    const c = exampleConfig((x) => {
      x.traffic.mode = 'arc';
      x.traffic.failbackSteps = [100];
      x.traffic.arc = {
        clusterArn: 'arn:aws:route53-recovery-control::123456789012:cluster/abc',
        routingControls: { 'us-east-1': EAST, 'us-west-2': WEST },
        clusterEndpoints: endpoints,
      };
    });
    // `config validate` refuses mode arc without endpoints; a configuration built in code may still lack them.
    if (!withEndpoints) delete c.traffic!.arc!.clusterEndpoints;
    return c;
  };

  it('mode arc: routing controls through the configured endpoints, no weighted steps', async () => {
    const { mocks, clientFor } = cluster();
    mocks[0]!.on(UpdateRoutingControlStatesCommand).resolves({});
    const router = trafficRouterFor(arcConfig(true), { route53: {} as never, arcFor: clientFor });
    expect(router).toBeInstanceOf(ModeTrafficRouter);
    expect((await router.routeTo('us-west-2', 100)).changeId).toBe('holder:us-west-2');
    await expect(router.routeTo('us-west-2', 10)).rejects.toThrow(/traffic.failbackSteps to \[100\]/);
    expect(mocks[0]!.commandCalls(UpdateRoutingControlStatesCommand)).toHaveLength(1);
  });

  it('mode arc without the cluster endpoints builds (every other step runs) and refuses to route, naming the field', async () => {
    const { mocks, clientFor } = cluster();
    const router = trafficRouterFor(arcConfig(false), { route53: {} as never, arcFor: clientFor });
    await expect(router.routeTo('us-west-2', 100)).rejects.toThrow(
      /traffic.arc.clusterEndpoints is not configured/,
    );
    for (const m of mocks) expect(m.calls()).toEqual([]);
  });
});
