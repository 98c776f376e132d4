/**
 * The drill's stand-in for Route 53's health checkers: each checker region polls every region's check on its own
 * interval, uncoordinated with the others, and changes its view of a region only after `failureThreshold`
 * consecutive results the other way. A region is healthy when more than 18% of the checkers report it healthy
 * (Route 53 developer guide, "How Amazon Route 53 determines whether a health check is healthy"). A check passes
 * on a 2xx or 3xx answer within the timeout, as Route 53's HTTP checks do.
 */

export interface HealthCheckersOptions {
  /** Region → URL of its check (in the drill, the holder check through the link the world reaches it by). */
  targets: Record<string, string>;
  /** At least one; Route 53 asks for at least three. */
  checkerRegions: readonly string[];
  intervalMs: number;
  failureThreshold: number;
  /** Connect and answer within this, or the check fails. */
  timeoutMs: number;
  /** Called when a region's aggregate health changes (not for the first reading). */
  onChange?: (region: string, healthy: boolean, detail: string) => void;
}

export interface RegionHealth {
  healthy: boolean;
  /** Checker region → that checker's view; null before its first result. */
  checkers: Record<string, boolean | null>;
}

/** Names the checker region on each check, as Route 53's checkers identify themselves by address. */
export const CHECKER_HEADER = 'x-cutover-checker';

/** More than this share of checkers must report healthy (Route 53's documented 18%). */
export const HEALTHY_SHARE = 0.18;

interface View {
  healthy: boolean | null;
  /** Consecutive results that disagree with `healthy`. */
  streak: number;
  inFlight: boolean;
  last: string;
}

export class HealthCheckers {
  private readonly views = new Map<string, Map<string, View>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly aggregate = new Map<string, boolean>();
  private stopped = false;

  private constructor(private readonly opts: HealthCheckersOptions) {
    const problems: string[] = [];
    if (opts.checkerRegions.length < 1) problems.push('checkerRegions: needs at least one checker region');
    if (!(opts.intervalMs > 0)) problems.push(`intervalMs: must be > 0, got ${opts.intervalMs}`);
    if (!Number.isInteger(opts.failureThreshold) || opts.failureThreshold < 1)
      problems.push(`failureThreshold: must be a whole number ≥ 1, got ${opts.failureThreshold}`);
    if (!(opts.timeoutMs > 0)) problems.push(`timeoutMs: must be > 0, got ${opts.timeoutMs}`);
    if (Object.keys(opts.targets).length === 0) problems.push('targets: no region to check');
    if (problems.length) throw new RangeError(`health checkers: ${problems.join('; ')}`);
    for (const region of Object.keys(opts.targets)) {
      this.views.set(
        region,
        new Map(opts.checkerRegions.map((c) => [c, { healthy: null, streak: 0, inFlight: false, last: '' }])),
      );
    }
  }

  /** Starts every checker after one first round, so that the first answers rest on real readings. */
  static async start(opts: HealthCheckersOptions): Promise<HealthCheckers> {
    const checkers = new HealthCheckers(opts);
    await checkers.round();
    for (const region of Object.keys(opts.targets)) checkers.aggregate.set(region, checkers.compute(region));
    checkers.schedule();
    return checkers;
  }

  healthy(region: string): boolean {
    return this.aggregate.get(region) ?? false;
  }

  status(): Record<string, RegionHealth> {
    const out: Record<string, RegionHealth> = {};
    for (const [region, byChecker] of this.views) {
      out[region] = {
        healthy: this.healthy(region),
        checkers: Object.fromEntries([...byChecker].map(([c, v]) => [c, v.healthy])),
      };
    }
    return out;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(): void {
    const n = this.opts.checkerRegions.length;
    this.opts.checkerRegions.forEach((checker, i) => {
      // Checkers in different places do not coordinate: spread them over the interval.
      const tick = () => {
        if (this.stopped) return;
        void this.pollAll(checker);
        this.timers.set(checker, setTimeout(tick, this.opts.intervalMs).unref());
      };
      this.timers.set(checker, setTimeout(tick, Math.floor((this.opts.intervalMs * (i + 1)) / n)).unref());
    });
  }

  private async round(): Promise<void> {
    await Promise.all(this.opts.checkerRegions.map((c) => this.pollAll(c)));
  }

  private async pollAll(checker: string): Promise<void> {
    await Promise.all(Object.keys(this.opts.targets).map((region) => this.poll(checker, region)));
  }

  private async poll(checker: string, region: string): Promise<void> {
    const view = this.views.get(region)!.get(checker)!;
    if (view.inFlight) return;
    view.inFlight = true;
    try {
      const { ok, detail } = await this.check(this.opts.targets[region]!, checker);
      if (this.stopped) return;
      view.last = detail;
      if (view.healthy === null || ok === view.healthy) {
        view.healthy = ok;
        view.streak = 0;
      } else if (++view.streak >= this.opts.failureThreshold) {
        view.healthy = ok;
        view.streak = 0;
      }
      this.update(region);
    } finally {
      view.inFlight = false;
    }
  }

  private async check(url: string, checker: string): Promise<{ ok: boolean; detail: string }> {
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        headers: { 'user-agent': 'cutover-drill-health-checker', [CHECKER_HEADER]: checker },
        cache: 'no-store',
      });
      await res.arrayBuffer().catch(() => undefined);
      return { ok: res.status >= 200 && res.status < 400, detail: `status ${res.status}` };
    } catch (err) {
      const name = (err as Error).name;
      return {
        ok: false,
        detail: name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms` : 'unreachable',
      };
    }
  }

  private compute(region: string): boolean {
    const views = [...this.views.get(region)!.values()];
    const healthy = views.filter((v) => v.healthy === true).length;
    return healthy / views.length > HEALTHY_SHARE;
  }

  private update(region: string): void {
    if (!this.aggregate.has(region)) return;
    const now = this.compute(region);
    if (now === this.aggregate.get(region)) return;
    this.aggregate.set(region, now);
    const views = [...this.views.get(region)!.entries()];
    const detail = views
      .map(([c, v]) => `${c}: ${v.healthy ? 'healthy' : 'unhealthy'} (${v.last})`)
      .join(', ');
    this.opts.onChange?.(region, now, detail);
  }
}
