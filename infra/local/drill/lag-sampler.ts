import { type PostgresServer, replicationLag } from '../postgres.js';

/**
 * Measures how far the standby is behind the primary every 100 ms: the time since it was last caught up. Once
 * stopped (the standby is being promoted) it keeps the last measurement, with the time it was taken.
 *
 * With the primary gone there is nothing to compare with; a reading is then taken only when the standby answers
 * and has replayed all the WAL it received: its lag stays what it was when it last heard from the primary, and
 * the reading is as new as that answer. A standby that does not answer gives no new reading.
 */
export class LagSampler {
  private lag = { ms: 0, at: 0, caughtUpAt: Date.now() };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inflight: Promise<void> | null = null;

  constructor(
    private readonly primary: PostgresServer,
    private readonly replica: PostgresServer,
  ) {
    this.timer = setTimeout(() => void this.tick(), 100);
  }

  /** The last reading: lag in ms (0 when caught up) and when it was taken; null fields before the first. */
  reading(): { lagMs: number | null; at: number | null } {
    return this.lag.at === 0 ? { lagMs: null, at: null } : { lagMs: this.lag.ms, at: this.lag.at };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * A reading no older than `maxAgeMs`: the last one when it is recent enough, else one taken now (shared with a
   * sample already in flight). The RPO guard asks for one newer than the fence; waiting up to a whole sampling
   * period for it is the stand-in's latency, not the control plane's. Once stopped, the last reading.
   */
  async fresh(maxAgeMs: number): Promise<{ lagMs: number | null; at: number | null }> {
    const asked = Date.now();
    // A sample already in flight started before this call: then one more. Two at most: a standby that does not
    // answer gives no new reading, and the caller sees the old one with its old time.
    for (let i = 0; i < 2 && !this.stopped && this.lag.at < asked - maxAgeMs; i++) await this.sample();
    return this.reading();
  }

  private sample(): Promise<void> {
    this.inflight ??= this.measure().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async measure(): Promise<void> {
    // Stamped when it starts: a reading that began before the fence must never count as newer than it.
    const now = Date.now();
    const lag = await replicationLag(this.primary, this.replica, 300).catch(() => null);
    if (this.stopped) return;
    // With the primary gone (no bytes to compare) the lag stays at what it was when the standby last heard from it.
    if (lag && lag.bytes !== null) {
      const caughtUpAt = lag.bytes <= 0 ? now : this.lag.caughtUpAt;
      this.lag = { ms: now - caughtUpAt, at: now, caughtUpAt };
    } else if (lag && this.lag.at !== 0 && lag.receiveLsn !== null && lag.receiveLsn === lag.replayLsn) {
      this.lag = { ...this.lag, at: now };
    }
  }

  private async tick(): Promise<void> {
    await this.sample();
    // A tick in flight when stop() is called must not start the next one.
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), 100);
  }
}
