import { describeError } from '#core/errors.js';
import { planHeartbeat } from '#core/heartbeat.js';
import { type GuardDecision, type Lease, type LeaseTiming, mayWrite } from '#core/lease.js';
import type { Clock, EventPublisher, LeaseStore } from '#core/ports.js';
import { systemClock } from '#core/ports.js';
import { checkSelfFence } from '#core/self-fence.js';
import type { ProbeResult } from '#core/vote.js';
import type { Timers } from './lease-guard.js';

export const LEASE_RENEWAL_FAILED = 'Lease Renewal Failed';
export const PRIMARY_SELF_FENCED = 'Primary Self-Fenced';

/** The region's own health as the renewer sees it, by the same criteria as the watchers. */
export interface HealthState {
  healthy: boolean;
  detail: string;
}
export type HealthCheck = () => Promise<HealthState>;

export interface ProbeTimeouts {
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

/**
 * The watchers' own check of `url`, with their timeouts (config.probe): a primary that the watchers see healthy
 * is one its renewer sees healthy, so it never fences itself while every vote says all is well.
 */
export function urlHealth(
  probe: (url: string, timeouts: ProbeTimeouts) => Promise<ProbeResult>,
  url: string,
  timeouts: ProbeTimeouts,
): HealthCheck {
  const t = { connectTimeoutMs: timeouts.connectTimeoutMs, responseTimeoutMs: timeouts.responseTimeoutMs };
  return async () => {
    const r = await probe(url, t);
    return { healthy: r.healthy, detail: r.detail };
  };
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
  /** Set on the tick that found this region fenced by itself and published `Primary Self-Fenced`. */
  selfFenced?: string;
}

export type KeeperMetric =
  | 'LeaseRenewed'
  | 'LeaseRenewalFailed'
  | 'LeaseNotRenewedUnhealthy'
  | 'LeaseReadFailed'
  | 'PrimarySelfFenced';
export type MetricSink = (name: KeeperMetric, value: number) => void;

/** After these, the next tick comes after retryTimeoutMs instead of the renew interval. */
export const retrySooner = (code: HeartbeatCode): boolean =>
  code === 'RENEWAL_ERROR' || code === 'READ_ERROR';

export interface RenewerOptions {
  application: string;
  /** The application region this renewer runs in. */
  region: string;
  /** The configured primary: the only region that may create a lease that never existed. */
  primaryRegion: string;
  timing: LeaseTiming;
  leases: LeaseStore;
  health: HealthCheck;
  publisher: EventPublisher;
  clock: Clock;
  /** The write guard's decision now; without it, the lease this renewer last saw decides. */
  writable?: () => GuardDecision;
  /** Told of every lease this renewer reads, renews or creates (LeaseGuard.observe). */
  onLease?: (lease: Lease) => void;
  metric?: MetricSink;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * One renewal tick, shared by the in-process LeaseKeeper and the scheduled Lambda heartbeat: check the local
 * health, then renew (or bootstrap) the lease as planHeartbeat says, and page when this region has fenced itself.
 * The last lease it saw is remembered between ticks, so a healthy holder costs one conditional write per tick;
 * a refused renewal drops it and the next tick reads again.
 */
export class LeaseRenewer {
  private known: Lease | null | undefined;
  private selfFenceReported = false;
  private readonly pending = new Set<Promise<void>>();
  /** The healthy verdict of a tick whose attempt failed, kept for its retry (see tick()), and when it was checked. */
  private retryHealth: { state: HealthState; at: number } | null = null;

  constructor(private readonly o: RenewerOptions) {}

  /** The lease as this renewer last saw it; undefined before the first read. */
  get lease(): Lease | null | undefined {
    return this.known;
  }

  /**
   * One tick. A retry after a failed attempt reuses the healthy verdict of the tick it retries (checked at most
   * one renew interval before) instead of checking again: a health check may take up to the watchers' response
   * timeout, and the renewal rule gives each retry only `retryTimeoutMs`, so checking again before every retry
   * could push the third attempt past the holder's write deadline while the region is healthy by the watchers'
   * own measure.
   */
  async tick(): Promise<HeartbeatTick> {
    const { o } = this;
    const saved = this.retryHealth;
    this.retryHealth = null;
    const reuse = saved && o.clock.now() - saved.at <= o.timing.renewIntervalMs ? saved : null;
    const checkedAt = reuse?.at ?? o.clock.now();
    const health =
      reuse?.state ??
      (await o.health().catch(
        (err: unknown): HealthState => ({
          healthy: false,
          detail: `health check failed: ${describeError(err)}`,
        }),
      ));
    const tick = await this.tickWith(health);
    if (health.healthy && retrySooner(tick.code)) this.retryHealth = { state: health, at: checkedAt };
    return tick;
  }

