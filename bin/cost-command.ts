import { type CostEstimate, estimateCost, type LeverRow, levers } from '#core/cost.js';
import { configAndJsonFlags, loadConfig } from './config-file.js';
import { processIo } from './io.js';
import { usageOf } from './usage.js';

const USAGE = `${usageOf('cost')}\n`;

/** Exit codes: 0 an estimate, 1 an unreadable or invalid configuration (with its errors), 2 a usage problem. */
export function costCommand(argv: string[]): number {
  const flags = configAndJsonFlags(argv, USAGE);
  if (!flags) return 2;
  const { file } = flags;
  const config = loadConfig(file, processIo, 'out');
  if (!config) return 1;
  const estimate = estimateCost(config);
  const rows = levers(config);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ application: config.application, ...estimate, levers: rows })}\n`,
    );
  } else {
    process.stdout.write(formatEstimate(config.application, estimate, rows));
  }
  return 0;
}

const usd = (n: number): string => `$${n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatEstimate(application: string, e: CostEstimate, rows: LeverRow[]): string {
  const s = e.shape;
  const out: string[] = [
    `Cutover ${application}: steady-state cost for ${e.days} days`,
    `${s.watchers} watchers, ${s.controlRegions} control regions, probe every ${s.probeIntervalMs / 1000} s, lease renewed every ${s.renewIntervalMs / 1000} s`,
    `prices: ${e.prices.note} (checked ${e.prices.checkedOn})`,
    '',
  ];
  const width = Math.max(...e.components.map((c) => c.title.length), 'total'.length) + 2;
  for (const c of e.components) {
    out.push(`${c.title.padEnd(width)}${usd(c.usd).padStart(10)}`);
    for (const l of c.lines) out.push(`    ${l.item}: ${count(l.quantity)} ${l.unit} = ${usd(l.usd)}`);
    out.push(`    (${c.basis})`);
  }
  out.push(`${'total'.padEnd(width)}${usd(e.monthlyUsd).padStart(10)} a month`, '');
  const f = e.perFailover;
  out.push(
    `per failover, not in the total: ${usd(f.usd)} (${f.stateTransitions} state transitions, ${f.lambdaInvocations} Lambda invocations, ${f.events} events)`,
    '',
    'levers (monthly total, one knob at a time):',
  );
  for (const lever of ['probe.intervalMs', 'watchers', 'lease.renewIntervalMs'] as const) {
    const cells = rows
      .filter((r) => r.lever === lever)
      .map((r) => {
        const v = lever === 'watchers' ? `${r.value}` : `${r.value / 1000} s`;
        return `${v} ${usd(r.monthlyUsd)}${r.current ? ' (current)' : ''}`;
      });
    out.push(`  ${lever.padEnd(22)}${cells.join('   ')}`);
  }
  return `${out.join('\n')}\n`;
}
