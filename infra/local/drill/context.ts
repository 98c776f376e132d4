import { DEEP_HEALTH_PATH } from '#core/health.js';
import type { CutMode } from '../fault-proxy.js';
import type { LoadGenerator } from '../load-generator.js';
import type { Route53Fault } from '../route53-standin.js';
import { refuseWrites } from '../sample-app.js';
import type { LocalControl } from './control.js';
import type { AckedWrite } from './report.js';
import type { DrillStack } from './stack.js';

/** The built-in drill configuration's debounce + lease TTL + max skew (infra/local/drill-config.ts), ms. */
const BUILT_IN_DETECT_AND_FENCE_MS = 2_500 + 4_000 + 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What a scenario script can do to the running stack. The first fault marks the instant the drill's timings
 * and lost-write window are measured from.
 */
export class DrillContext {
  private firstFaultAt: number | null = null;
  private lagAtFirstFaultMs: number | null = null;
  private localClients: LoadGenerator | undefined;

  constructor(
    private readonly stack: DrillStack,
    private readonly control: LocalControl,
    readonly approve: boolean,
  ) {}

  get config() {
    return this.stack.config;
  }
  get timeline() {
    return this.stack.timeline;
  }
  get primary() {
    return this.config.primary.region;
  }
  get standby() {
    return this.config.standby.region;
  }
  /** When the first fault was injected (ms), null when none was. */
  get faultAt(): number | null {
    return this.firstFaultAt;
  }
  /** The standby's lag when the first fault was injected, ms, as the drill measured it. */
  get lagAtFaultMs(): number | null {
    return this.lagAtFirstFaultMs;
  }

  private fault(type: string, region: string, fields: Record<string, unknown> = {}): void {
    if (this.firstFaultAt === null) {
      this.lagAtFirstFaultMs = this.stack.replicationLagMs();
      // One instant for the fault: the event's own time, which the report (fault_at) and every phase use.
      this.firstFaultAt = this.timeline.record('fault', 'fault_injected', {
        region,
        kind: type,
        lagMs: this.lagAtFirstFaultMs,
        ...fields,
      }).at;
    }
    this.timeline.record('fault', type, { region, ...fields });
  }

  /** The region dies: application and database killed, heartbeat gone, links dead. */
  async killRegion(name: string): Promise<void> {
    this.fault('region_killed', name);
    await this.stack.killRegion(name);
  }

  /** The region keeps running but loses the watchers, the control table, its replica and the global front door. */
  partition(name: string): void {
    this.fault('partitioned', name);
    this.stack.partition(name);
  }

  cutWatchersFrom(region: string, mode: CutMode): void {
    this.stack.cutWatchers(region, mode);
  }

  healWatchersFrom(region: string): void {
    this.stack.healWatchers(region);
  }

  async killWatcher(region: string): Promise<void> {
    this.timeline.record('fault', 'watcher_killed', { watcher: region });
    await this.stack.killWatcher(region);
  }

  /** WAL stops reaching the standby; not a fault of the primary, so the fault clock does not start. */
  stallReplication(): void {
    this.stack.stallReplication();
    this.timeline.record('fault', 'replication_stalled', { region: this.primary });
  }

  slowRegion(name: string, ms: number): void {
    this.fault('slowed', name, { ms });
    this.stack.slowRegion(name, ms);
  }

  /** The region's app process stops renewing its lease for `ms` (its LeaseKeeper paused), then carries on. */
  async pauseKeeper(name: string, ms: number): Promise<void> {
    this.fault('keeper_paused', name, { ms });
    await this.stack.pauseKeeper(name, ms);
  }

  /** Only the region's health endpoint answers `ms` late; writes are not slowed. */
  slowHealth(name: string, ms: number): void {
    this.fault('health_slowed', name, { ms });
    this.stack.region(name).app.slow({ healthDelayMs: ms });
  }

  /**
   * A scenario's waits are written for the built-in drill timings; a slower configuration (`--config` at a small
   * `--time-scale`) stretches them by how much longer its detection and fence take.
   */
  private patient(timeoutMs: number): number {
    const c = this.config;
    const factor = (c.debounceMs + c.lease.ttlMs + c.lease.maxSkewMs) / BUILT_IN_DETECT_AND_FENCE_MS;
    return Math.round(timeoutMs * Math.max(1, factor));
  }

  /** The region's database refuses writes but answers reads: its plain health check stays 200 (issue 15). */
  async refuseWrites(name: string): Promise<void> {
    this.fault('writes_refused', name);
    await refuseWrites(this.stack.region(name).db.endpoint);
  }

  /**
   * A game day's health fault (issue 15, `cutover gameday --fault health`): the marker for the region in the
   * control table, live for `forMs`, which its health contract's `gameday` check fails on. Returns the marker's
   * start, which removes exactly this marker.
   */
  async startGameday(name: string, forMs: number): Promise<number> {
    const startedAt = Date.now();
    this.fault('gameday_marker_put', name, { untilMs: forMs });
    await this.stack.gamedayMarkers().putMarker({
      application: this.config.application,
      region: name,
      startedAt,
      until: startedAt + forMs,
      by: 'drill',
      reason: 'gameday scenario',
    });
    return startedAt;
  }

  /** Removes the game-day marker put at `startedAt`, as `cutover gameday` does on its way out. */
  async endGameday(name: string, startedAt: number): Promise<void> {
    const removed = await this.stack.gamedayMarkers().removeMarker(this.config.application, name, startedAt);
    this.timeline.record('fault', 'gameday_marker_removed', { region: name, removed });
  }

