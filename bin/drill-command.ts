import { parseArgs } from 'node:util';
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
    return report.verdict === 'pass' ? 0 : 1;
  } catch (err) {
    if (err instanceof SetupError || (err as Error).name === 'SetupError') {
      process.stderr.write(`setup problem: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);

export function summary(r: DrillReport, out: string): string {
  const rows: [string, string][] = [
    [
      'scenario',
      `${r.scenario} (seed ${r.seed}${r.approve ? ', --approve' : ''}, ${r.replication} replication)`,
    ],
    ['verdict', r.verdict.toUpperCase()],
    ['RTO', ms(r.rto_ms)],
    ['  detection', ms(r.steps.detection_ms)],
    ['  decision', ms(r.steps.decision_ms)],
    ['  fence', ms(r.steps.fence_ms)],
    ['  promote', ms(r.steps.promote_ms)],
    // The beforePromote hooks' phase, part of promote (issue 15).
    ...(r.steps.hooks_ms === undefined
      ? []
      : [['    of which hooks', ms(r.steps.hooks_ms)] as [string, string]]),
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