  private async tickWith(health: HealthState): Promise<HeartbeatTick> {
    const { o } = this;
    const out = (code: HeartbeatCode, reason: string, lease: Lease | null | undefined): HeartbeatTick => ({
      at: o.clock.now(),
      healthy: health.healthy,
      code,
      reason,
      epoch: lease?.epoch ?? null,
      expiresAt: lease?.expiresAt ?? null,
    });
    if (health.healthy && this.known === undefined) {
      try {
        this.known = await o.leases.read(o.application);
        if (this.known) o.onLease?.(this.known);
      } catch (err) {
        o.metric?.('LeaseReadFailed', 1);
        return this.withSelfFence(
          health,
          out('READ_ERROR', `could not read the lease: ${describeError(err)}`, null),
        );
      }
    }
    // Before acting: a renewal that succeeds now does not undo the writes refused since the lease ran out.
    const selfFenced = await this.checkSelfFence(health);
    const tick = await this.act(health, out);
    return selfFenced ? { ...tick, selfFenced } : tick;
  }

  private async withSelfFence(health: HealthState, tick: HeartbeatTick): Promise<HeartbeatTick> {
    const selfFenced = await this.checkSelfFence(health);
    return selfFenced ? { ...tick, selfFenced } : tick;
  }

  private async act(
    health: HealthState,
    out: (code: HeartbeatCode, reason: string, lease: Lease | null | undefined) => HeartbeatTick,
  ): Promise<HeartbeatTick> {
    const { o } = this;
    const plan = planHeartbeat({
      lease: this.known ?? null,
      healthy: health.healthy,
      healthDetail: health.detail,
      region: o.region,
      primaryRegion: o.primaryRegion,
    });
    if (plan.action === 'none') {
      if (plan.code === 'UNHEALTHY_NOT_RENEWING') o.metric?.('LeaseNotRenewedUnhealthy', 1);
      // Someone else holds it, or it is fenced: read afresh next tick rather than trust this view.
      else this.known = undefined;
      return out(plan.code, plan.reason, this.known);
    }
    if (plan.action === 'acquire') {
      try {
        const r = await o.leases.acquire(o.application, o.region, null);
        this.known = r.ok ? r.lease : undefined;
        if (r.ok) {
          o.onLease?.(r.lease);
          return out(
            'BOOTSTRAPPED',
            `${plan.reason}: holds epoch ${r.lease.epoch} until ${r.lease.expiresAt}`,
            r.lease,
          );
        }
        return out('BOOTSTRAP_LOST', `${plan.reason}, but another writer created it first`, r.current);
      } catch (err) {
        this.known = undefined;
        o.metric?.('LeaseReadFailed', 1);
        return out('READ_ERROR', `could not create the lease: ${describeError(err)}`, null);
      }
    }
    const before = this.known;
    try {
      const r = await o.leases.renew(o.application, o.region, plan.epoch);
      if (r.ok) {
        this.known = r.lease;
        o.onLease?.(r.lease);
        o.metric?.('LeaseRenewed', 1);
        return out('RENEWED', `renewed epoch ${r.lease.epoch} until ${r.lease.expiresAt}`, r.lease);
      }
      this.known = undefined;
      const now = r.current;
      const reason = now
        ? `renewal of epoch ${plan.epoch} refused (${r.code}): the lease is at epoch ${now.epoch}, held by ${now.holder ?? 'nobody (revoked)'}`
        : `renewal of epoch ${plan.epoch} refused (${r.code}): the lease item is gone`;
      return await this.failed(out('RENEWAL_REFUSED', reason, now), plan.epoch, now);
    } catch (err) {
      // Keep the lease we had: a timeout may have renewed it, and the next renewal is conditional anyway.
      this.known = before;
      const reason = `renewal of epoch ${plan.epoch} failed: ${describeError(err)}`;
      return await this.failed(out('RENEWAL_ERROR', reason, before), plan.epoch, before);
    }
  }

  private async failed(
    tick: HeartbeatTick,
    epoch: number,
    current: Lease | null | undefined,
  ): Promise<HeartbeatTick> {
    const { o } = this;
    const result = { ...tick, epoch };
    o.metric?.('LeaseRenewalFailed', 1);
    this.publish(LEASE_RENEWAL_FAILED, {
      application: o.application,
      region: o.region,
      epoch,
      code: tick.code,
      reason: tick.reason,
      at: result.at,
      current: current
        ? { holder: current.holder, epoch: current.epoch, expiresAt: current.expiresAt }
        : null,
    });
    return result;
  }

  /** Publishes `Primary Self-Fenced` once per episode; returns its reason when it did. */
  private async checkSelfFence(health: HealthState): Promise<string | undefined> {
    const { o } = this;
    const now = o.clock.now();
    const known = this.known ?? null;
    const decision = o.writable?.() ?? mayWrite(known, o.region, now, o.timing);
    const check = checkSelfFence({ decision, known, region: o.region, reported: this.selfFenceReported });
    if (check.code === 'WRITABLE' || check.code === 'FENCED_BY_FAILOVER' || check.code === 'NOT_HOLDER') {
      this.selfFenceReported = false;
    }
    if (check.code !== 'SELF_FENCED' || !check.publish) return undefined;
    this.selfFenceReported = true;
    o.metric?.('PrimarySelfFenced', 1);
    this.publish(PRIMARY_SELF_FENCED, {
      application: o.application,
      region: o.region,
      epoch: check.epoch,
      code: decision.code,
      reason: check.reason,
      healthy: health.healthy,
      healthDetail: health.detail,
      at: now,
      expiresAt: known?.expiresAt ?? null,
    });
    o.log?.(check.reason, { code: 'SELF_FENCED', application: o.application, region: o.region });
    return check.reason;
  }

