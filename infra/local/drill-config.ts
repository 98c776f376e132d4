import { readFileSync } from 'node:fs';
import { type CutoverConfig, loadConfig } from '#core/config.js';

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

/** The drill compresses AWS's timings by this factor (a 10 s probe interval becomes 0.5 s). */
export const TIME_SCALE = 20;

/** Route 53's checker regions when a configuration names none (three, the fewest Route 53 accepts). */
const DEFAULT_CHECKER_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

/** The drill's Route 53 edge, from the configuration's traffic section, compressed like everything else. */
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

export function drillEdgeTimings(config: CutoverConfig): DrillEdgeTimings {
  const t = config.traffic;
  const hc = t?.healthCheck;
  const ga = t?.mode === 'accelerator' ? t.accelerator : undefined;
  if (ga) {
    // Global Accelerator: anycast addresses, no DNS answer to cache; its own endpoint health checks steer.
    return {
      mode: 'accelerator',
      routing: 'weighted',
      checkerRegions: DEFAULT_CHECKER_REGIONS,
      intervalMs: (ga.healthCheckIntervalSeconds * 1_000) / TIME_SCALE,
      failureThreshold: ga.thresholdCount,
      timeoutMs: 6_000 / TIME_SCALE,
      ttlMs: 0,
      propagationMs: 60_000 / TIME_SCALE,
      requestTimeoutMs: 40_000 / TIME_SCALE,
    };
  }
  return {
    mode: t?.mode ?? 'health-check',
    routing: t?.routing ?? 'weighted',
    checkerRegions: hc?.regions ?? DEFAULT_CHECKER_REGIONS,
    intervalMs: ((hc?.requestIntervalSeconds ?? 10) * 1_000) / TIME_SCALE,
    failureThreshold: hc?.failureThreshold ?? 1,
    timeoutMs: 6_000 / TIME_SCALE,
    ttlMs: ((t?.ttlSeconds ?? 60) * 1_000) / TIME_SCALE,
    propagationMs: 60_000 / TIME_SCALE,
    requestTimeoutMs: 40_000 / TIME_SCALE,
  };
}
