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

/**
 * Sets traffic.mode on a raw example and fills in what that mode needs to validate (config-rules' trafficIssues):
 * the accelerator's endpoints; the ARC cluster, its endpoints and routing controls, and all-at-once failback.
 */
export function withTrafficMode(
  raw: RawConfig,
  mode: 'health-check' | 'accelerator' | 'arc' | 'records',
): void {
  raw.traffic.mode = mode;
  if (mode === 'accelerator' && !raw.traffic.accelerator) {
    raw.traffic.accelerator = { endpoints: { 'us-east-1': 'alb-use1', 'us-west-2': 'alb-usw2' } };
  }
  if (mode === 'arc') {
    raw.traffic.failbackSteps = [100];
    raw.traffic.arc ??= {
      clusterArn: 'arn:aws:route53-recovery-control::123456789012:cluster/c1',
      clusterEndpoints: [{ region: 'us-west-2', endpoint: 'https://host-a.us-west-2.example.com/v1' }],
      routingControls: {
        'us-east-1': 'arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/use1',
        'us-west-2': 'arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/usw2',
      },
    };
  }
}

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
