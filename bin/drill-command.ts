import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSummary } from '../infra/local/drill/report.js';
import { type DrillReport, runDrill } from '../infra/local/drill/run.js';
import { SCENARIOS, type ScenarioName } from '../infra/local/drill/scenarios.js';
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
  const out = values.out ?? `drill-out/${values.scenario}`;
  try {
    const report = await runDrill({
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
    if (err instanceof SetupError || (err as Error).name === 'SetupError') {
      process.stderr.write(`setup problem: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

/** The printed summary (see drill/report.ts formatSummary). */
export function summary(r: DrillReport, out: string): string {
  return formatSummary(r, out);
}
