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
