import { readFileSync } from 'node:fs';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import type { Vote } from '#core/vote.js';

export const exampleConfigJson = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../examples/cutover.example.json', import.meta.url), 'utf8'));

// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
type RawConfig = Record<string, any>;

export const exampleConfig = (overrides: (c: RawConfig) => void = () => {}): CutoverConfig => {
  const raw = exampleConfigJson() as RawConfig;
  overrides(raw);
  return loadConfig(raw);
};

export function vote(partial: Partial<Vote> & Pick<Vote, 'voter' | 'target'>, now: number): Vote {
  const observedAt = partial.observedAt ?? now - 1_000;
  return {
    application: 'orders',
    healthy: true,
    consecutiveFailures: 0,
    consecutiveSuccesses: 1,
    observedAt,
    streakSince: observedAt - 60_000,
    seq: 1,
    latencyMs: 12,
    detail: 'ok 200',
    expiresAt: Math.ceil(now / 1000) + 3600,
    ...partial,
  };
}
