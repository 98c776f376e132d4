import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drillConfig, scaledDrillConfig, TIME_SCALE } from '../drill-config.js';
import { SetupError } from '../dynamodb-local.js';
import { listOrders } from '../sample-app.js';
import { Timeline } from '../timeline.js';
import { DrillContext } from './context.js';
import { LocalControl, prepareMachines } from './control.js';
import { watchPeakMemory } from './memory.js';
import {
  type AckedWrite,
  attributeLost,
  computeNumbers,
  type DrillReportOf,
  type FinalRow,
  hooksMs,
  phasesOf,
  reasonsOf,
  stepTimings,
} from './report.js';
import { renderReportHtml } from './report-html.js';
import { type Outcome, SCENARIOS, type ScenarioName, scenarios } from './scenarios.js';
import { DEFAULT_RATE, DrillStack } from './stack.js';

export interface DrillOptions {
  scenario: ScenarioName;
  seed?: number;
  out?: string;
  approve?: boolean;
  live?: boolean;
  write?: (line: string) => void;
  /** Synchronous replication (a commit waits for the standby); asynchronous by default. */
  synchronous?: boolean;
  /** Tests only (see StackOptions.unsafeBypassGuard). */
  unsafeBypassGuard?: boolean;
  /**
   * A user's configuration (parsed JSON) to rehearse instead of the compressed example, and where it came from
   * (`cutover drill --config FILE`). Validated as written, then with its timings divided by `timeScale`.
   */
  config?: { input: unknown; source: string };
  /** Divides the configuration's timings (and AWS's edge timings): default 1 with `config`, else 20. */
  timeScale?: number;
  /** Writes a second the clients send (default 100). */
  rate?: number;
  /**
   * Divides AWS's fixed edge timings (Route 53's check interval, record TTL, propagation) when it must differ from
   * `timeScale`: bench/peer.bench.ts rehearses a 20 s lease as written (scale 1) behind the drill's usual compressed
   * edge (20), since the peer's clients find their leader by polling, not through DNS. Not a CLI option.
   */
  edgeTimeScale?: number;
}

export type DrillReport = DrillReportOf<ScenarioName>;

