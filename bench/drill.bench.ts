/**
 * RTO breakdown over repeated region-outage drills, and the control plane's own overhead: the RTO minus
 * what the configuration makes it wait on purpose (the debounce window and the fence's wait for the old lease).
 * Then one control-plane-outage run (Route 53's API and the dead region's database API down; traffic follows the
 * lease through the edge's health checks) and its RTO as a ratio to the region-outage median (goal: ≤ 1.5x).
 * Run: npm run bench -- [runs]   (default 3). Numbers are from one run on one machine; compare ratios.
 */
import { runDrill } from '../infra/local/drill/run.js';

const runs = Number(process.argv[2] ?? 3);
const rows: Record<string, number | null>[] = [];
for (let i = 1; i <= runs; i++) {
  const r = await runDrill({ scenario: 'region-outage', seed: i });
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
  process.stderr.write(`run ${i}: rto ${rto} ms, overhead ${rto === null ? '—' : rto - deliberate} ms\n`);
}
console.table(rows);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
};
const col = (k: string) => rows.map((r) => r[k]).filter((v): v is number => typeof v === 'number');
const rto = median(col('rto_ms'));
const overhead = median(col('overhead_ms'));
const cpo = await runDrill({ scenario: 'control-plane-outage', seed: 1 });
process.stderr.write(`control-plane-outage: ${cpo.verdict}, rto ${cpo.rto_ms} ms\n`);
console.log(
  JSON.stringify(
    {
      runs,
      median_rto_ms: rto,
      median_overhead_ms: overhead,
      overhead_share_of_rto: Number((overhead / rto).toFixed(3)),
      goal_overhead_ms: 1000,
      goal_met: overhead <= 1000,
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
