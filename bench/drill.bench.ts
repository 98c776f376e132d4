/**
 * RTO breakdown over repeated region-outage drills, and the control plane's own overhead: the RTO minus
 * what the configuration makes it wait on purpose (the debounce window and the fence's wait for the old lease).
 * Each run's overhead is split into where it went, from the run's timeline.jsonl (docs/overhead.md explains
 * every part). Then one control-plane-outage run (Route 53's API and the dead region's database API down;
 * traffic follows the lease through the edge's health checks) and its RTO as a ratio to the region-outage
 * median (goal: ≤ 1.5x).
 * Run: npm run bench -- [runs]   (default 3). Artifacts of each run: $BENCH_OUT (default a new directory
 * under the system's temp directory). Numbers are from one run on one machine; compare ratios.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJsonl } from '../infra/local/drill/report.js';
import { runDrill } from '../infra/local/drill/run.js';
import type { TimelineEvent } from '../infra/local/timeline.js';
import { type OverheadParts, overheadParts } from './overhead.js';

/** The goal for the median overhead over the runs (issue 17). */
const GOAL_OVERHEAD_MS = 700;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
};

const runs = Number(process.argv[2] ?? 3);
const outRoot = process.env.BENCH_OUT ?? mkdtempSync(join(tmpdir(), 'cutover-bench-'));
const rows: Record<string, number | null>[] = [];
const parts: OverheadParts[] = [];
for (let i = 1; i <= runs; i++) {
  const out = join(outRoot, `region-outage-${i}`);
  const r = await runDrill({ scenario: 'region-outage', seed: i, out });
  const rto = r.rto_ms;
  const fence = r.steps.fence_ms;
  const deliberate = r.config.debounceMs + (fence ?? 0);
  rows.push({
    run: i,
    pass: r.verdict === 'pass' ? 1 : 0,
    rto_ms: rto,
    detection_ms: r.steps.detection_ms,
    probe_ms: r.steps.probe_ms,
    claim_recheck_ms: r.steps.claim_recheck_ms,
    fence_ms: fence,
    promote_ms: r.steps.promote_ms,
    traffic_ms: r.steps.traffic_ms,
    debounce_ms: r.config.debounceMs,
    overhead_ms: rto === null ? null : rto - deliberate,
    lost: r.lost_acked_writes,
    split_brain: r.split_brain_writes,
  });
  const p = overheadParts(parseJsonl<TimelineEvent>(readFileSync(join(out, 'timeline.jsonl'), 'utf8')), r);
  if (p) parts.push(p);
  process.stderr.write(`run ${i}: rto ${rto} ms, overhead ${rto === null ? '—' : rto - deliberate} ms\n`);
}
console.table(rows);
if (parts.length) {
  console.log('where the overhead went (ms, per run; docs/overhead.md)');
  console.table(parts);
}
const col = (k: string) => rows.map((r) => r[k]).filter((v): v is number => typeof v === 'number');
const rto = median(col('rto_ms'));
const overhead = median(col('overhead_ms'));
const lost = col('lost').reduce((a, b) => a + b, 0);
const splitBrain = col('split_brain').reduce((a, b) => a + b, 0);
const cpo = await runDrill({ scenario: 'control-plane-outage', seed: 1 });
process.stderr.write(`control-plane-outage: ${cpo.verdict}, rto ${cpo.rto_ms} ms\n`);
console.log(
  JSON.stringify(
    {
      runs,
      artifacts: outRoot,
      passed: col('pass').reduce((a, b) => a + b, 0),
      median_rto_ms: rto,
      median_overhead_ms: overhead,
      overhead_share_of_rto: Number((overhead / rto).toFixed(3)),
      median_overhead_parts_ms: Object.fromEntries(
        Object.keys(parts[0] ?? {}).map((k) => [k, median(parts.map((p) => p[k as keyof OverheadParts]))]),
      ),
      lost_acked_writes: lost,
      split_brain_writes: splitBrain,
      goal_overhead_ms: GOAL_OVERHEAD_MS,
      goal_met: overhead <= GOAL_OVERHEAD_MS && lost === 0 && splitBrain === 0,
      control_plane_outage: {
        pass: cpo.verdict === 'pass',
        rto_ms: cpo.rto_ms,
        ratio_to_region_outage: cpo.rto_ms === null ? null : Number((cpo.rto_ms / rto).toFixed(2)),
        goal_ratio: 1.5,
      },
    },
    null,
    2,
  ),
);