/** How the built-in drill configuration differs from the example: its own compressed timings (drill-config.ts). */
const DRILL_CONFIG_NOTE = `drill timings of infra/local/drill-config.ts, AWS edge timings ÷ ${TIME_SCALE}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small deterministic generator (mulberry32), so that a seed replays the same fault timing. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs one scenario end to end and writes the brief's artifacts. Throws SetupError for a setup problem. */
export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const scenario = scenarios[opts.scenario];
  if (!scenario) throw new SetupError(`unknown scenario ${opts.scenario}; one of: ${SCENARIOS.join(', ')}`);
  const seed = opts.seed ?? 1;
  const rand = random(seed);
  // A planned failback is started by an operator who means it: the drill's approver says yes to it.
  const approve = (opts.approve ?? false) || scenario.name === 'failback';
  const timeScale = opts.timeScale ?? (opts.config ? 1 : TIME_SCALE);
  const rate = opts.rate ?? DEFAULT_RATE;
  // A configuration the rules refuse (as written, or once scaled) throws DrillConfigError before anything starts.
  const config = opts.config
    ? scaledDrillConfig(opts.config.input, timeScale, (raw) => scenario.configure?.(raw), opts.config.source)
    : drillConfig((raw) => scenario.configure?.(raw));
  const configSource =
    opts.config?.source ?? `examples/cutover.example.json, compressed (${DRILL_CONFIG_NOTE})`;
  const timeline = new Timeline({ live: opts.live ?? false, ...(opts.write ? { write: opts.write } : {}) });
  timeline.record('drill', 'drill_started', {
    scenario: scenario.name,
    seed,
    approve,
    config: configSource,
    timeScale: opts.edgeTimeScale ?? timeScale,
    rate,
  });
  const skewMs = scenario.skew?.(config) ?? {};
  prepareMachines(config.controlRegions);
  const stack = new DrillStack({
    config,
    timeline,
    synchronous: opts.synchronous ?? scenario.synchronous ?? false,
    skewMs,
    unsafeBypassGuard: opts.unsafeBypassGuard ?? false,
    timeScale: opts.edgeTimeScale ?? timeScale,
    rate,
  });
  if (Object.keys(skewMs).length) timeline.record('drill', 'clock_skew', { skewMs });
  const started = Date.now();
  const peakMemory = watchPeakMemory();

  const onSignal = () => {
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await stack.start();
    const control = new LocalControl(stack, { approve });
    stack.startClients(`s${seed}`);
    const ctx = new DrillContext(stack, control, approve);
    // Settle: every watcher has voted and the guard has seen the lease; then a seeded jitter before the fault.
    await sleep(4 * config.probe.intervalMs + Math.floor(rand() * 500));
    timeline.record('drill', 'scenario_started', { scenario: scenario.name, summary: scenario.summary });
    await scenario.run(ctx);
    timeline.record('drill', 'scenario_finished', {});

    const acked: AckedWrite[] = [...(await stack.stopClients()), ...(await ctx.stopLocalClients())];
    const achievedRate = stack.achievedRate();
    const clientsFrom = stack.clientsStartedAt();
    const beforeFault =
      ctx.faultAt === null || clientsFrom === null || ctx.faultAt <= clientsFrom
        ? null
        : Math.round(
            (acked.filter((a) => a.at < ctx.faultAt! && !a.id.startsWith('local-')).length /
              ((ctx.faultAt - clientsFrom) / 1_000)) *
              10,
          ) / 10;
    // The second before the fault, the clients' first second (connections, the control plane starting) behind them:
    // the write rate in the window the fence acts on.
    const lastSecond =
      ctx.faultAt === null || clientsFrom === null || ctx.faultAt - clientsFrom < 2_000
        ? null
        : acked.filter(
            (a) => a.at >= ctx.faultAt! - 1_000 && a.at < ctx.faultAt! && !a.id.startsWith('local-'),
          ).length;
    await Promise.race([control.settle(), sleep(15_000)]);
    const lease = await stack.leases.read(config.application).catch(() => null);
    // The final primary is the lease holder. With the lease revoked (an aborted failover) nobody holds it and
    // nothing was promoted: the database of record is still the last one granted the lease. A dead final
    // primary's data directory is read after it restarts: its writes are unavailable, not lost.
    const lastGranted = timeline.events.filter((e) => e.type === 'lease_granted').at(-1)?.region;
    const finalRegion =
      lease?.holder ?? (typeof lastGranted === 'string' ? lastGranted : config.primary.region);
    await stack.restartDatabase(finalRegion).catch((err) => {
      timeline.record('drill', 'final_database_not_restarted', { region: finalRegion, error: String(err) });
    });
    const finalRows: FinalRow[] = (
      await listOrders(stack.region(finalRegion).db.endpoint).catch((err) => {
        timeline.record('drill', 'final_rows_unreadable', { region: finalRegion, error: String(err) });
        return [];
      })
    ).map((r) => ({ id: r.id, epoch: r.epoch }));
    timeline.record('drill', 'final_rows_read', { region: finalRegion, rows: finalRows.length });

    const numbers = computeNumbers(timeline.events, acked, finalRows);
    const present = new Set(finalRows.map((r) => r.id));
    const synchronous = opts.synchronous ?? scenario.synchronous ?? false;
    const lost = acked.filter((a) => !present.has(a.id));
    const lostGroups = attributeLost(lost, timeline.events, {
      faultAt: ctx.faultAt,
      lagAtFaultMs: ctx.lagAtFaultMs,
      // Synchronous replication: a write acknowledged is on the standby; none may be lost to the lag.
      allowed: (scenario.allowsLoss ?? []).filter(
        (c) => !synchronous || (c !== 'replication-lag' && c !== 'dying-primary'),
      ),
    });
    const outcome: Outcome = {
      numbers,
      config,
      timeline: timeline.events,
      approve,
      synchronous,
      lagAtFaultMs: ctx.lagAtFaultMs,
      faultAt: ctx.faultAt,
      acked,
      lost,
      lostGroups,
    };
    const checks = scenario.expect(outcome);
    const reasons = reasonsOf(checks);
    const phases = phasesOf(timeline.events, acked);
    const report: DrillReport = {
      scenario: scenario.name,
      seed,
      verdict: reasons.length ? 'fail' : 'pass',
      checks,
      reasons,
      fault_at: ctx.faultAt,
      rto_ms: numbers.rto_ms,
      phases,
      steps: { ...stepTimings(phases), ...hooksMs(timeline.events) },
      lost_acked_writes: numbers.lost_acked_writes,
      lost_writes: lostGroups,
      split_brain_writes: numbers.split_brain_writes,
      failover_executions: numbers.failover_executions,
      failovers_completed: numbers.failovers_completed,
      acked_writes: numbers.acked_writes,
      lag_at_fault_ms: ctx.lagAtFaultMs,
      peak_memory_mib: peakMemory(),
      approve,
      replication: (opts.synchronous ?? scenario.synchronous) ? 'synchronous' : 'asynchronous',
      duration_ms: Date.now() - started,
      config,
      config_source: configSource,
      time_scale: timeScale,
      edge_time_scale: opts.edgeTimeScale ?? timeScale,
      write_rate: {
        asked_per_s: rate,
        achieved_per_s: achievedRate,
        before_fault_per_s: beforeFault,
        last_second_before_fault: lastSecond,
      },
    };
    if (opts.out) writeArtifacts(opts.out, report, timeline, acked, finalRows);
    return report;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack.stop();
  }
}

export function writeArtifacts(
  out: string,
  report: DrillReport,
  timeline: Timeline,
  acked: readonly AckedWrite[],
  finalRows: readonly FinalRow[],
): void {
  mkdirSync(out, { recursive: true });
  const jsonl = (rows: readonly unknown[]) =>
    rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  writeFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'timeline.jsonl'), jsonl(timeline.events));
  writeFileSync(
    join(out, 'acked.jsonl'),
    jsonl(acked.map(({ id, region, epoch, at }) => ({ id, region, epoch, at }))),
  );
  writeFileSync(join(out, 'final-rows.jsonl'), jsonl(finalRows));
  writeFileSync(join(out, 'report.html'), renderReportHtml(report, timeline.events, acked));
}
