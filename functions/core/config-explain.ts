import { valueAt } from './config.js';
import type { CutoverConfig } from './config-schema.js';

/**
 * `cutover config validate --explain`: the settings the file left to their defaults, with what each value means
 * for failover time or safety. Pure: the raw file and the validated configuration in, one line per default out.
 */

export interface FilledDefault {
  field: string;
  value: unknown;
  /** What the value means for detection, failover time or safety; undefined for defaults that change neither. */
  meaning?: string;
}

const s = (ms: number): string => `${ms / 1000} s`;

/** The defaults that matter, by field: a sentence from the value and the rest of the configuration. */
const MEANING: Readonly<Record<string, (v: never, c: CutoverConfig) => string>> = {
  'probe.intervalMs': (v: number) =>
    `each watcher probes both regions every ${s(v)}; a failure is seen at most one interval after it starts`,
  'probe.connectTimeoutMs': (v: number) => `a probe that cannot connect within ${s(v)} counts as a failure`,
  'probe.responseTimeoutMs': (v: number) =>
    `a probe without an answer after ${s(v)} counts as a failure; a slower healthy region looks down`,
  debounceMs: (v: number) =>
    `a quorum must see the primary down for ${s(v)} before an automatic failover: the floor of detection time`,
  voteStalenessMs: (v: number) => `a vote older than ${s(v)} is an abstention, never an unhealthy vote`,
  cooldownMs: (v: number) =>
    `for ${v / 60_000} min after a failover another automatic one needs a person (stops two flapping regions passing the lease back and forth)`,
  reopenAfterMs: (v: number) => `an aborted incident blocks a new automatic request for ${v / 60_000} min`,
  rpoBudgetMs: (v: number) =>
    `replication lag over ${s(v)} at failover asks a person before promoting: the data-loss budget`,
  takeoverAfterMs: (v: number) =>
    `a failover with no progress for ${s(v)} is taken over by another control region`,
  'lease.ttlMs': (v: number, c) =>
    `every failover waits out the old lease, ${s(v + c.lease.maxSkewMs)} (ttl + skew), before it promotes`,
  'lease.maxSkewMs': (v: number) =>
    `the fence assumes no two clocks differ by more than ${s(v)}; a larger real skew can let two regions write`,
  'lease.renewIntervalMs': (v: number) => `the holder renews its lease every ${s(v)}`,
  'lease.retryTimeoutMs': (v: number) => `a renewal that has not answered in ${s(v)} is retried`,
  'lease.safetyMarginMs': (v: number, c) =>
    `the holder stops accepting writes ${s(v + c.lease.maxSkewMs)} (margin + skew) before its lease ends`,
  'lease.keeper': (v: string) =>
    v === 'process'
      ? 'the lease is renewed from inside the application (LeaseKeeper); an application that is Lambda functions needs "scheduled"'
      : 'a Lambda heartbeat renews the lease, started once a minute',
  'approval.ambiguousPolicy': (v: string) =>
    v === 'ask'
      ? 'an ambiguous failover (split votes, lag over budget, standby unhealthy) waits for a person in Slack'
      : `an ambiguous failover is ${v === 'abort' ? 'aborted' : 'carried out'} without asking`,
  'approval.timeoutSeconds': (v: number) => `an unanswered approval times out after ${v / 60} min`,
  'approval.timeoutPolicy': (v: string) =>
    v === 'abort'
      ? 'an ambiguous failover nobody answers is aborted: the primary stays down until a person acts'
      : 'an ambiguous failover nobody answers goes ahead',
  'approval.slack.twoPerson': (v: boolean) =>
    v ? 'two different approvers must agree' : 'one approver is enough to fail over',
  'traffic.mode': (v: string) =>
    v === 'health-check'
      ? 'Route 53 health checks on the holder checks move traffic, with no API call on the unplanned path'
      : `traffic moves by ${v}`,
  'traffic.routing': (v: string) => `Route 53 ${v} records`,
  'traffic.ttlSeconds': (v: number) =>
    `resolvers may keep sending clients to the old region for up to ${v} s`,
  'traffic.healthCheck.requestIntervalSeconds': (v: number, c) =>
    `Route 53 sees the new holder after about ${v * (c.traffic?.healthCheck.failureThreshold ?? 1)} s (interval × failure threshold)`,
  'traffic.healthCheck.failureThreshold': (v: number) =>
    v === 1
      ? 'one failed check marks a region unhealthy'
      : `${v} failed checks in a row mark a region unhealthy`,
  'traffic.holderCheck': (v: string) =>
    v === 'application'
      ? 'the application serves /cutover/holder itself (200 only while it holds the lease)'
      : "Cutover's holder-check function serves the holder check",
  'traffic.failbackSteps': (v: number[]) =>
    v.length === 1
      ? 'a failback moves all traffic at once'
      : `a failback moves traffic in steps: ${v.join(', ')} %`,
  'database.promoteTimeoutSeconds': (v: number) =>
    `a promotion not finished in ${v / 60} min fails the failover and pages`,
  'fence.lambdaFunctions': (v: string[]) =>
    v.length === 0
      ? 'no Lambda function is throttled when the old primary is fenced'
      : `${v.length} functions throttled`,
};

function leaves(value: unknown, path: string, out: [string, unknown][]): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  } else out.push([path, value]);
}

/** Every setting of `config` that `raw` (the file) does not set, in the schema's order. */
export function filledDefaults(raw: unknown, config: CutoverConfig): FilledDefault[] {
  const all: [string, unknown][] = [];
  leaves(config, '', all);
  return all
    .filter(([field, value]) => value !== undefined && valueAt(raw, field) === undefined)
    .map(([field, value]) => {
      const meaning = MEANING[field];
      return meaning ? { field, value, meaning: meaning(value as never, config) } : { field, value };
    });
}

/** The `--explain` lines: the defaults that matter one a line, then the others on one line. */
export function explainLines(raw: unknown, config: CutoverConfig): string[] {
  const filled = filledDefaults(raw, config);
  if (filled.length === 0) return ['no defaults filled in: the file sets every setting'];
  const show = (v: unknown) => JSON.stringify(v);
  const matter = filled.filter((d) => d.meaning);
  const rest = filled.filter((d) => !d.meaning);
  const width = Math.max(0, ...matter.map((d) => `${d.field} = ${show(d.value)}`.length));
  const lines = [
    `defaults filled in (${filled.length}); the ${matter.length} that change failover time or safety:`,
    ...matter.map((d) => `  ${`${d.field} = ${show(d.value)}`.padEnd(width)}  ${d.meaning}`),
  ];
  if (rest.length)
    lines.push(`  also defaulted: ${rest.map((d) => `${d.field} = ${show(d.value)}`).join(', ')}`);
  return lines;
}
