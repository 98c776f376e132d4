import { estimateRto, type RtoEstimate, SOURCES, type Span } from '#core/rto.js';
import { configAndJsonFlags, loadConfig } from './config-file.js';
import { processIo } from './io.js';
import { usageOf } from './usage.js';

const USAGE = `${usageOf('rto')}\n`;

/**
 * Exit codes: 0 the expected RTO is within the 60 s target, 1 it is not (the estimate says why) or the
 * configuration is unreadable or invalid (with its errors), 2 a usage problem.
 */
export function rtoCommand(argv: string[]): number {
  const flags = configAndJsonFlags(argv, USAGE);
  if (!flags) return 2;
  const { file } = flags;
  const config = loadConfig(file, processIo, 'out');
  if (!config) return 1;
  const estimate = estimateRto(config);
  process.stdout.write(flags.json ? `${JSON.stringify(estimate)}\n` : formatRto(estimate));
  return estimate.total.expected <= estimate.targetMs ? 0 : 1;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const cells = (x: Span): string =>
  `${s(x.best).padStart(9)}${s(x.expected).padStart(10)}${s(x.worst).padStart(10)}`;

export function formatRto(e: RtoEstimate): string {
  const width = Math.max(
    ...e.phases.flatMap((p) => [p.title.length, ...p.parts.map((x) => x.label.length + 2)]),
  );
  const out: string[] = [
    `Cutover ${e.application}: expected recovery time in AWS against the ${s(e.targetMs)} target`,
    `database ${e.engine}, traffic ${e.trafficMode}; a region outage, detected and failed over automatically`,
    '',
    `${''.padEnd(width)}${'best'.padStart(9)}${'expected'.padStart(10)}${'worst'.padStart(10)}`,
  ];
  for (const p of e.phases) {
    out.push(`${p.title.padEnd(width)}${cells(p)}`);
    for (const x of p.parts) out.push(`${`  ${x.label}`.padEnd(width)}${cells(x)}  [${x.source}] ${x.basis}`);
  }
  out.push(`${'total'.padEnd(width)}${cells(e.total)}`, '', e.verdict.reason, '');
  if (e.caveats.length) out.push('not in these numbers:', ...e.caveats.map((c) => `  - ${c}`), '');
  if (e.levers.length) {
    out.push('settings that shorten it (expected / worst):');
    for (const l of e.levers) {
      out.push(`  ${s(l.expected).padStart(8)} / ${s(l.worst).padStart(8)}  ${l.settings.join(', ')}`);
      if (l.note) out.push(`      not valid as is: ${l.note}`);
    }
    out.push('');
  }
  const used = new Set(e.phases.flatMap((p) => p.parts.map((x) => x.source)));
  out.push('sources (docs/rto.md):');
  for (const [id, src] of Object.entries(SOURCES)) {
    if (used.has(id as keyof typeof SOURCES)) out.push(`  [${id}] ${src.fact}: ${src.url}`);
  }
  out.push(
    '  [config] the configuration; [cutover] the failover machine (statemachines/failover.asl.json); [assumed] not published by AWS: an estimate to replace with a measurement',
  );
  return `${out.join('\n')}\n`;
}
