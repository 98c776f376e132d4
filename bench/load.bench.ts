/**
 * Write-load benchmark (a plain script, not a timed test): `npm run bench:load [-- RATE [SECONDS]]`.
 * The drill's whole write path, as a drill runs it: the load generator's clients (in their own process, as in the
 * drill) → the front door (Route 53 edge, caching resolvers) → the fault proxy → the sample app (write guard checked
 * on every write) → PostgreSQL with its streaming replica. No fault: it measures how many acknowledged writes a
 * second this machine sustains at the asked rate (default 400 a second for 10 s), the latency the clients saw, and
 * the CPU each acknowledged write cost: a figure that, unlike writes a second, holds on a shared machine. The goal
 * (issue 17): at least 300 acknowledged writes a second. `BENCH_IN_PROCESS=1` runs the clients inside the drill's
 * process instead (the layout before), `BENCH_DIRECT=1` sends them straight to the primary's app.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DrillStack } from '../infra/local/drill/stack.js';
import { drillConfig } from '../infra/local/drill-config.js';
import {
  type LoadClientProcess,
  type LoadGenerator,
  type RemoteLoadOptions,
  startLoadGenerator,
  type WriteResult,
} from '../infra/local/load-generator.js';
import { Timeline } from '../infra/local/timeline.js';

const rate = Number(process.argv[2] ?? process.env.BENCH_RATE ?? 400);
const seconds = Number(process.argv[3] ?? process.env.BENCH_SECONDS ?? 10);
if (!(rate > 0) || !(seconds > 0)) {
  process.stderr.write('usage: npm run bench:load -- [RATE writes/s > 0] [SECONDS > 0]\n');
  process.exit(2);
}
const inProcess = Boolean(process.env.BENCH_IN_PROCESS);
// Clients in flight at most: a rate above what the machine sustains then queues at most this many writes instead of
// letting them wait past the clients' 2 s timeout (the drill's default, rate/2, leaves room for a slow second).
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? Math.ceil(rate / 8));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1_000;

/**
 * CPU ms used so far by this process's descendants (the clients' process, PostgreSQL, DynamoDB Local's JVM), from
 * /proc (utime + stime of each live one, in clock ticks of 10 ms: Linux's USER_HZ of 100). Null where there is no /proc.
 */
function descendantsCpuMs(): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const stat = new Map<number, { ppid: number; ticks: number }>();
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces), from field 3 on: state ppid … utime(14) stime(15).
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stat.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const ours = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of stat) {
      if (!ours.has(pid) && ours.has(s.ppid)) {
        ours.add(pid);
        total += s.ticks * 10;
        grew = true;
      }
    }
  }
  return total;
}

const stack = new DrillStack({ config: drillConfig(), timeline: new Timeline(), rate });
let clients: LoadClientProcess | null = null;
const start = (options: RemoteLoadOptions & { onResult?: (r: WriteResult) => void }): LoadGenerator =>
  clients ? clients.start(options) : startLoadGenerator(options);
try {
  await stack.start();
  // The drill's own clients' process, as `cutover drill` uses it.
  clients = inProcess ? null : stack.clientProcess;
  // Warm-up until the edge's health checkers route the clients to the primary (as the drill's settle does).
  const primary = stack.config.primary.region;
  const warm = start({ url: stack.frontDoor.url, rate: 20, idPrefix: `warm-${process.pid}` });
  const warmUntil = Date.now() + 20_000;
  while (Date.now() < warmUntil && !warm.acked().some((a) => a.region === primary)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await warm.stop();
  const latencies: number[] = [];
  const clientCpu0 = clients?.cpuUsage() ?? null;
  const tree0 = descendantsCpuMs();
  const cpu0 = process.cpuUsage();
  const load = start({
    url: process.env.BENCH_DIRECT ? stack.region(primary).app.url : stack.frontDoor.url,
    rate,
    concurrency,
    idPrefix: `bench-${process.pid}`,
    onResult: (r: WriteResult) => {
      if (r.code === 'ACKED') latencies.push(r.at - r.sentAt);
    },
  });
  const started = performance.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  const report = await load.stop();
  const elapsed = (performance.now() - started) / 1_000;
  loopDelay.disable();
  const drillMs = ms(process.cpuUsage(cpu0));
  const treeMs = tree0 === null ? null : (descendantsCpuMs() ?? 0) - tree0;
  const clientMs = clients && clientCpu0 ? ms(clients.cpuUsage()) - ms(clientCpu0) : 0;
  // The stack's own CPU with no writes (probers, aggregators, stream pollers, keepers, health checkers), measured
  // after the load, once the start-up is long over, so that the cost of the writes themselves can be told from it.
  const idleSeconds = 4;
  const idle0 = process.cpuUsage();
  const idleTree0 = descendantsCpuMs();
  await new Promise((r) => setTimeout(r, idleSeconds * 1_000));
  const idleMsPerS = ms(process.cpuUsage(idle0)) / idleSeconds;
  const idleTreeMsPerS =
    idleTree0 === null ? null : Math.round(((descendantsCpuMs() ?? 0) - idleTree0) / idleSeconds);
  latencies.sort((a, b) => a - b);
  const s = report.stats;
  const perWrite = (cpuMs: number) => (s.acked ? Math.round((cpuMs / s.acked) * 100) / 100 : null);
  console.log(
    JSON.stringify(
      {
        asked_per_s: rate,
        seconds: Math.round(elapsed * 10) / 10,
        achieved_acked_per_s: Math.round((s.acked / elapsed) * 10) / 10,
        clients: inProcess ? 'in the drill process' : 'own process',
        concurrency,
        sent: s.sent,
        acked: s.acked,
        refused: s.refused,
        failed: s.failed,
        skipped_at_concurrency_cap: s.skipped,
        by_code: s.byCode,
        // CPU per acknowledged write (user + system): the drill's process (front door, fault proxies, apps and
        // their pg pools, and the control plane sharing it), the clients' process, and both; then the same less the
        // stack's idle CPU over the window, i.e. what the writes themselves cost.
        cpu_ms_per_acked_write: {
          drill_process: perWrite(drillMs),
          clients_process: perWrite(clientMs),
          node_total: perWrite(drillMs + clientMs),
          node_total_less_idle: perWrite(drillMs + clientMs - idleMsPerS * elapsed),
          // Every process the bench started (PostgreSQL and the JVM included), less their idle CPU.
          whole_tree_less_idle:
            treeMs === null || idleTreeMsPerS === null
              ? null
              : perWrite(drillMs + treeMs - (idleMsPerS + idleTreeMsPerS) * elapsed),
        },
        idle_cpu_ms_per_s: { drill_process: Math.round(idleMsPerS), descendants: idleTreeMsPerS },
        // The drill's process share of one core, and how late its event loop ran timers.
        drill_process_cpu_percent: Math.round((drillMs / (elapsed * 1_000)) * 100),
        clients_process_cpu_percent: Math.round((clientMs / (elapsed * 1_000)) * 100),
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
// Explicitly: after stack.stop() a loop of the control plane was seen spinning now and then (on main's code too,
// with no child process left), keeping a finished benchmark from exiting.
process.exit(0);
