import { type PostgresServer, replicationLag } from '../postgres.js';

/**
 * Measures how far the standby is behind the primary every 100 ms: the time since it was last caught up. Once
 * stopped (the standby is being promoted) it keeps the last measurement, which is what the RPO guard reads.
 */
export class LagSampler {
  private lag = { ms: 0, at: 0, caughtUpAt: Date.now() };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly primary: PostgresServer,
    private readonly replica: PostgresServer,
  ) {
    this.timer = setTimeout(() => void this.tick(), 100);
  }

  /** The last measured lag, ms (0 when caught up); null before the first measurement. */
  lagMs(): number | null {
    return this.lag.at === 0 ? null : this.lag.ms;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    const lag = await replicationLag(this.primary, this.replica, 300).catch(() => null);
    const now = Date.now();
    // With the primary gone (no bytes to compare) the lag stays at what it was when the standby last heard from it.
    if (lag && lag.bytes !== null) {
      const caughtUpAt = lag.bytes <= 0 ? now : this.lag.caughtUpAt;
      this.lag = { ms: now - caughtUpAt, at: now, caughtUpAt };
    }
    // A tick in flight when stop() is called must not start the next one.
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), 100);
  }
}
