import type { HealthProbe } from '#adapters/http/health-probe.js';
import type { CutoverConfig } from '#core/config.js';
import { planHeartbeat } from '#core/heartbeat.js';
import type { Lease } from '#core/lease.js';
import type { Clock, EventPublisher, LeaseStore } from '#core/ports.js';

export const LEASE_RENEWAL_FAILED = 'Lease Renewal Failed';

export interface HeartbeatDeps {
  config: CutoverConfig;
  /** The application region this heartbeat runs in. */
  region: string;
  leases: LeaseStore;
  probe: HealthProbe;
  publisher: EventPublisher;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** Milliseconds left in this invocation; the loop stops before a renewal could outlive it. */
  remainingMs: () => number;
  /** The local health endpoint; defaults to this region's configured healthUrl. */
  healthUrl?: string;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export type HeartbeatCode =
  | 'RENEWED'
  | 'RENEWAL_REFUSED'
  | 'RENEWAL_ERROR'
  | 'BOOTSTRAPPED'
  | 'BOOTSTRAP_LOST'
  | 'READ_ERROR'
  | 'UNHEALTHY_NOT_RENEWING'
  | 'UNHEALTHY'
  | 'NO_LEASE_STANDBY'
  | 'FENCED'
  | 'NOT_HOLDER';

/** One tick: its code and sentence are both the log line and what the tests assert. */
export interface HeartbeatTick {
  at: number;
  healthy: boolean;
  code: HeartbeatCode;
  reason: string;
  epoch: number | null;
  expiresAt: number | null;
}

/**
 * One scheduled invocation in an application region: every renew interval, check the local health, then renew
 * (or bootstrap) the lease while healthy. The last lease it saw is remembered between ticks, so a healthy holder
 * costs one conditional write per tick; a refused renewal drops it and the next tick reads again.
 */
export async function runHeartbeat(deps: HeartbeatDeps): Promise<HeartbeatTick[]> {
  const { config, region, leases, clock } = deps;
  const app = config.application;
  const healthUrl =
    deps.healthUrl ?? (region === config.standby.region ? config.standby : config.primary).healthUrl;
  const l = config.lease;
  // Room for one renewal plus its retry, so the invocation never ends in the middle of a write.
  const budget = 2 * l.retryTimeoutMs + 1_000;
  let known: Lease | null | undefined;
  const ticks: HeartbeatTick[] = [];

  const tick = async (): Promise<HeartbeatTick> => {
    const health = await deps.probe(healthUrl, {
      connectTimeoutMs: Math.min(config.probe.connectTimeoutMs, l.retryTimeoutMs),
      responseTimeoutMs: Math.min(config.probe.responseTimeoutMs, l.retryTimeoutMs),
    });
    const out = (code: HeartbeatCode, reason: string, lease: Lease | null | undefined): HeartbeatTick => ({
      at: clock.now(),
      healthy: health.healthy,
      code,
      reason,
      epoch: lease?.epoch ?? null,
      expiresAt: lease?.expiresAt ?? null,
    });
    if (health.healthy && known === undefined) {
      try {
        known = await leases.read(app);
      } catch (err) {
        return out('READ_ERROR', `could not read the lease: ${describe(err)}`, null);
      }
    }
    const plan = planHeartbeat({
      lease: known ?? null,
      healthy: health.healthy,
      healthDetail: health.detail,
      region,
      primaryRegion: config.primary.region,
    });
    if (plan.action === 'none') {
      // Someone else holds it, or it is fenced: read afresh next tick rather than trust this view.
      if (plan.code !== 'UNHEALTHY_NOT_RENEWING') known = undefined;
      return out(plan.code, plan.reason, known);
    }
    if (plan.action === 'acquire') {
      try {
        const r = await leases.acquire(app, region, null);
        known = r.ok ? r.lease : undefined;
        return r.ok
          ? out(
              'BOOTSTRAPPED',
              `${plan.reason}: holds epoch ${r.lease.epoch} until ${r.lease.expiresAt}`,
              r.lease,
            )
          : out('BOOTSTRAP_LOST', `${plan.reason}, but another writer created it first`, r.current);
      } catch (err) {
        known = undefined;
        return out('READ_ERROR', `could not create the lease: ${describe(err)}`, null);
      }
    }
    const before = known;
    try {
      const r = await leases.renew(app, region, plan.epoch);
      if (r.ok) {
        known = r.lease;
        return out('RENEWED', `renewed epoch ${r.lease.epoch} until ${r.lease.expiresAt}`, r.lease);
      }
      known = undefined;
      const now = r.current;
      const reason = now
        ? `renewal of epoch ${plan.epoch} refused (${r.code}): the lease is at epoch ${now.epoch}, held by ${now.holder ?? 'nobody (revoked)'}`
        : `renewal of epoch ${plan.epoch} refused (${r.code}): the lease item is gone`;
      return await failed('RENEWAL_REFUSED', reason, plan.epoch, now, out);
    } catch (err) {
      // Keep the lease we had: a timeout may have renewed it, and the next tick's renewal is conditional anyway.
      known = before;
      return await failed(
        'RENEWAL_ERROR',
        `renewal of epoch ${plan.epoch} failed: ${describe(err)}`,
        plan.epoch,
        before,
        out,
      );
    }
  };

  const failed = async (
    code: 'RENEWAL_REFUSED' | 'RENEWAL_ERROR',
    reason: string,
    epoch: number,
    current: Lease | null | undefined,
    out: (code: HeartbeatCode, reason: string, lease: Lease | null | undefined) => HeartbeatTick,
  ): Promise<HeartbeatTick> => {
    const result = { ...out(code, reason, current), epoch };
    try {
      await deps.publisher.publish(LEASE_RENEWAL_FAILED, {
        application: app,
        region,
        epoch,
        code,
        reason,
        at: result.at,
        current: current
          ? { holder: current.holder, epoch: current.epoch, expiresAt: current.expiresAt }
          : null,
      });
    } catch (err) {
      deps.log?.('could not publish the failed renewal', { code, reason, error: describe(err) });
    }
    return result;
  };

  while (deps.remainingMs() > budget) {
    const started = clock.now();
    const t = await tick();
    ticks.push(t);
    deps.log?.(t.reason, { ...t, application: app, region });
    // After an error, try again sooner: the lease must survive two failed renewals (config rule, I6).
    const interval =
      t.code === 'RENEWAL_ERROR' || t.code === 'READ_ERROR' ? l.retryTimeoutMs : l.renewIntervalMs;
    const wait = interval - (clock.now() - started);
    if (deps.remainingMs() - Math.max(wait, 0) <= budget) break;
    if (wait > 0) await deps.sleep(wait);
  }
  return ticks;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
