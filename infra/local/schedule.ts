/** What one scheduled invocation gets: its remaining time, and a sleep that stopping the schedule cuts short. */
export interface Invocation {
  sleep(ms: number): Promise<void>;
  remainingMs(): number;
}

export interface ScheduledFunction {
  readonly alive: boolean;
  /** The "region" dies: the current invocation runs out of time at once, and no other starts. */
  stop(): Promise<void>;
}

/**
 * Runs a function as an EventBridge Scheduler rule runs a Lambda function every minute, compressed: one
 * invocation after another, each given `invocationMs`. A failed invocation is reported; the next tick retries,
 * as Lambda's would.
 */
export function scheduleInvocations(opts: {
  invocationMs: number;
  invoke: (invocation: Invocation) => Promise<unknown>;
  onError: (error: unknown) => void;
  /** Pause between two invocations. */
  betweenMs?: number;
  /** Pause after a failed invocation. */
  afterErrorMs?: number;
}): ScheduledFunction {
  let alive = true;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  const loop = (async () => {
    while (alive) {
      const started = Date.now();
      try {
        await opts.invoke({
          sleep,
          remainingMs: () => (alive ? opts.invocationMs - (Date.now() - started) : 0),
        });
        if (alive && opts.betweenMs) await sleep(opts.betweenMs);
      } catch (err) {
        opts.onError(err);
        if (alive && opts.afterErrorMs) await sleep(opts.afterErrorMs);
      }
    }
  })();
  return {
    get alive() {
      return alive;
    },
    stop: async () => {
      alive = false;
      wake?.();
      await loop;
    },
  };
}
