import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import type { CutoverConfig } from '#core/config.js';
import { systemClock } from '#core/ports.js';
import { LocalDetection } from './detection.js';
import { drillConfig } from './drill-config.js';
import { startDynamoDbLocal } from './dynamodb-local.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { createTables, localClients } from './tables.js';
import { Timeline } from './timeline.js';

export interface DetectionDemoResult {
  partialOutage: { failoverRequests: number };
  regionOutage: {
    failoverRequests: number;
    detectionMs: number | null;
    /** When the primary's server stopped, and the first request's detail (its evidence has every vote's streak). */
    killedAt: number;
    request: Record<string, unknown> | null;
  };
  config: CutoverConfig;
  timeline: Timeline;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The detection path end to end on one machine: DynamoDB Local, five probers behind their own fault proxies,
 * two application servers, two aggregators on the real stream. First two of the five watchers lose sight of
 * the primary (no failover may be requested); then the primary's server stops (exactly one request).
 */
export async function runDetectionDemo(opts: { live?: boolean } = {}): Promise<DetectionDemoResult> {
  const timeline = new Timeline({ live: opts.live ?? false });
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  try {
    const ddb = await startDynamoDbLocal();
    cleanup.push(() => ddb.stop());
    const { raw, doc } = localClients(ddb.endpoint);
    cleanup.push(() => raw.destroy());
    const names = { votes: 'cutover-votes', control: 'cutover-control' };
    await createTables(raw, names);
    timeline.record('drill', 'stack_ready', { dynamodb: ddb.endpoint });

    const servers = new Map<string, Server>();
    for (const region of ['us-east-1', 'us-west-2']) {
      const s = createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      servers.set(region, s);
      cleanup.push(
        () =>
          new Promise((r) => {
            s.closeAllConnections();
            s.close(() => r(undefined));
          }),
      );
    }
    // No state machine runs here to claim the incident: a survivor must not take the unclaimed request over.
    const config = drillConfig((raw) => {
      raw.takeoverAfterMs = 600_000;
    });
    const links = new Map<string, FaultProxy>();
    const watchers = [];
    for (const voter of config.watchers) {
      const targets = [];
      for (const [region, server] of servers) {
        const proxy = await startFaultProxy({
          name: `${voter}->${region}`,
          target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
        });
        cleanup.push(() => proxy.stop());
        links.set(`${voter}->${region}`, proxy);
        targets.push({ region, url: `${proxy.url}/health` });
      }
      watchers.push({ region: voter, targets });
    }
    const leases = new DynamoLeaseStore(doc, names.control, config.lease, systemClock);
    const bootstrap = await leases.acquire(config.application, config.primary.region, null);
    if (bootstrap.ok)
      timeline.record('lease', 'lease_granted', {
        region: config.primary.region,
        epoch: bootstrap.lease.epoch,
      });

    const events = new RecordingPublisher();
    events.subscribe((e) =>
      timeline.record('eventbus', e.detailType.toLowerCase().replaceAll(' ', '_'), {
        incidentId: e.detail.incidentId,
        code: e.detail.code ?? e.detail.verdictCode,
      }),
    );
    const detection = await LocalDetection.start({
      config,
      endpoint: ddb.endpoint,
      raw,
      doc,
      names,
      events,
      watchers,
      controlRegions: config.controlRegions,
      log: (source, type, fields) => timeline.record(source, type, fields),
    });
    cleanup.push(() => detection.stop());
    await sleep(3 * config.probe.intervalMs);

    const cutVoters = config.watchers.slice(0, 2);
    timeline.record('fault', 'partial_partition', { voters: cutVoters, target: config.primary.region });
    for (const v of cutVoters) links.get(`${v}->${config.primary.region}`)?.cut('reset');
    await sleep(3 * config.debounceMs);
    const partial = events.ofType('Failover Requested').length;
    for (const v of cutVoters) links.get(`${v}->${config.primary.region}`)?.heal();
    timeline.record('fault', 'healed', { voters: cutVoters });
    await sleep(3 * config.probe.intervalMs);

    const killedAt = Date.now();
    timeline.record('fault', 'primary_down', { region: config.primary.region });
    const primary = servers.get(config.primary.region)!;
    primary.closeAllConnections();
    await new Promise((r) => primary.close(() => r(undefined)));
    const deadline = Date.now() + 6 * config.debounceMs;
    while (events.ofType('Failover Requested').length === 0 && Date.now() < deadline) await sleep(25);
    const first = events.ofType('Failover Requested')[0];
    // Keep voting a while longer: duplicates would show up here.
    await sleep(2 * config.debounceMs);
    return {
      partialOutage: { failoverRequests: partial },
      regionOutage: {
        failoverRequests: events.ofType('Failover Requested').length,
        detectionMs: first ? first.at - killedAt : null,
        killedAt,
        request: first?.detail ?? null,
      },
      config,
      timeline,
    };
  } finally {
    for (const fn of cleanup.reverse()) await fn();
  }
}
