import {
  type CostEstimate,
  type CostLine,
  estimateCost,
  type LeverRow,
  levers,
  type UnitPrice,
} from '#core/cost.js';
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

/** A quantity with the precision its line needs: whole units as they are, fractions (GB) to two decimals. */
function quantity(n: number): string {
  if (Number.isInteger(n) || n >= 1000) return count(n);
  return n.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
}

/** "$0.20 per million requests", "$0.40 a secret", "$0.0000133334 a GB-second". */
function unitPrice(p: UnitPrice): string {
  const [one, many] = p.name;
  const amount = `$${p.usd < 0.01 ? String(p.usd) : p.usd.toFixed(p.usd * 100 === Math.round(p.usd * 100) ? 2 : 3)}`;
  if (p.per === 1) return `${amount} ${/^[aeiou]/i.test(one) ? 'an' : 'a'} ${one}`;
  const per = p.per === 1_000_000 ? 'million' : p.per.toLocaleString('en-US');
  return `${amount} per ${per} ${many}`;
}

/** One priced line: quantity × unit price = amount, so that a reader can redo it. */
function line(l: CostLine, p: UnitPrice): string {
  const [one, many] = p.name;
  const q = Number(quantity(l.quantity).replace(/,/g, ''));
  return `    ${l.item}: ${quantity(l.quantity)} ${q === 1 ? one : many} × ${unitPrice(p)} = ${usd(l.usd)}`;
}

export function formatEstimate(application: string, e: CostEstimate, rows: LeverRow[]): string {
  const s = e.shape;
  const unpriced = e.regions.unpriced;
  const out: string[] = [
    `Cutover ${application}: steady-state cost for ${e.days} days`,
    `${s.watchers} watchers, ${s.controlRegions} control regions, probe every ${s.probeIntervalMs / 1000} s, lease renewed every ${s.renewIntervalMs / 1000} s`,
    `prices: ${e.prices.region} on-demand list prices, checked ${e.prices.checkedOn}; free tiers are not subtracted`,
    unpriced.length === 0
      ? `every region of this configuration is priced (${e.regions.priced.join(', ')})`
      : `NOT PRICED: no cited price for ${unpriced.join(', ')} except Lambda duration (priced per region below); the rest of their share is at ${e.prices.region} rates, and AWS prices many regions higher: treat the total as a floor for them (docs/cost.md)`,
    '',
  ];
  const all = [...e.components, ...e.worstCase];
  const width = Math.max(...all.map((c) => c.title.length), 'total'.length) + 2;
  for (const c of e.components) {
    out.push(`${c.title.padEnd(width)}${usd(c.usd).padStart(10)}`);
    for (const l of c.lines) out.push(line(l, l.price));
    out.push(`    (${c.basis})`);
  }
  out.push(`${'total'.padEnd(width)}${usd(e.monthlyUsd).padStart(10)} a month`, '');
  if (e.free.length) {
    out.push('no charge:');
    for (const f of e.free) out.push(`  ${f}`);
    out.push('');
  }
  for (const c of e.worstCase) {
    const steady = e.components.find((x) => x.id === c.id);
    out.push(
      `worst case, not in the total: ${c.title} ${usd(c.usd)} a month (${usd(c.usd - (steady?.usd ?? 0))} more than above)`,
    );
    for (const l of c.lines) out.push(line(l, l.price));
    out.push(`    (${c.basis})`, '');
  }
  const f = e.perFailover;
  const plural = (n: number, one: string, many: string) =>
    `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
  out.push(
    `per failover, not in the total: ${usd(f.usd)} (${plural(f.stateTransitions, 'state transition', 'state transitions')}, ${plural(f.lambdaInvocations, 'Lambda invocation', 'Lambda invocations')}, ${plural(f.events, 'event', 'events')})`,
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