  /**
   * Pages without holding the tick: a PutEvents that stalls must never delay the next renewal (the renewal rule
   * counts no time for it), so the send runs on its own and a failure is logged. `flushed()` waits for them.
   */
  private publish(detailType: string, detail: Record<string, unknown>): void {
    const sent = (async () => {
      try {
        await this.o.publisher.publish(detailType, detail);
      } catch (err) {
        const what = detailType === LEASE_RENEWAL_FAILED ? 'the failed renewal' : `the ${detailType} event`;
        this.o.log?.(`could not publish ${what}`, {
          code: detail.code,
          reason: detail.reason,
          error: describeError(err),
        });
      }
    })();
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
  }

  /** Resolves once every page this renewer started has been sent or has failed (e.g. before a Lambda returns). */
  async flushed(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

export interface LeaseKeeperOptions {
  application: string;
  region: string;
  primaryRegion: string;
  timing: LeaseTiming & { retryTimeoutMs: number };
  /** Ideally a ReplicaLeaseStore: the local lease replica first, then the others, within retryTimeoutMs. */
  leases: LeaseStore;
  health: HealthCheck;
  publisher: EventPublisher;
  /** The guard in this process's write path: the keeper feeds it each renewed lease and asks it whether writes pass. */
  guard?: { check(): GuardDecision; observe(lease: Lease): void };
  clock?: Clock;
  timers?: Timers;
  metric?: MetricSink;
  log?: (message: string, fields: Record<string, unknown>) => void;
  /** Every tick, after it ends (the drill's timeline, a test). */
  onTick?: (tick: HeartbeatTick) => void;
}

/**
 * Keeps the lease from inside the application's own process (container, EC2 instance, ECS task): every renew
 * interval, or retryTimeoutMs after an error, one LeaseRenewer tick. Its timer is unref'd, so it never keeps a
 * process alive; start() is idempotent and stop() waits for the tick in flight.
 */
export class LeaseKeeper {
  readonly renewer: LeaseRenewer;
  private timer: unknown = null;
  private running = false;
  private inflight: Promise<HeartbeatTick> | null = null;
  private last: HeartbeatTick | null = null;
  private readonly clock: Clock;
  private readonly timers: Timers;

  constructor(private readonly o: LeaseKeeperOptions) {
    const t = o.timing;
    for (const [field, value] of [
      ['timing.renewIntervalMs', t.renewIntervalMs],
      ['timing.retryTimeoutMs', t.retryTimeoutMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0)
        throw new RangeError(`${field} must be a positive number of milliseconds`);
    }
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    const guard = o.guard;
    this.renewer = new LeaseRenewer({
      application: o.application,
      region: o.region,
      primaryRegion: o.primaryRegion,
      timing: o.timing,
      leases: o.leases,
      health: o.health,
      publisher: o.publisher,
      clock: this.clock,
      ...(guard ? { writable: () => guard.check(), onLease: (l: Lease) => guard.observe(l) } : {}),
      ...(o.metric ? { metric: o.metric } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  }

  get started(): boolean {
    return this.running;
  }

  /** The last tick's outcome, null before the first. */
  get lastTick(): HeartbeatTick | null {
    return this.last;
  }

  /** Starts ticking now; resolves with the first tick. */
  start(): Promise<HeartbeatTick> {
    if (this.running && this.inflight) return this.inflight;
    this.running = true;
    return this.run();
  }

  /** No more ticks; resolves when the one in flight (if any) has ended. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.inflight?.catch(() => undefined);
  }

  private run(): Promise<HeartbeatTick> {
    if (this.inflight) return this.inflight;
    const started = this.clock.now();
    const p = (async () => {
      try {
        const tick = await this.renewer.tick();
        this.last = tick;
        this.o.log?.(tick.reason, { ...tick, application: this.o.application, region: this.o.region });
        this.o.onTick?.(tick);
        return tick;
      } finally {
        this.inflight = null;
        this.schedule(started);
      }
    })();
    this.inflight = p;
    return p;
  }

  private schedule(started: number): void {
    if (!this.running) return;
    const t = this.o.timing;
    const interval = this.last && retrySooner(this.last.code) ? t.retryTimeoutMs : t.renewIntervalMs;
    const delay = Math.max(0, interval - (this.clock.now() - started));
    const handle = this.timers.setTimeout(() => {
      this.timer = null;
      if (this.running)
        void this.run().catch((err: unknown) =>
          this.o.log?.('keeper tick failed', { error: describeError(err) }),
        );
    }, delay);
    if (typeof handle === 'object' && handle.unref) handle.unref();
    this.timer = handle;
  }
}
