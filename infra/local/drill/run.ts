import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CutoverConfig } from '#core/config.js';
import { drillConfig } from '../drill-config.js';
import { SetupError } from '../dynamodb-local.js';
import { listOrders } from '../sample-app.js';
import { Timeline, type TimelineEvent } from '../timeline.js';
import { DrillContext } from './context.js';
import { LocalControl } from './control.js';
import { watchPeakMemory } from './memory.js';
import {
  type AckedWrite,
  computeNumbers,
  type FinalRow,
  type StepTimings,
  trafficPhaseMs,
} from './report.js';
import { type Outcome, SCENARIOS, type ScenarioName, scenarios } from './scenarios.js';
import { DrillStack } from './stack.js';

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
}

export interface DrillReport {
  scenario: ScenarioName;
  seed: number;
  verdict: 'pass' | 'fail';
  reasons: string[];
  rto_ms: number | null;
  steps: StepTimings;
  lost_acked_writes: number;
  split_brain_writes: number;
  failover_executions: number;
  failovers_completed: number;
  acked_writes: number;
  lag_at_fault_ms: number | null;
  /** Peak resident memory of the drill's whole process tree (an upper bound: shared pages count per process). */
  peak_memory_mib: number | null;
  approve: boolean;
  replication: 'synchronous' | 'asynchronous';
  duration_ms: number;
  config: CutoverConfig;
}

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
  const config = drillConfig((raw) => scenario.configure?.(raw));
  const timeline = new Timeline({ live: opts.live ?? false, ...(opts.write ? { write: opts.write } : {}) });
  timeline.record('drill', 'drill_started', { scenario: scenario.name, seed, approve });
  const skewMs = scenario.skew?.(config) ?? {};
  const stack = new DrillStack({
    config,
    timeline,
    synchronous: opts.synchronous ?? scenario.synchronous ?? false,
    skewMs,
    unsafeBypassGuard: opts.unsafeBypassGuard ?? false,
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
    const outcome: Outcome = {
      numbers,
      config,
      timeline: timeline.events,
      approve,
      synchronous: opts.synchronous ?? scenario.synchronous ?? false,
      lagAtFaultMs: ctx.lagAtFaultMs,
      faultAt: ctx.faultAt,
      acked,
      lost: acked.filter((a) => !present.has(a.id)),
    };
    const reasons = scenario.expect(outcome);
    const report: DrillReport = {
      scenario: scenario.name,
      seed,
      verdict: reasons.length ? 'fail' : 'pass',
      reasons,
      rto_ms: numbers.rto_ms,
      steps: stepTimings(timeline.events, ctx.faultAt),
      lost_acked_writes: numbers.lost_acked_writes,
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
    };
    if (opts.out) writeArtifacts(opts.out, report, timeline, acked, finalRows);
    return report;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack.stop();
  }
}

function stepTimings(events: readonly TimelineEvent[], faultAt: number | null): StepTimings {
  const completed = events.find((e) => e.type === 'failover_completed');
  const t = (completed?.timings ?? {}) as Record<string, number | null>;
  const requested = events.find(
    (e) => e.type === 'failover_requested' && (faultAt === null || e.at >= faultAt),
  );
  return {
    detection_ms: requested && faultAt !== null ? requested.at - faultAt : null,
    decision_ms: t.decisionMs ?? null,
    fence_ms: t.fenceMs ?? null,
    promote_ms: t.promoteMs ?? null,
    // The clients' view, not the execution's: until the first request the new region served through the edge.
    traffic_ms: trafficPhaseMs(events, faultAt),
    ...hooksMs(completed),
  };
}

/** The beforePromote hooks' phase from the completed event, when the configuration has hooks. */
function hooksMs(completed: TimelineEvent | undefined): Pick<StepTimings, 'hooks_ms'> {
  const hooks = completed?.hooks as { name: string; durationMs: number }[] | undefined;
  const before = hooks?.find((h) => h.name === 'hooks-before-promote');
  return before ? { hooks_ms: before.durationMs } : {};
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
}
