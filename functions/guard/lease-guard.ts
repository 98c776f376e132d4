import type { WriteGuard } from '#core/guard.js';
import { type GuardDecision, type Lease, type LeaseTiming, mayWrite } from '#core/lease.js';
import type { Clock, LeaseStore } from '#core/ports.js';
import { systemClock } from '#core/ports.js';

/** A guarded write was refused: this region does not hold a valid lease. HTTP-shaped so middy answers 503. */
export class WriteFencedError extends Error {
  readonly statusCode = 503;
  readonly expose = true;
  readonly code: Exclude<GuardDecision['code'], 'HOLDER'>;
  readonly epoch: number | null;
  constructor(decision: Extract<GuardDecision, { allowed: false }>, options?: { cause?: unknown }) {
    super(`write refused (${decision.code}): ${decision.reason}`, options);
    this.name = 'WriteFencedError';
    this.code = decision.code;
    this.epoch = decision.epoch;
  }
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): { unref?(): unknown } | number;
  clearTimeout(handle: unknown): void;
}

export interface LeaseGuardOptions {
  store: Pick<LeaseStore, 'read'>;
  application: string;
  /** The region this application instance runs in. */
  region: string;
  timing: LeaseTiming;
  clock?: Clock;
  /** How often the cached lease is re-read; defaults to half the renew interval, so each renewal is seen. */
  refreshEveryMs?: number;
  /** A refresh starts at the latest this long before the cached lease stops allowing writes. */
  refreshAheadMs?: number;
  /**
   * While the cached lease is revoked (holder null: a failover fenced it and has not granted it yet), re-read this
   * often instead, so a region the failover grants the lease to starts writing, and its holder check answers 200,
   * soon after the grant rather than up to `refreshEveryMs` later. Defaults to a tenth of the renew interval
   * (at least 20 ms): with the example's 10 s renew interval, one strongly consistent read a second per process.
   */
  grantWatchMs?: number;
  /**
   * For at most this long after the guard first saw the lease revoked (default 15 minutes, RDS promotion's default
   * timeout in the configuration): a failover that ended without a grant leaves the lease revoked, and the guard
   * then goes back to `refreshEveryMs`.
   */
  grantWatchForMs?: number;
  timers?: Timers;
  onRefreshError?: (err: unknown) => void;
}

/**
 * The application's write guard. `check()` decides from a cached lease with no I/O; a background timer (unref'd,
 * so it never keeps a process alive) re-reads the lease before the cached one runs out. When refreshes keep
 * failing the cache simply ages out and `check()` refuses: the guard fails closed.
 *
 * In Lambda the timer does not run while the sandbox is frozen between invocations, so the middleware calls
 * `ensureFresh()` first, which reads only when the cache is due.
 */
export class LeaseGuard implements WriteGuard {
  private lease: Lease | null = null;
  private loadedAt: number | null = null;
  private lastError: { at: number; error: unknown } | null = null;
  private inflight: Promise<void> | null = null;
  private timer: unknown = null;
  private stopped = false;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly refreshEveryMs: number;
  private readonly refreshAheadMs: number;
  private readonly grantWatchMs: number;
  private readonly grantWatchForMs: number;
  /**
   * When this guard first saw the lease revoked (holder null) at `revokedEpoch`; null while someone holds it. A
   * revoke at a new epoch (a later failover fencing a lease an earlier one left revoked) starts the watch again.
   */
  private revokedSince: number | null = null;
  private revokedEpoch: number | null = null;
  /** Whether observe() took a lease while the read in flight was on its way: that lease is at least as new. */
  private observedDuringRead = false;
  /** The last read answered older than a lease observe() took meanwhile: it may have been served first, or not. */
  private rereadAtOnce = false;

  constructor(private readonly options: LeaseGuardOptions) {
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    this.refreshEveryMs =
      options.refreshEveryMs ?? Math.max(1, Math.floor(options.timing.renewIntervalMs / 2));
    this.refreshAheadMs = options.refreshAheadMs ?? options.timing.renewIntervalMs;
    this.grantWatchMs = options.grantWatchMs ?? Math.max(20, Math.floor(options.timing.renewIntervalMs / 10));
    this.grantWatchForMs = options.grantWatchForMs ?? 15 * 60_000;
    if (this.refreshEveryMs <= 0 || this.refreshAheadMs < 0) {
      throw new RangeError('refreshEveryMs must be positive and refreshAheadMs non-negative');
    }
    if (!(this.grantWatchMs > 0) || !(this.grantWatchForMs >= 0)) {
      throw new RangeError('grantWatchMs must be positive and grantWatchForMs non-negative');
    }
  }

  /** Synchronous, no I/O: the decision for a write now, with the epoch to store as the fencing token. */
  check(): GuardDecision {
    const now = this.clock.now();
    if (this.loadedAt === null) {
      return { allowed: false, epoch: null, code: 'STALE_CACHE', reason: this.notLoadedReason() };
    }
    const decision = mayWrite(this.lease, this.options.region, now, this.options.timing);
    if (!decision.allowed && decision.code === 'EXPIRED' && this.lastError) {
      return {
        ...decision,
        code: 'STALE_CACHE',
        reason: `${decision.reason}; the lease could not be re-read since ${this.lastError.at}: ${describe(this.lastError.error)}`,
      };
    }
    return decision;
  }

