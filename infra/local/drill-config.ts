import { readFileSync } from 'node:fs';
import { type ConfigIssue, type CutoverConfig, loadConfig, parseConfig } from '#core/config.js';

/**
 * The example configuration with its timings compressed for a local drill (a 10 s probe interval becomes
 * 0.5 s), validated by the same rules as a production file. Health URLs are replaced at run
 * time by the drill's fault proxies.
 */
// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
export type RawConfig = Record<string, any>;

export function drillConfig(overrides: (raw: RawConfig) => void = () => {}): CutoverConfig {
  const raw = JSON.parse(
    readFileSync(new URL('../../examples/cutover.example.json', import.meta.url), 'utf8'),
  ) as RawConfig;
  raw.probe = { intervalMs: 500, connectTimeoutMs: 300, responseTimeoutMs: 450 };
  raw.debounceMs = 2_500;
  raw.voteStalenessMs = 1_200;
  raw.cooldownMs = 60_000;
  raw.reopenAfterMs = 60_000;
  raw.rpoBudgetMs = 1_000;
  raw.lease = {
    ttlMs: 4_000,
    renewIntervalMs: 1_000,
    retryTimeoutMs: 500,
    maxSkewMs: 250,
    safetyMarginMs: 150,
  };
  raw.approval.timeoutSeconds = 30;
  // Above the compressed fence wait (ttl + skew = 4.25 s), as the configuration rule requires.
  raw.takeoverAfterMs = 5_000;
  overrides(raw);
  return loadConfig(raw);
}

/** The default drill compresses AWS's timings by this factor (a 10 s probe interval becomes 0.5 s). */
export const TIME_SCALE = 20;

/**
 * The configuration's timings, in milliseconds, that `--time-scale N` divides: every field of the schema that is a
 * duration the control plane or the application waits out. Paths into the parsed configuration (defaults filled).
 */
export const SCALED_MS_FIELDS = [
  'probe.intervalMs',
  'probe.connectTimeoutMs',
  'probe.responseTimeoutMs',
  'debounceMs',
  'voteStalenessMs',
  'cooldownMs',
  'reopenAfterMs',
  'rpoBudgetMs',
  'takeoverAfterMs',
  'lease.ttlMs',
  'lease.renewIntervalMs',
  'lease.retryTimeoutMs',
  'lease.maxSkewMs',
  'lease.safetyMarginMs',
  'lease.scheduledRunMs',
] as const;

/**
 * Durations in whole seconds (the schema's unit for them); divided too, and rounded up so that none becomes 0. The
 * Route 53 / Global Accelerator intervals and the record TTL are AWS's values, not the configuration's to choose
 * freely: they are compressed by drillEdgeTimings with the same scale.
 */
export const SCALED_SECONDS_FIELDS = ['approval.timeoutSeconds', 'database.promoteTimeoutSeconds'] as const;

/** A configuration the drill refuses, with every problem by field (as `cutover config validate` reports them). */
export class DrillConfigError extends Error {
  constructor(
    message: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${message}\n${issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
    this.name = 'DrillConfigError';
  }
}

function get(obj: RawConfig, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as RawConfig)[k] : undefined), obj);
}

function set(obj: RawConfig, path: string, value: number): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<RawConfig | undefined>((o, k) => o?.[k], obj);
  if (parent && typeof parent[last] === 'number') parent[last] = value;
}

/**
 * Every timing of a parsed configuration divided by `scale` (a copy): milliseconds rounded to the nearest whole
 * one, but never below 1; seconds rounded up. Pure; the result is validated by the caller.
 */
export function scaleTimings(config: CutoverConfig, scale: number): RawConfig {
  if (!(Number.isFinite(scale) && scale >= 1))
    throw new RangeError(`time scale must be a number ≥ 1, got ${scale}`);
  const raw = structuredClone(config) as RawConfig;
  for (const path of SCALED_MS_FIELDS) {
    const v = get(raw, path);
    if (typeof v === 'number') set(raw, path, Math.max(1, Math.round(v / scale)));
  }
  for (const path of SCALED_SECONDS_FIELDS) {
    const v = get(raw, path);
    if (typeof v === 'number') set(raw, path, Math.max(1, Math.ceil(v / scale)));
  }
  return raw;
}

/**
 * A user's configuration for `cutover drill --config FILE --time-scale N`: validated as written (the project's
 * own validator), its timings divided by N, the scenario's own adjustments applied, and validated again, so that a
 * scale that breaks a rule (say lease.scheduledRunMs below two schedule periods) is refused by name.
 */
export function scaledDrillConfig(
  input: unknown,
  scale: number,
  overrides: (raw: RawConfig) => void = () => {},
  source = 'the configuration',
): CutoverConfig {
  const asWritten = parseConfig(input);
  if (!asWritten.ok) throw new DrillConfigError(`${source} is invalid:`, asWritten.issues);
  const raw = scaleTimings(asWritten.config, scale);
  overrides(raw);
  const scaled = parseConfig(raw);
  if (!scaled.ok) {
    throw new DrillConfigError(
      `${source} is valid as written, but its timings divided by --time-scale ${scale} break the configuration rules (choose a smaller scale):`,
      scaled.issues,
    );
  }
  return scaled.config;
}

/** Route 53's checker regions when a configuration names none (three, the fewest Route 53 accepts). */
const DEFAULT_CHECKER_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

/** The drill's Route 53 edge, from the configuration's traffic section, compressed by the drill's scale like everything else. */
export interface DrillEdgeTimings {
  mode: NonNullable<CutoverConfig['traffic']>['mode'];
  routing: 'weighted' | 'failover';
  checkerRegions: string[];
  /** Between two checks from one checker region (Route 53: 10 or 30 s). */
  intervalMs: number;
  failureThreshold: number;
  /** Route 53's HTTP check: connect within 4 s, then a status within 2 s ("How Route 53 determines health"). */
  timeoutMs: number;
  /** The records' TTL: how long a resolver keeps an answer. */
  ttlMs: number;
  /** Submission to INSYNC of a record change (Route 53: "generally within 60 seconds"). */
  propagationMs: number;
  /** How long an SDK call to an API that does not answer hangs before the client gives up. */
  requestTimeoutMs: number;
}

export function drillEdgeTimings(config: CutoverConfig, scale: number = TIME_SCALE): DrillEdgeTimings {
  const t = config.traffic;
  const hc = t?.healthCheck;
  const ga = t?.mode === 'accelerator' ? t.accelerator : undefined;
  if (ga) {
    // Global Accelerator: anycast addresses, no DNS answer to cache; its own endpoint health checks steer.
    return {
      mode: 'accelerator',
      routing: 'weighted',
      checkerRegions: DEFAULT_CHECKER_REGIONS,
      intervalMs: (ga.healthCheckIntervalSeconds * 1_000) / scale,
      failureThreshold: ga.thresholdCount,
      timeoutMs: 6_000 / scale,
      ttlMs: 0,
      propagationMs: 60_000 / scale,
      requestTimeoutMs: 40_000 / scale,
    };
  }
  return {
    mode: t?.mode ?? 'health-check',
    routing: t?.routing ?? 'weighted',
    checkerRegions: hc?.regions ?? DEFAULT_CHECKER_REGIONS,
    intervalMs: ((hc?.requestIntervalSeconds ?? 10) * 1_000) / scale,
    failureThreshold: hc?.failureThreshold ?? 1,
    timeoutMs: 6_000 / scale,
    ttlMs: ((t?.ttlSeconds ?? 60) * 1_000) / scale,
    propagationMs: 60_000 / scale,
    requestTimeoutMs: 40_000 / scale,
  };
}
