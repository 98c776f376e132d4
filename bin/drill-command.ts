import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type DrillReport, runDrill } from '../infra/local/drill/run.js';
import { SCENARIOS, type ScenarioName, scenarios } from '../infra/local/drill/scenarios.js';
import { DrillConfigError, scaledDrillConfig } from '../infra/local/drill-config.js';
import { SetupError } from '../infra/local/dynamodb-local.js';
import { usageOf } from './usage.js';

const USAGE = `${usageOf('drill')}\n${scenarioList()}`;

/** The scenario names, for the usage and for `cutover drill --help`. */
export function scenarioList(): string {
  return `scenarios: ${SCENARIOS.join(', ')}\n`;
}

/** Exit codes: 0 the scenario's expectations hold, 1 they do not, 2 a usage or setup problem. */
export async function drillCommand(argv: string[]): Promise<number> {
  let values: {
    scenario?: string;
    seed?: string;
    json?: boolean;
    out?: string;
    approve?: boolean;
    synchronous?: boolean;
    config?: string;
    'time-scale'?: string;
    rate?: string;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        approve: { type: 'boolean', default: false },
        synchronous: { type: 'boolean', default: false },
        config: { type: 'string' },
        'time-scale': { type: 'string' },
        rate: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.scenario || !(SCENARIOS as readonly string[]).includes(values.scenario)) {
    process.stderr.write(
      `${values.scenario ? `unknown scenario ${JSON.stringify(values.scenario)}` : '--scenario is required'}\n${USAGE}`,
    );
    return 2;
  }
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    process.stderr.write(`--seed must be a non-negative integer, got ${JSON.stringify(values.seed)}\n`);
    return 2;
  }
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0 && rate <= MAX_RATE)) {
    process.stderr.write(
      `--rate must be a number of writes a second above 0 and at most ${MAX_RATE}, got ${JSON.stringify(values.rate)}\n`,
    );
    return 2;
  }
  if (values['time-scale'] !== undefined && values.config === undefined) {
    process.stderr.write(
      '--time-scale needs --config FILE: the built-in drill configuration is already compressed (÷ 20)\n',
    );
    return 2;
  }
  const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
  if (timeScale !== undefined && !(Number.isFinite(timeScale) && timeScale >= 1)) {
    process.stderr.write(
      `--time-scale must be a number ≥ 1 (every timing is divided by it), got ${JSON.stringify(values['time-scale'])}\n`,
    );
    return 2;
  }
  let config: { input: unknown; source: string } | undefined;
  if (values.config !== undefined) {
    const loaded = readConfig(values.config, timeScale ?? 1, values.scenario as ScenarioName);
    if (!loaded) return 2;
    config = loaded;
  }
  const out = values.out ?? `drill-out/${values.scenario}`;
  try {
    const report = await runDrill({
      ...(config ? { config } : {}),
      ...(timeScale !== undefined ? { timeScale } : {}),
      ...(rate !== undefined ? { rate } : {}),
      scenario: values.scenario as ScenarioName,
      seed,
      out,
      approve: values.approve ?? false,
      synchronous: values.synchronous ?? false,
      live: !values.json,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(summary(report, out));
    return report.verdict === 'pass' ? 0 : 1;
  } catch (err) {
    if (err instanceof DrillConfigError) {
      process.stderr.write(`drill refused, nothing started: ${err.message}\n`);
      return 2;
    }
    if (err instanceof SetupError || (err as Error).name === 'SetupError') {
      process.stderr.write(`setup problem: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

/** Above this the drill's single process spends its time on clients, not on the control plane it rehearses. */
const MAX_RATE = 2_000;

/**
 * Reads and validates a --config file before anything starts: as written, and with its timings divided by the
 * scale (the scenario's own adjustments applied, as the drill will). Refused: every problem by field on stderr.
 */
function readConfig(
  file: string,
  scale: number,
  scenario: ScenarioName,
): { input: unknown; source: string } | null {
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`--config ${file}: cannot be read as JSON: ${(err as Error).message}\n`);
    return null;
  }
  try {
    scaledDrillConfig(input, scale, (raw) => scenarios[scenario].configure?.(raw), file);
  } catch (err) {
    if (!(err instanceof DrillConfigError)) throw err;
    process.stderr.write(`drill refused, nothing started: ${err.message}\n`);
    return null;
  }
  return { input, source: file };
}

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);

export function summary(r: DrillReport, out: string): string {
  const rows: [string, string][] = [
    [
      'scenario',
      `${r.scenario} (seed ${r.seed}${r.approve ? ', --approve' : ''}, ${r.replication} replication)`,
    ],
    ['configuration', `${r.config_source} (timings ÷ ${r.time_scale})`],
    [
      'write rate',
      `${r.write_rate.achieved_per_s ?? '—'} acknowledged/s achieved over the run, ${r.write_rate.before_fault_per_s ?? '—'}/s before the fault (${r.write_rate.asked_per_s}/s asked)`,
    ],
    ['verdict', r.verdict.toUpperCase()],
    ['RTO', ms(r.rto_ms)],
    ['  detection', ms(r.steps.detection_ms)],
    ['  decision', ms(r.steps.decision_ms)],
    ['  fence', ms(r.steps.fence_ms)],
    ['  promote', ms(r.steps.promote_ms)],
    ['  traffic', ms(r.steps.traffic_ms)],
    ['acknowledged writes', String(r.acked_writes)],
    [
      'lost acknowledged writes',
      `${r.lost_acked_writes}${r.lag_at_fault_ms === null ? '' : ` (lag at fault ${r.lag_at_fault_ms} ms)`}`,
    ],
    ['split-brain writes', String(r.split_brain_writes)],
    ['failover executions', String(r.failover_executions)],
    ['failovers completed', String(r.failovers_completed)],
    ['peak memory (process tree)', r.peak_memory_mib === null ? '—' : `${r.peak_memory_mib} MiB`],
    ['artifacts', out],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  const reasons = r.reasons.map((x) => `  ✗ ${x}`);
  return `\n${lines.join('\n')}\n${reasons.length ? `${reasons.join('\n')}\n` : ''}`;
}
