/**
 * Runs every drill scenario once (lagging-replica and double-failover with and without --approve) and prints the
 * README's table.
 * Run: npm run drill:all   Artifacts of each run land in drill-out/<scenario>[-approve]/.
 */
import { runDrill } from '../infra/local/drill/run.js';
import { SCENARIOS, type ScenarioName } from '../infra/local/drill/scenarios.js';

const ms = (v: number | null) => (v === null ? '—' : String(v));
const runs: [ScenarioName, boolean][] = SCENARIOS.flatMap((s): [ScenarioName, boolean][] =>
  s === 'lagging-replica' || s === 'double-failover'
    ? [
        [s, false],
        [s, true],
      ]
    : [[s, false]],
);
const lines = [
  '| scenario | verdict | RTO ms | first failed probe | detection | claim & re-check | fence | promote | grant | traffic | acked | lost acked | split-brain | executions | completed |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
let failed = 0;
for (const [scenario, approve] of runs) {
  const name = approve ? `${scenario} --approve` : scenario;
  process.stderr.write(`running ${name}...\n`);
  const r = await runDrill({
    scenario,
    approve,
    seed: 1,
    out: `drill-out/${scenario}${approve ? '-approve' : ''}`,
  });
  if (r.verdict !== 'pass') failed++;
  const s = r.steps;
  lines.push(
    `| ${name} | ${r.verdict}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''} | ${ms(r.rto_ms)} | ${ms(s.probe_ms)} | ${ms(s.detection_ms)} | ${ms(s.claim_recheck_ms)} | ${ms(s.fence_ms)} | ${ms(s.promote_ms)} | ${ms(s.grant_ms)} | ${ms(s.traffic_ms)} | ${r.acked_writes} | ${r.lost_acked_writes} | ${r.split_brain_writes} | ${r.failover_executions} | ${r.failovers_completed} |`,
  );
}
console.log(lines.join('\n'));
process.exit(failed ? 1 : 0);