  /** The region's queue consumer stops: its oldest message ages (issue 15). */
  backUpQueue(name: string): void {
    this.fault('queue_backed_up', name);
    this.stack.region(name).app.queue.stall();
  }

  /** Reads the region's health contract as a watcher would and puts its answer on the timeline. */
  async recordDeepHealth(name: string): Promise<void> {
    const url = `${this.stack.region(name).app.url}${this.config.health?.path ?? DEEP_HEALTH_PATH}`;
    try {
      // Generous: the drill's own process serves the app, and a busy machine delays the answer, not its content.
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as Record<string, unknown>;
      this.timeline.record(`app@${name}`, 'deep_health', { region: name, ...body, httpStatus: res.status });
    } catch (err) {
      this.timeline.record(`app@${name}`, 'deep_health', { region: name, error: String(err) });
    }
  }

  /** Clients in the same region as the app, reaching it directly: a partition does not cut them off. */
  startLocalClients(region: string): void {
    let refusedSeen = 0;
    // In the clients' process, beside the front door's clients: the drill's process keeps its core for the apps.
    this.localClients = this.stack.clientProcess.start({
      url: this.stack.region(region).app.url,
      // At the drill's rate, like the clients behind the front door (`--rate`).
      rate: this.stack.rate,
      idPrefix: `local-${region}`,
      onResult: (res) => {
        if (res.status !== 201 && res.status !== null && refusedSeen++ === 0) {
          this.timeline.record(`clients@${region}`, 'local_write_refused', {
            code: res.code,
            status: res.status,
          });
        }
      },
    });
  }

  async stopLocalClients(): Promise<AckedWrite[]> {
    if (!this.localClients) return [];
    const report = await this.localClients.stop();
    return [...report.acked];
  }

  killControlRegionWhen(state: string): void {
    this.control.killRegionOnState(state, (region) => {
      this.timeline.record('fault', 'control_region_killed', { region, during: state });
      void this.stack.killControlRegion(region);
    });
  }

  /** Waits for the first of `types` after the fault; an execution that ends without it also ends the wait. */
  async waitFor(types: string | string[], timeout: number): Promise<boolean> {
    const timeoutMs = this.patient(timeout);
    const wanted = Array.isArray(types) ? types : [types];
    const since = this.firstFaultAt ?? 0;
    const waitStart = Date.now();
    const deadline = waitStart + timeoutMs;
    while (Date.now() < deadline) {
      const after = this.timeline.events.filter((e) => e.at >= since);
      if (after.some((e) => wanted.includes(e.type))) return true;
      const finished = after.find((e) => e.type === 'execution_finished' && e.at >= waitStart);
      // Give the completion event a moment to land after its execution ends.
      if (finished && Date.now() - finished.at > 500) return false;
      await sleep(50);
    }
    this.timeline.record('drill', 'wait_timed_out', { for: wanted.join('|'), ms: timeoutMs });
    return false;
  }

  async waitForAckFrom(region: string, timeout: number, fromNow = false): Promise<boolean> {
    const timeoutMs = this.patient(timeout);
    const since = fromNow ? Date.now() : (this.firstFaultAt ?? 0);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.stack.ackedFrom(region, since)) return true;
      await sleep(50);
    }
    return false;
  }

  /** A dead region comes back with its database as it was: a standalone old primary, not rebuilt. */
  restartRegion(name: string): Promise<void> {
    return this.stack.restartRegion(name);
  }

  /** Kills a region after the first fault (the drill's clocks stay on the first). */
  async killAgain(name: string): Promise<void> {
    this.timeline.record('fault', 'region_killed', { region: name, second: true });
    await this.stack.killRegion(name);
  }

  /** Waits until `n` events of `type` (matching `where`) are on the timeline; false on timeout. */
  async waitForCount(
    type: string,
    n: number,
    timeout: number,
    where: (e: Record<string, unknown>) => boolean = () => true,
  ): Promise<boolean> {
    const timeoutMs = this.patient(timeout);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.timeline.events.filter((e) => e.type === type && where(e)).length >= n) return true;
      await sleep(50);
    }
    this.timeline.record('drill', 'wait_timed_out', { for: `${n} × ${type}`, ms: timeoutMs });
    return false;
  }

  /** Rebuilds a dead region's database as a streaming replica of the current primary, and restarts its app. */
  rebuildAsReplica(name: string, from: string): Promise<void> {
    return this.stack.rebuildAsReplica(name, from);
  }

  startFailback(): void {
    const input = {
      application: this.config.application,
      from: this.standby,
      to: this.primary,
      requestedBy: 'drill-operator@example.com',
      reason: `${this.primary} rebuilt as a replica of ${this.standby}; planned failback, inside the drill's cool-down on purpose`,
      overrideCooldown: true,
      minHealthyMinutes: 0,
      maxLagMs: this.config.rpoBudgetMs,
      trafficSteps: [100],
    };
    this.control.start('failback', this.config.controlRegions[0]!, input);
  }

  /** Route 53's API (served from us-east-1 only) refuses every call from now on; not a fault of a region. */
  refuseRoute53(fault: Route53Fault): void {
    this.stack.route53.refuse(fault);
    this.timeline.record('fault', 'route53_api_down', { fault });
  }

  /** The database API in `region` refuses every call from now on. */
  refuseDatabaseApi(region: string): void {
    this.stack.refuseDatabaseApi(region);
    this.timeline.record('fault', 'database_api_down', { region });
  }
}
