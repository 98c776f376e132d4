/**
 * Write-load benchmark (a plain script, not a timed test): `npm run bench:load [-- RATE [SECONDS]]`.
 * The drill's whole write path, as a drill runs it: the load generator's clients → the front door (Route 53 edge,
 * caching resolvers) → the fault proxy → the sample app (write guard checked on every write) → PostgreSQL with
 * its streaming replica. No fault: it measures how many acknowledged writes a second this machine sustains at the
 * asked rate (default 400 a second for 10 s), and the latency the clients saw. The goal (issue 17): at least 300
 * acknowledged writes a second. It also prints the drill process's CPU share, its event-loop delay and the machine's
 * load average: the whole drill is one Node process, so a machine busy with other work shows here first.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DrillStack } from '../infra/local/drill/stack.js';
import { drillConfig } from '../infra/local/drill-config.js';
import { startLoadGenerator, type WriteResult } from '../infra/local/load-generator.js';
import { Timeline } from '../infra/local/timeline.js';

const rate = Number(process.argv[2] ?? process.env.BENCH_RATE ?? 400);
const seconds = Number(process.argv[3] ?? process.env.BENCH_SECONDS ?? 10);
if (!(rate > 0) || !(seconds > 0)) {
  process.stderr.write('usage: npm run bench:load -- [RATE writes/s > 0] [SECONDS > 0]\n');
  process.exit(2);
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const stack = new DrillStack({ config: drillConfig(), timeline: new Timeline(), rate });
try {
  await stack.start();
  // Warm-up until the edge's health checkers route the clients to the primary (as the drill's settle does).
  const primary = stack.config.primary.region;
  const warm = startLoadGenerator({ url: stack.frontDoor.url, rate: 20, idPrefix: `warm-${process.pid}` });
  const warmUntil = Date.now() + 20_000;
  while (Date.now() < warmUntil && !warm.acked().some((a) => a.region === primary)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await warm.stop();
  const latencies: number[] = [];
  const load = startLoadGenerator({
    url: process.env.BENCH_DIRECT ? stack.region(stack.config.primary.region).app.url : stack.frontDoor.url,
    rate,
    idPrefix: `bench-${process.pid}`,
    onResult: (r: WriteResult) => {
      if (r.code === 'ACKED') latencies.push(r.at - r.sentAt);
    },
  });
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  const report = await load.stop();
  const elapsed = (performance.now() - started) / 1_000;
  loopDelay.disable();
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const s = report.stats;
  console.log(
    JSON.stringify(
      {
        asked_per_s: rate,
        seconds: Math.round(elapsed * 10) / 10,
        achieved_acked_per_s: Math.round((s.acked / elapsed) * 10) / 10,
        sent: s.sent,
        acked: s.acked,
        refused: s.refused,
        failed: s.failed,
        skipped_at_concurrency_cap: s.skipped,
        by_code: s.byCode,
        // The drill's own process (front door, proxies, apps, control plane, clients): its CPU share of one core,
        // and how late its event loop ran timers (a starved machine shows here, not in the rate alone).
        process_cpu_percent: Math.round(((cpu.user + cpu.system) / 1_000 / (elapsed * 1_000)) * 100),
        event_loop_delay_ms: {
          p50: Math.round(loopDelay.percentile(50) / 1e6),
          p99: Math.round(loopDelay.percentile(99) / 1e6),
        },
        machine_load_average_1m: Math.round(loadavg()[0]! * 10) / 10,
        latency_ms: { p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies.at(-1) ?? null },
      },
      null,
      2,
    ),
  );
} finally {
  await stack.stop();
}
