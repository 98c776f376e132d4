import type { QueueBacklogReader } from '#core/health.js';

/**
 * The drill's stand-in for the application's SQS queue: the sample app enqueues a message for every acknowledged
 * order and a consumer drains it every `drainEveryMs`. `stall()` stops the consumer, so the queue backs up and the
 * age of its oldest message grows as SQS's ApproximateAgeOfOldestMessage would; `resume()` drains it again.
 */
export class LocalQueue implements QueueBacklogReader {
  private readonly sentAt: number[] = [];
  private stalled = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly name: string,
    private readonly now: () => number = Date.now,
    private readonly drainEveryMs = 100,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.stalled) this.sentAt.length = 0;
    }, this.drainEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  send(): void {
    this.sentAt.push(this.now());
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
  }

  depth(): number {
    return this.sentAt.length;
  }

  /** Seconds, to a tenth; null when nothing waits (SQS publishes no age then). */
  async oldestMessageAgeSeconds(): Promise<number | null> {
    const oldest = this.sentAt[0];
    return oldest === undefined ? null : Math.round((this.now() - oldest) / 100) / 10;
  }
}
