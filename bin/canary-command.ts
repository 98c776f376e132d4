import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { trafficRouterFor } from '#adapters/aws/traffic-ports.js';
import { type CanaryDeps, type CanaryReport, runCanary } from '#commons/canary-run.js';
import {
  CANARY_DEFAULTS,
  type CanaryControlState,
  CanaryInputError,
  canaryControlRefusal,
  canaryRefusalReason,
  type Probe,
  parseDuration,
  parsePercent,
} from '#core/canary.js';
import type { CutoverConfig } from '#core/config.js';
import type { TrafficRouter } from '#core/failover-ports.js';
import { type Clock, systemClock } from '#core/ports.js';
import { loadConfig } from './config-file.js';
import {
  type ControlTable,
  flags,
  type Io,
  openControlTable,
  processIo,
  required,
  tableError,
  tableFlags,
  UsageError,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

const USAGE = usageOf('canary');
// The incident sort key pads the epoch to 12 digits, so this bounds "any epoch" (as `cutover status` does).
const LAST_EPOCH = 999_999_999_999;

export interface CanaryCommandDeps {
  io?: Io;
  router?: (config: CutoverConfig) => TrafficRouter;
  /** Aborted by Ctrl-C in the CLI; tests abort it themselves. */
  signal?: AbortSignal;
  /** The control table's client (as for `cutover status`); tests point it at moto or DynamoDB Local. */
  client?: (table: ControlTable) => DynamoDBDocumentClient;
  clock?: Clock;
}

/**
 * `cutover canary`: the simulated failover. Sends --percent of the traffic to the standby through the configured
 * traffic layer's planned path (weighted records: a weight change; accelerator: the traffic dials), probes both
 * regions every interval, rolls back on a breach, at the end, or on Ctrl-C, and writes report.json and
 * timeline.jsonl. Exit 0 pass, 1 fail (a breach, a refused configuration, or a rollback that failed), 2 usage.
 */
export async function canaryCommand(argv: string[], deps: CanaryCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  return withUsage(io, USAGE, async () => {
    const v = flags(argv, {
      config: { type: 'string' },
      percent: { type: 'string', default: '5' },
      duration: { type: 'string', default: '10m' },
      'interval-ms': { type: 'string' },
      'probe-path': { type: 'string' },
      'latency-slack-ms': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...tableFlags,
    });
    let percent: number;
    let durationMs: number;
    try {
      percent = parsePercent(v.percent!);
      durationMs = parseDuration(v.duration!);
    } catch (err) {
      if (err instanceof CanaryInputError) throw new UsageError(err.message);
      throw err;
    }
    const intervalMs = v['interval-ms'] === undefined ? CANARY_DEFAULTS.intervalMs : Number(v['interval-ms']);
    if (!Number.isInteger(intervalMs) || intervalMs < 50 || intervalMs > 60_000) {
      throw new UsageError(
        `--interval-ms must be a whole number from 50 to 60000, got ${JSON.stringify(v['interval-ms'])}`,
      );
    }
    const slack =
      v['latency-slack-ms'] === undefined ? CANARY_DEFAULTS.latencySlackMs : Number(v['latency-slack-ms']);
    if (!Number.isInteger(slack) || slack < 0 || slack > 60_000) {
      throw new UsageError(
        `--latency-slack-ms must be a whole number from 0 to 60000, got ${JSON.stringify(v['latency-slack-ms'])}`,
      );
    }
    const probePath = v['probe-path'];
    if (probePath !== undefined && !probePath.startsWith('/')) {
      throw new UsageError(
        `--probe-path must start with /, such as /orders?limit=1, got ${JSON.stringify(probePath)}`,
      );
    }
    const config = loadConfig(required(v.config, '--config'), io);
    if (!config) return 1;
    const refusal = canaryRefusalReason(config);
    if (refusal) {
      io.err(`cannot run a canary with this configuration: ${refusal}\n`);
      return 1;
    }
    // Before any traffic change: the rollback sends everything to the configured primary, so that primary must
    // hold the lease, and no incident or pause may be in force (the same reads as `cutover status`).
    const clock = deps.clock ?? systemClock;
    const stores = openControlTable(config, v, clock, deps.client);
    let control: CanaryControlState;
    try {
      const [lease, pause, openIncident] = await Promise.all([
        stores.leases.read(config.application),
        stores.control.getPause(config.application),
        stores.control.openIncident(config.application, 0, LAST_EPOCH),
      ]);
      control = { lease, pause, openIncident };
    } catch (err) {
      io.err(`cannot run a canary: nothing changed; ${tableError(stores.table, err)}`);
      return 1;
    }
    const refused = canaryControlRefusal(control, config.primary.region, clock.now());
    if (refused) {
      io.err(`cannot run a canary now: ${refused.code}: ${refused.reason}; nothing changed\n`);
      return 1;
    }
    const out = v.out ?? join('canary-out', config.application);
    mkdirSync(out, { recursive: true });
    const timeline: string[] = [];
    const router =
      deps.router?.(config) ??
      trafficRouterFor(config, { route53: new Route53Client({ region: 'us-east-1' }) });
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    if (!deps.signal) process.once('SIGINT', onSigint);
    const signal = deps.signal ?? controller.signal;
    const urls = Object.fromEntries(
      [config.primary, config.standby].map((r) => [
        r.region,
        probePath ? new URL(probePath, r.healthUrl).toString() : r.healthUrl,
      ]),
    );
    const canaryDeps: CanaryDeps = {
      router,
      probe: (region) => probeOnce(region, urls[region]!, config.probe.responseTimeoutMs),
      clock: systemClock,
      sleep: (ms, s) =>
        new Promise((resolve) => {
          const t = setTimeout(resolve, ms);
          s.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        }),
      signal,
      timeline: (e) => timeline.push(JSON.stringify(e)),
    };
    io.err(
      `canary: sending ${percent}% of ${config.application}'s traffic to ${config.standby.region} (reads only: it holds no lease) for ${v.duration}; Ctrl-C rolls back\n`,
    );
    let report: CanaryReport;
    try {
      report = await runCanary(
        canaryDeps,
        { primary: config.primary.region, standby: config.standby.region },
        { ...CANARY_DEFAULTS, percent, durationMs, intervalMs, latencySlackMs: slack },
      );
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    const full = { ...report, traffic_mode: config.traffic!.mode, probe_urls: urls, configuration: config };
    writeFileSync(join(out, 'report.json'), `${JSON.stringify(full, null, 2)}\n`);
    writeFileSync(join(out, 'timeline.jsonl'), timeline.map((l) => `${l}\n`).join(''));
    io.out(v.json ? `${JSON.stringify(full)}\n` : formatCanary(report, out));
    return report.verdict === 'pass' ? 0 : 1;
  });
}

/** One GET of a region's own endpoint (not through the record): ok on 2xx within the response timeout. */
async function probeOnce(region: string, url: string, timeoutMs: number): Promise<Probe> {
  const at = Date.now();
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { 'user-agent': 'cutover-canary' },
    });
    await res.arrayBuffer();
    return { region, at, ok: res.ok, latencyMs: Date.now() - at, detail: `status ${res.status}` };
  } catch (err) {
    return {
      region,
      at,
      ok: false,
      latencyMs: Date.now() - at,
      detail:
        (err as Error).name === 'TimeoutError'
          ? `timeout after ${timeoutMs} ms`
          : `unreachable: ${(err as Error).message}`,
    };
  }
}

function formatCanary(r: CanaryReport, out: string): string {
  const s = (x: CanaryReport['probes']['primary']) =>
    `${x.samples} probes, ${(x.errorRate * 100).toFixed(1)}% errors, p95 ${x.p95Ms ?? '-'} ms`;
  return [
    `canary ${r.verdict.toUpperCase()}: ${r.end.code}: ${r.end.reason}`,
    `  ${r.percent}% to ${r.standby} for ${r.ran_ms} ms; to the standby: ${r.traffic.to_standby ?? 'not sent'}; rolled back: ${r.traffic.rollback ?? 'NO'}`,
    `  primary ${r.primary}: ${s(r.probes.primary)}`,
    `  standby ${r.standby}: ${s(r.probes.standby)}`,
    ...r.reasons.map((x) => `  ${x}`),
    `  artifacts: ${out}/report.json, ${out}/timeline.jsonl`,
    '',
  ].join('\n');
}
