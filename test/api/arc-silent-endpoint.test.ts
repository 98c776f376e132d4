import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ArcRoutingControlRouter } from '#adapters/aws/arc-routing-controls.js';
import { arcClient } from '#adapters/aws/traffic-ports.js';
import type { ChangeStatus, TrafficChange } from '#core/failover-ports.js';

// Two local HTTP servers stand in for two ARC cluster endpoints, on the real SDK client and HTTP handler: the first
// accepts the request and never answers, the second answers as ARC does (an empty JSON document).
const EAST = 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/east';
const WEST = 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/west';
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(answer: boolean, seen: string[]): Promise<string> {
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      seen.push(`${req.headers['x-amz-target']} ${body}`);
      if (answer) res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('ARC cluster endpoints on the real HTTP handler', () => {
  it('a silent endpoint gives way to the next within its timeout (the timeout throws, it does not only warn)', async () => {
    const silent: string[] = [];
    const answering: string[] = [];
    const endpoints = [
      { region: 'us-east-1', endpoint: await serve(false, silent) },
      { region: 'eu-west-1', endpoint: await serve(true, answering) },
    ];
    const follow = {
      stopTraffic: async (): Promise<TrafficChange> => ({ changeId: null, detail: 'nothing' }),
      routeTo: async (region: string): Promise<TrafficChange> => ({
        changeId: `holder:${region}`,
        detail: '',
      }),
      changeStatus: async (): Promise<ChangeStatus> => 'INSYNC',
    };
    const local = (ep: { region: string; endpoint: string }) => {
      const c = arcClient(ep);
      c.config.credentials = async () => ({ accessKeyId: 'local', secretAccessKey: 'local' });
      return c;
    };
    const router = new ArcRoutingControlRouter(
      local,
      endpoints,
      { 'us-east-1': EAST, 'us-west-2': WEST },
      follow,
    );
    const started = performance.now();
    const change = await router.routeTo('us-west-2', 100);
    const took = performance.now() - started;
    expect(change.changeId).toBe('holder:us-west-2');
    expect(silent).toHaveLength(1);
    expect(answering).toHaveLength(1);
    expect(answering[0]).toContain('UpdateRoutingControlStates');
    expect(answering[0]).toContain(`"RoutingControlArn":"${WEST}","RoutingControlState":"On"`);
    // The silent endpoint's request timeout (3 s), then the answer: well short of the step's own timeout.
    expect(took).toBeGreaterThanOrEqual(2_900);
    expect(took).toBeLessThan(8_000);
  }, 30_000);
});