  /** The lease as last read (null when none exists or none was read yet); for the holder check and status. */
  cachedLease(): Lease | null {
    return this.lease;
  }

  /** Throws WriteFencedError unless a write is allowed now; returns the fencing token. */
  assertWritable(): number {
    const d = this.check();
    if (!d.allowed) throw new WriteFencedError(d);
    return d.epoch;
  }

  /** Reads the lease once and keeps refreshing it in the background until stop(). */
  async start(): Promise<GuardDecision> {
    this.stopped = false;
    await this.refresh();
    return this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * A lease this process just read or wrote (the LeaseKeeper's renewal), taken into the cache so the guard does
   * not wait for its next read. Never older than the cache: a lower epoch, or the same epoch with an earlier
   * expiry, is ignored.
   */
  observe(lease: Lease): void {
    if (lease.application !== this.options.application) return;
    if (this.olderThanCache(lease)) return;
    this.take(lease);
    if (this.inflight === null) this.schedule();
    else this.observedDuringRead = true;
  }

  /** Reads the lease unless the cache is fresh enough; for callers whose timers may have been frozen. */
  async ensureFresh(): Promise<void> {
    if (this.dueAt() > this.clock.now()) return;
    await this.refresh();
  }

  /** One read of the lease; concurrent callers share it. A failed read keeps the old cache, which ages out. */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.observedDuringRead = false;
      this.rereadAtOnce = false;
      try {
        const lease = await this.options.store.read(this.options.application);
        // A read answers for the instant it was served. A lease the keeper handed to observe() meanwhile is most
        // likely newer: the read must not put an older one back (no lease before the keeper's first acquire, the
        // revoked lease before the grant), or writes would be refused until the next read. Which came first is
        // unknown (a missing item may be a deletion after the observed write), so the next read comes at once and
        // decides. Otherwise the read decides, a missing item included.
        if (this.observedDuringRead && (lease === null || this.olderThanCache(lease)))
          this.rereadAtOnce = true;
        else this.take(lease);
      } catch (error) {
        this.lastError = { at: this.clock.now(), error };
        this.options.onRefreshError?.(error);
      } finally {
        this.inflight = null;
        this.schedule();
      }
    })();
    return this.inflight;
  }

  /** A lower epoch, or the same epoch with an earlier expiry, than the cached lease. */
  private olderThanCache(lease: Lease): boolean {
    const cached = this.lease;
    if (this.loadedAt === null || !cached) return false;
    return lease.epoch < cached.epoch || (lease.epoch === cached.epoch && lease.expiresAt < cached.expiresAt);
  }

  private take(lease: Lease | null): void {
    const now = this.clock.now();
    this.lease = lease;
    this.loadedAt = now;
    this.lastError = null;
    if (lease && lease.holder === null) {
      if (this.revokedSince === null || this.revokedEpoch !== lease.epoch) this.revokedSince = now;
      this.revokedEpoch = lease.epoch;
    } else {
      this.revokedSince = null;
      this.revokedEpoch = null;
    }
  }

  /** Whether a grant may be on its way: the lease was revoked recently enough to watch for it closely. */
  private watchingForGrant(now: number): boolean {
    return this.revokedSince !== null && now - this.revokedSince < this.grantWatchForMs;
  }

  /**
   * When the cached lease should be re-read: periodically (closely while a revoked lease may be granted), and well
   * before it stops allowing writes.
   */
  private dueAt(): number {
    if (this.rereadAtOnce) return Number.NEGATIVE_INFINITY;
    // Never read: at once, unless the last attempt failed; then not again at once (a read that fails fast would be
    // retried in a busy loop, a read a millisecond), but a retry interval later, as after a failed refresh below.
    if (this.loadedAt === null)
      return this.lastError ? this.lastError.at + this.retryMs() : Number.NEGATIVE_INFINITY;
    const every = this.watchingForGrant(this.clock.now()) ? this.grantWatchMs : this.refreshEveryMs;
    const periodic = (this.lastError?.at ?? this.loadedAt) + every;
    const decision = mayWrite(this.lease, this.options.region, this.clock.now(), this.options.timing);
    if (!decision.allowed) return periodic;
    const ahead = decision.validUntil - this.refreshAheadMs;
    if (!this.lastError) return Math.min(periodic, ahead);
    // After a failed read inside the refresh-ahead window, not again at once: a read that fails fast (refused, no
    // route) would otherwise be retried in a busy loop. The next comes a fifth of the refresh period later.
    const retryAt = this.lastError.at + this.retryMs();
    return Math.min(periodic, Math.max(ahead, retryAt));
  }

  private retryMs(): number {
    return Math.max(1, Math.floor(this.refreshEveryMs / 5));
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    const delay = Math.max(0, this.dueAt() - this.clock.now());
    const handle = this.timers.setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delay);
    if (typeof handle === 'object' && handle.unref) handle.unref();
    this.timer = handle;
  }

  private notLoadedReason(): string {
    return this.lastError
      ? `the lease has not been read yet: ${describe(this.lastError.error)}`
      : 'the lease has not been read yet (call start() or ensureFresh() first)';
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
