/**
 * Runs every drill scenario once (lagging-replica and double-failover with and without --approve) and prints the
 * README's table.
 * Run: npm run drill:all [-- --config FILE [--time-scale N]] [--rate N]
 * Artifacts of each run land in drill-out/<scenario>[-approve]/. With --config, every scenario rehearses that
 * configuration (refused before any run when it, or its scaled timings, break the rules).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runDrill } from '../infra/local/drill/run.js';
import { SCENARIOS, type ScenarioName, scenarios } from '../infra/local/drill/scenarios.js';
import { DrillConfigError, scaledDrillConfig } from '../infra/local/drill-config.js';

const { values } = parseArgs({
  options: { config: { type: 'string' }, 'time-scale': { type: 'string' }, rate: { type: 'string' } },
  strict: true,
});
const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
const rate = values.rate === undefined ? undefined : Number(values.rate);
if ((timeScale !== undefined && !(timeScale >= 1)) || (rate !== undefined && !(rate > 0))) {
  process.stderr.write('--time-scale must be a number ≥ 1 and --rate a number > 0\n');
  process.exit(2);
}
if (timeScale !== undefined && values.config === undefined) {
  process.stderr.write('--time-scale needs --config FILE\n');
  process.exit(2);
}
let config: { input: unknown; source: string } | undefined;
if (values.config !== undefined) {
  config = { input: JSON.parse(readFileSync(values.config, 'utf8')), source: values.config };
  // Every scenario's adjustments checked before the first run starts.
  for (const s of SCENARIOS) {
    try {
      scaledDrillConfig(config.input, timeScale ?? 1, (raw) => scenarios[s].configure?.(raw), values.config);
    } catch (err) {
      if (!(err instanceof DrillConfigError)) throw err;
      process.stderr.write(`${s}: refused, nothing started: ${err.message}\n`);
      process.exit(2);
    }
  }
}

const ms = (v: number | null) => (v === null ? '—' : String(v));
const runs: [ScenarioName, boolean][] = SCENARIOS.flatMap((s): [ScenarioName, boolean][] =>
  s === 'lagging-replica' || s === 'double-failover'
    ? [
        [s, false],
        [s, true],
      ]
    : [[s, false]],
);
if (config) console.log(`configuration: ${config.source}, timings ÷ ${timeScale ?? 1}`);
const lines = [
  '| scenario | verdict | RTO ms | first failed probe | detection | claim & re-check | fence | promote | grant | traffic | acked | acked/s | lost acked | split-brain | executions | completed |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
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
    ...(config ? { config } : {}),
    ...(timeScale !== undefined ? { timeScale } : {}),
    ...(rate !== undefined ? { rate } : {}),
  });
  if (r.verdict !== 'pass') failed++;
  const s = r.steps;
  lines.push(
    `| ${name} | ${r.verdict}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''} | ${ms(r.rto_ms)} | ${ms(s.probe_ms)} | ${ms(s.detection_ms)} | ${ms(s.claim_recheck_ms)} | ${ms(s.fence_ms)} | ${ms(s.promote_ms)} | ${ms(s.grant_ms)} | ${ms(s.traffic_ms)} | ${r.acked_writes} | ${r.write_rate.achieved_per_s ?? '—'} | ${r.lost_acked_writes} | ${r.split_brain_writes} | ${r.failover_executions} | ${r.failovers_completed} |`,
  );
}
console.log(lines.join('\n'));
process.exit(failed ? 1 : 0);
