import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSummary } from '../infra/local/drill/report.js';
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
    open?: boolean;
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
        open: { type: 'boolean', default: false },
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
    // The page's path alone on the last line (to stderr under --json, whose stdout is one JSON line), to open.
    if (values.open)
      (values.json ? process.stderr : process.stdout).write(`${resolve(out, 'report.html')}\n`);
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

/** The printed summary (see drill/report.ts formatSummary). */
export function summary(r: DrillReport, out: string): string {
  return formatSummary(r, out);
}
