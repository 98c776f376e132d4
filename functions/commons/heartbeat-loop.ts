import type { HealthProbe } from '#adapters/http/health-probe.js';
import type { CutoverConfig } from '#core/config.js';
import type { Clock, EventPublisher, LeaseStore } from '#core/ports.js';
import {
  type HeartbeatTick,
  LeaseRenewer,
  type MetricSink,
  retrySooner,
  urlHealth,
} from '#guard/lease-keeper.js';

export {
  type HeartbeatCode,
  type HeartbeatTick,
  LEASE_RENEWAL_FAILED,
  PRIMARY_SELF_FENCED,
} from '#guard/lease-keeper.js';

export interface HeartbeatDeps {
  config: CutoverConfig;
  /** The application region this heartbeat runs in. */
  region: string;
  leases: LeaseStore;
  probe: HealthProbe;
  publisher: EventPublisher;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** Milliseconds left in this run; the loop stops before a tick could outlive it. */
  remainingMs: () => number;
  /** The local health endpoint; defaults to this region's configured healthUrl. */
  healthUrl?: string;
  metric?: MetricSink;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * The longest one tick can take: the health check with the watchers' timeouts, then one renewal through the
 * lease replicas within retryTimeoutMs, plus half a second of slack. A run stops while this much is left.
 */
export function heartbeatTickBudgetMs(config: Pick<CutoverConfig, 'probe' | 'lease'>): number {
  return (
    Math.max(config.probe.connectTimeoutMs, config.probe.responseTimeoutMs) +
    config.lease.retryTimeoutMs +
    500
  );
}

/**
 * One scheduled run in an application region whose application is Lambda functions (lease.keeper
 * `scheduled`): the same tick as the in-process LeaseKeeper, every renew interval (retryTimeoutMs after an
 * error), until the run's time is up. Runs overlap, so each one starts by reading the lease.
 */
export async function runHeartbeat(deps: HeartbeatDeps): Promise<HeartbeatTick[]> {
  const { config, region, clock } = deps;
  const healthUrl =
    deps.healthUrl ?? (region === config.standby.region ? config.standby : config.primary).healthUrl;
  const l = config.lease;
  const budget = heartbeatTickBudgetMs(config);
  const renewer = new LeaseRenewer({
    application: config.application,
    region,
    primaryRegion: config.primary.region,
    timing: l,
    leases: deps.leases,
    // The watchers' criteria and timeouts: a region they see healthy is one that keeps its lease.
    health: urlHealth(deps.probe, healthUrl, config.probe),
    publisher: deps.publisher,
    clock,
    ...(deps.metric ? { metric: deps.metric } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
  const ticks: HeartbeatTick[] = [];
  while (deps.remainingMs() > budget) {
    const started = clock.now();
    const t = await renewer.tick();
    ticks.push(t);
    deps.log?.(t.reason, { ...t, application: config.application, region });
    // After an error, try again sooner: the lease must survive two failed renewals (config rule, I6).
    const interval = retrySooner(t.code) ? l.retryTimeoutMs : l.renewIntervalMs;
    const wait = interval - (clock.now() - started);
    if (deps.remainingMs() - Math.max(wait, 0) <= budget) break;
    if (wait > 0) await deps.sleep(wait);
  }
  // The pages run beside the ticks; send them before the invocation ends, within what is left of it.
  await Promise.race([
    renewer.flushed(),
    deps.sleep(Math.max(0, Math.min(deps.remainingMs() - 500, budget))),
  ]);
  return ticks;
}
