import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { type AggregateResult, aggregate } from '#commons/aggregate.js';
import { runProber } from '#commons/prober-loop.js';
import type { CutoverConfig } from '#core/config.js';
import { type Clock, type EventPublisher, systemClock } from '#core/ports.js';
import { type ScheduledFunction, scheduleInvocations } from './schedule.js';
import { StreamPoller } from './stream-poller.js';
import type { TableNames } from './tables.js';

export interface WatcherSpec {
  region: string;
  /** The URLs this watcher probes, each normally through its own fault proxy. */
  targets: { region: string; url: string }[];
}

export interface DetectionOptions {
  config: CutoverConfig;
  endpoint: string;
  raw: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  names: TableNames;
  events: EventPublisher;
  watchers: WatcherSpec[];
  controlRegions: string[];
  clock?: Clock;
  /** Length of one scheduled prober invocation (the real schedule is once a minute). */
  invocationMs?: number;
  log?: (source: string, type: string, fields: Record<string, unknown>) => void;
  onAggregate?: (region: string, result: AggregateResult) => void;
}

/**
 * The detection half of the control plane, run locally: one scheduled prober per watcher "region" writing to
 * the votes table, and one aggregator per control region fed by its own stream poller, as each region's
 * event source mapping would. The handlers' cores are the same code the Lambda functions run.
 */
export class LocalDetection {
  private readonly watchers = new Map<string, ScheduledFunction>();
  private readonly aggregators = new Map<string, StreamPoller>();
  private constructor(private readonly opts: DetectionOptions) {}

  static async start(opts: DetectionOptions): Promise<LocalDetection> {
    const d = new LocalDetection(opts);
    for (const region of opts.controlRegions) await d.startAggregator(region);
    for (const w of opts.watchers) d.startWatcher(w);
    return d;
  }

  private async startAggregator(region: string): Promise<void> {
    const { config, doc, names, events, log } = this.opts;
    const clock = this.opts.clock ?? systemClock;
    const deps = {
      config,
      region,
      votes: new DynamoVoteStore(doc, names.votes, config.watchers),
      leases: new DynamoLeaseStore(doc, names.control, config.lease, clock),
      control: new DynamoControlStore(doc, names.control),
      events,
      clock,
    };
    let lastLogged = '';
    const poller = new StreamPoller({
      endpoint: this.opts.endpoint,
      tableName: names.votes,
      client: this.opts.raw,
      from: 'TRIM_HORIZON',
      pollIntervalMs: 50,
      batchSize: 100,
      handler: async (records) => {
        const result = await aggregate(records, deps);
        this.opts.onAggregate?.(region, result);
        for (const d of result.decisions) {
          // Log changes only: every vote triggers a decision, and most decisions repeat the last one.
          const key = `${d.outcome.action}/${d.verdict?.code}/${'incidentId' in d.outcome ? d.outcome.incidentId : ''}`;
          if (key !== lastLogged) {
            lastLogged = key;
            log?.(`aggregator@${region}`, d.outcome.action === 'none' ? 'verdict' : d.outcome.action, {
              kind: d.verdict?.kind,
              code: d.verdict?.code ?? (d.outcome.action === 'none' ? d.outcome.code : undefined),
              ...(d.outcome.action === 'none' ? {} : { incidentId: d.outcome.incidentId }),
            });
          }
        }
        return result;
      },
      onError: (err) => log?.(`aggregator@${region}`, 'poll_error', { error: String(err) }),
      onGiveUp: (records, err) =>
        log?.(`aggregator@${region}`, 'gave_up', { records: records.length, error: String(err) }),
    });
    await poller.start();
    this.aggregators.set(region, poller);
  }

  private startWatcher(spec: WatcherSpec): void {
    const { config, doc, names, log } = this.opts;
    const clock = this.opts.clock ?? systemClock;
    const votes = new DynamoVoteStore(doc, names.votes, config.watchers);
    const invocationMs = this.opts.invocationMs ?? Math.max(10 * config.probe.intervalMs, 5_000);
    const run = scheduleInvocations({
      invocationMs,
      invoke: ({ sleep, remainingMs }) =>
        runProber({
          config,
          voter: spec.region,
          votes,
          probe: probeHealth,
          clock,
          sleep,
          remainingMs,
          targets: spec.targets,
        }),
      onError: (err) => log?.(`prober@${spec.region}`, 'invocation_failed', { error: String(err) }),
      afterErrorMs: config.probe.intervalMs,
    });
    this.watchers.set(spec.region, run);
  }

  /** The watcher region dies: it stops voting; its last votes go stale. */
  async killWatcher(region: string): Promise<void> {
    await this.watchers.get(region)?.stop();
  }

  /** A control region dies: its aggregator stops reading the stream. */
  async killControlRegion(region: string): Promise<void> {
    const poller = this.aggregators.get(region);
    this.aggregators.delete(region);
    await poller?.stop();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.watchers.keys()].map((r) => this.killWatcher(r)));
    await Promise.all([...this.aggregators.keys()].map((r) => this.killControlRegion(r)));
  }
}
