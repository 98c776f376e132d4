import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoApprovalStore } from '#adapters/dynamodb/approval-store.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoGamedayMarkerStore } from '#adapters/dynamodb/gameday-marker-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { ReplicaLeaseStore } from '#adapters/dynamodb/replica-lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import type { CutoverConfig } from '#core/config.js';
import type { WriteGuard } from '#core/guard.js';
import type { Clock, LeaseStore } from '#core/ports.js';
import { systemClock } from '#core/ports.js';
import { LeaseGuard } from '#guard/lease-guard.js';
import { LEASE_RENEWAL_FAILED, LeaseKeeper, PRIMARY_SELF_FENCED, urlHealth } from '#guard/lease-keeper.js';
import { LocalDetection } from '../detection.js';
import { drillEdgeTimings, TIME_SCALE } from '../drill-config.js';
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from '../dynamodb-local.js';
import { type CutMode, type FaultProxy, startFaultProxy } from '../fault-proxy.js';
import { type FrontDoor, startFrontDoor } from '../front-door.js';
import { type LoadClientProcess, type LoadGenerator, spawnLoadClients } from '../load-generator.js';
import { createReplica, initPrimary, type PostgresServer } from '../postgres.js';
import { type RecordSet, Route53StandIn } from '../route53-standin.js';
import { createOrdersSchema, type SampleApp, startSampleApp } from '../sample-app.js';
import { createTables, localClients, type TableNames } from '../tables.js';
import type { Timeline } from '../timeline.js';
import { LagSampler } from './lag-sampler.js';
import { RecordingLeaseStore } from './recording-lease-store.js';
import type { AckedWrite } from './report.js';

const HOST = '127.0.0.1';

/** One application "region" of the drill: its database, its app, its lease keeper and the guard in its write path. */
export interface DrillRegion {
  readonly name: string;
  /** Replaced when the region is rebuilt as a replica of the new primary. */
  readonly db: PostgresServer;
  readonly app: SampleApp;
  readonly guard: LeaseGuard;
  /** The region's link to the control table (lease reads and renewals). */
  readonly controlLink: FaultProxy;
  /** Renews the lease from inside the app's process, as an ECS task or EC2 instance would (docs/lease-keeper.md). */
  readonly keeper: LeaseKeeper;
  /** The region's own view of the lease store, through its control link. */
  readonly leases: LeaseStore;
}

type MutableRegion = { -readonly [K in keyof DrillRegion]: DrillRegion[K] };

/** A guard that always allows, under the last epoch it knew: the broken fence the drill must catch. */
function bypass(guard: WriteGuard): WriteGuard {
  return {
    check: () => {
      const d = guard.check();
      if (d.allowed) return d;
      return {
        allowed: true,
        epoch: d.epoch ?? 0,
        code: 'HOLDER',
        reason: 'UNSAFE: guard bypassed',
        validUntil: Number.MAX_SAFE_INTEGER,
      };
    },
  };
}

export interface StackOptions {
  config: CutoverConfig;
  timeline: Timeline;
  synchronous?: boolean;
  /**
   * Clock offset of each application region, ms (its heartbeat, its lease writes, its guard, its app). The
   * control plane keeps the machine's clock. Within ±lease.maxSkewMs the invariants must hold.
   */
  skewMs?: Record<string, number>;
  /**
   * Tests only: the apps write whatever their guard says, with the last epoch they saw. It exists to show that
   * the drill's split-brain check catches a broken fence; never a CLI option.
   */
  unsafeBypassGuard?: boolean;
  /** AWS's fixed timings (the Route 53 edge) are divided by this, as the configuration's were (default 20). */
  timeScale?: number;
  /** Writes a second the clients send through the front door (and a partitioned region's local clients). */
  rate?: number;
}

/** The drill's default write load, writes a second: enough that the window around a fence is full of writes. */
export const DEFAULT_RATE = 100;

/**
 * The whole control plane and two application regions on one machine. Every link between "regions" passes
 * through a fault proxy: watcher → app, app → control table, primary → replica, front door → app. Scenarios and
 * the runner drive it through its methods; its parts are read-only from outside.
 */
export class DrillStack {
  private readonly cleanup: (() => Promise<unknown> | unknown)[] = [];
  private readonly names: TableNames = { votes: 'cutover-votes', control: 'cutover-control' };
  private readonly regions = new Map<string, MutableRegion>();
  /** watcher → region links. */
  private readonly watcherLinks = new Map<string, FaultProxy>();
  private readonly frontDoorLinks = new Map<string, FaultProxy>();
  private dir = '';
  private ddb!: DynamoDbLocal;
  private clients!: ReturnType<typeof localClients>;
  /** The link that carries WAL from the primary's database to the replica. */
  private replicationLink!: FaultProxy;
  private lag: LagSampler | undefined;
  private lagOf: string | undefined;
  private detection!: LocalDetection;
  /** The clients behind the front door, once the drill starts them. */
  private load: LoadGenerator | undefined;
  /** The process the clients behind the front door run in, beside this one (on a second core when there is one). */
  private clientHost!: LoadClientProcess;
  #frontDoor!: FrontDoor;
  #route53!: Route53StandIn;
  /** Regions whose database API (RDS in that region) refuses every call. */
  private readonly refusedDatabaseApis = new Set<string>();
  #events!: RecordingPublisher;
  #leases!: RecordingLeaseStore;
  #control!: DynamoControlStore;
  #votes!: DynamoVoteStore;
  #approvals!: DynamoApprovalStore;

  constructor(private readonly opts: StackOptions) {}

  get config(): CutoverConfig {
    return this.opts.config;
  }
  get timeline(): Timeline {
    return this.opts.timeline;
  }
  get timeScale(): number {
    return this.opts.timeScale ?? TIME_SCALE;
  }
  /** The write rate asked of the clients, writes a second. */
  get rate(): number {
    return this.opts.rate ?? DEFAULT_RATE;
  }
  /** The clients' process (bench/load.bench.ts runs its own generators in it). */
  get clientProcess(): LoadClientProcess {
    return this.clientHost;
  }
  get frontDoor(): FrontDoor {
    return this.#frontDoor;
  }
  /** The Route 53 record set and its API (the stand-in the record-change mode drives). */
  get route53(): Route53StandIn {
    return this.#route53;
  }
  /** Each region's holder check as the world reaches it: through the region's front-door link. */
  holderCheckUrls(): Record<string, string> {
    return Object.fromEntries(
      [...this.frontDoorLinks].map(([region, link]) => [region, `${link.url}/cutover/holder`]),
    );
  }
  /** The database API in `region` refuses every call from now on (control-plane-outage). */
  refuseDatabaseApi(region: string): void {
    this.refusedDatabaseApis.add(region);
  }
  databaseApiRefused(region: string): boolean {
    return this.refusedDatabaseApis.has(region);
  }
  get events(): RecordingPublisher {
    return this.#events;
  }
  /** The control plane's view of the lease, recording every grant and revocation on the timeline. */
  get leases(): RecordingLeaseStore {
    return this.#leases;
  }
  get control(): DynamoControlStore {
    return this.#control;
  }
  get votes(): DynamoVoteStore {
    return this.#votes;
  }
  get approvals(): DynamoApprovalStore {
    return this.#approvals;
  }
  /** The game-day markers in the control table, as `cutover gameday` writes them (docs/gameday.md). */
  gamedayMarkers(): DynamoGamedayMarkerStore {
    return new DynamoGamedayMarkerStore(this.clients.doc, this.names.control);
  }

  async start(): Promise<void> {
    const { config, timeline } = this.opts;
    this.#events = new RecordingPublisher();
    // What the application regions' keepers page about goes on the timeline, with the region it came from.
    this.#events.subscribe((e) => {
      if (e.detailType === LEASE_RENEWAL_FAILED || e.detailType === PRIMARY_SELF_FENCED) {
        timeline.record(`keeper@${String(e.detail.region)}`, typeOf(e.detailType), {
          epoch: e.detail.epoch,
          code: e.detail.code,
          reason: e.detail.reason,
        });
      }
    });
    this.dir = await mkdtemp(join(tmpdir(), 'cutover-drill-'));
    // PostgreSQL runs as the postgres user when the drill runs as root: it must reach the data dirs.
    await chmod(this.dir, 0o755);
    this.cleanup.push(() => rm(this.dir, { recursive: true, force: true }));

    // The clients' process starts (tsx compiling its few modules) while DynamoDB Local's JVM does.
    const clientHost = spawnLoadClients();
    clientHost.catch(() => {}); // awaited below; a start that fails before then must not end the process
    this.cleanup.push(() => clientHost.then((c) => c.kill()).catch(() => {}));
    this.ddb = await startDynamoDbLocal({ heapMb: 384 });
    this.cleanup.push(() => this.ddb.stop());
    this.clientHost = await clientHost;
    this.clients = localClients(this.ddb.endpoint);
    this.cleanup.push(() => this.clients.raw.destroy());
    await createTables(this.clients.raw, this.names);
    const control = new DynamoLeaseStore(this.clients.doc, this.names.control, config.lease, systemClock);
    this.#leases = new RecordingLeaseStore(control, timeline, 'lease');
    this.#control = new DynamoControlStore(this.clients.doc, this.names.control);
    this.#votes = new DynamoVoteStore(this.clients.doc, this.names.votes, config.watchers);
    this.#approvals = new DynamoApprovalStore(this.clients.doc, this.names.control);
    timeline.record('stack', 'dynamodb_ready', { endpoint: this.ddb.endpoint });

    const primaryName = config.primary.region;
    const standbyName = config.standby.region;
    const primaryDb = await initPrimary({
      dir: join(this.dir, `pg-${primaryName}`),
      port: await freePort(),
      name: primaryName,
    });
    this.cleanup.push(() => primaryDb.stop());
    await createOrdersSchema(primaryDb.endpoint);
    this.replicationLink = await startFaultProxy({
      name: `${primaryName}->${standbyName}:wal`,
      target: primaryDb.endpoint,
    });
    this.cleanup.push(() => this.replicationLink.stop());
    const standbyDb = await createReplica({
      dir: join(this.dir, `pg-${standbyName}`),
      port: await freePort(),
      name: standbyName,
      upstream: this.replicationLink.endpoint,
    });
    this.cleanup.push(() => standbyDb.stop());
    // Synchronous only once the standby exists: before that, every commit (the schema's too) would wait forever.
    if (this.opts.synchronous) await primaryDb.setSynchronousStandbys([standbyName]);
    timeline.record('stack', 'postgres_ready', { primary: primaryDb.port, replica: standbyDb.port });

    for (const [name, db] of [
      [primaryName, primaryDb],
      [standbyName, standbyDb],
    ] as const) {
      await this.startRegion(name, db);
    }
    this.sampleLag(standbyName, primaryDb, standbyDb);

    // The primary takes the lease first, as its heartbeat would on a fresh install.
    const boot = await this.#leases.acquire(config.application, primaryName, null);
    if (!boot.ok) throw new Error(`could not bootstrap the lease: ${boot.code}`);
    for (const r of this.regions.values()) await r.guard.start();
    for (const r of this.regions.values()) this.startKeeper(r);
    // After the guards: the health checkers' first round must see the primary's holder check answer 200.
    await this.startEdge(primaryName, standbyName);

    const watchers = config.watchers.map((voter) => ({
      region: voter,
      targets: [primaryName, standbyName].map((region) => ({
        region,
        url: `${this.watcherLinks.get(`${voter}->${region}`)!.url}/health`,
      })),
    }));
    this.detection = await LocalDetection.start({
      config,
      endpoint: this.ddb.endpoint,
      raw: this.clients.raw,
      doc: this.clients.doc,
      names: this.names,
      events: this.#events,
      watchers,
      controlRegions: config.controlRegions,
      log: (source, type, fields) => timeline.record(source, type, fields),
    });
    this.cleanup.push(() => this.detection.stop());
    timeline.record('stack', 'control_plane_ready', { watchers: config.watchers.length });
  }

  /**
   * The Route 53 edge in front of the apps: the record set (and its API stand-in), health checkers polling each
   * region's holder check through its front-door link, and the clients' caching resolvers.
   */
  private async startEdge(primary: string, standby: string): Promise<void> {
    const { config, timeline } = this.opts;
    const edge = drillEdgeTimings(config, this.timeScale);
    // Health-check mode provisions records that never change: equal weights (or PRIMARY/SECONDARY), and the
    // health checks decide. The record-change mode starts with all the weight on the primary.
    const records: RecordSet = {
      [primary]: { weight: edge.mode === 'records' ? 100 : 50, failover: 'PRIMARY' },
      [standby]: { weight: edge.mode === 'records' ? 0 : 50, failover: 'SECONDARY' },
    };
    this.#route53 = new Route53StandIn({
      routing: edge.routing,
      regions: [primary, standby],
      initial: records,
      propagationMs: edge.propagationMs,
      requestTimeoutMs: edge.requestTimeoutMs,
      onCall: (call) => timeline.record('route53', 'api_call', { ...call }),
    });
    this.#frontDoor = await startFrontDoor({
      regions: Object.fromEntries([...this.frontDoorLinks].map(([r, l]) => [r, l.url])),
      upstreamTimeoutMs: 2_000,
      edge: {
        records: this.#route53,
        checks: {
          targets: this.holderCheckUrls(),
          checkerRegions: edge.checkerRegions,
          intervalMs: edge.intervalMs,
          failureThreshold: edge.failureThreshold,
          timeoutMs: edge.timeoutMs,
        },
        ttlMs: edge.ttlMs,
      },
      onEvent: (type, fields) => timeline.record('frontdoor', type, fields),
    });
    this.cleanup.push(() => this.#frontDoor.stop());
    timeline.record('frontdoor', 'edge_ready', {
      mode: edge.mode,
      routing: edge.routing,
      ttlMs: edge.ttlMs,
      intervalMs: edge.intervalMs,
      failureThreshold: edge.failureThreshold,
      checkers: edge.checkerRegions.length,
    });
  }

  region(name: string): DrillRegion {
    const r = this.regions.get(name);
    if (!r) throw new Error(`no region ${name}`);
    return r;
  }

  /** Starts the clients that write through the front door; their acknowledged writes are the drill's record. */
  startClients(idPrefix: string): void {
    this.load = this.clientHost.start({ url: this.#frontDoor.url, rate: this.rate, idPrefix });
    // On the timeline, so that the achieved rate can be recomputed from the artifacts.
    this.opts.timeline.record('clients', 'clients_started', {
      rate: this.rate,
      idPrefix,
      startedAt: this.load.startedAt,
    });
  }

  /** Acknowledged writes a second the front door's clients achieved, from their start to now (or their stop). */
  achievedRate(): number | null {
    return this.load ? this.load.achievedRate() : null;
  }

  /** When the front door's clients started (epoch ms), null before. */
  clientsStartedAt(): number | null {
    return this.load?.startedAt ?? null;
  }

  async stopClients(): Promise<AckedWrite[]> {
    return this.load ? [...(await this.load.stop()).acked] : [];
  }

  /** Whether the front door's clients have had a write acknowledged by the region at or after `since`. */
  ackedFrom(region: string, since: number): boolean {
    return this.load?.acked().some((a) => a.region === region && a.at >= since) ?? false;
  }

  /** The region dies: application and database killed, keeper and guard gone with the process. */
  async killRegion(name: string): Promise<void> {
    const r = this.region(name);
    await Promise.all([r.app.kill(), r.db.kill(), r.keeper.stop()]);
    r.guard.stop();
  }

  /**
   * The app's process stops renewing for `ms` (a long pause, a stuck event loop, its keeper's timers stopped),
   * then carries on. The guard keeps reading the lease meanwhile, so it stops writes when the lease runs out.
   */
  async pauseKeeper(name: string, ms: number): Promise<void> {
    const r = this.region(name);
    await r.keeper.stop();
    this.opts.timeline.record(`keeper@${name}`, 'keeper_paused', { ms });
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.opts.timeline.record(`keeper@${name}`, 'keeper_resumed', {});
    this.startKeeper(r);
  }

  private startKeeper(r: DrillRegion): void {
    r.keeper
      .start()
      .catch((err: unknown) =>
        this.opts.timeline.record(`keeper@${r.name}`, 'keeper_failed', { error: String(err) }),
      );
  }

  /** The region keeps running but loses the watchers, the control table, its replica and the front door. */
  partition(name: string): void {
    this.cutWatchers(name, 'blackhole');
    this.region(name).controlLink.cut('blackhole');
    this.replicationLink.cut('blackhole');
    this.frontDoorLinks.get(name)?.cut('reset');
  }

  cutWatchers(region: string, mode: CutMode): void {
    for (const w of this.config.watchers) this.watcherLinks.get(`${w}->${region}`)?.cut(mode);
  }

  healWatchers(region: string): void {
    for (const w of this.config.watchers) this.watcherLinks.get(`${w}->${region}`)?.heal();
  }

  /** WAL stops reaching the standby; both databases keep running. */
  stallReplication(): void {
    this.replicationLink.cut('blackhole');
  }

  slowRegion(name: string, ms: number): void {
    this.region(name).app.slow({ healthDelayMs: ms, orderDelayMs: ms });
  }

  killWatcher(region: string): Promise<void> {
    return this.detection.killWatcher(region);
  }

  killControlRegion(region: string): Promise<void> {
    return this.detection.killControlRegion(region);
  }

  /** The standby's lag behind the primary as last measured, ms; null before the first measurement. */
  replicationLagMs(): number | null {
    return this.lag?.reading().lagMs ?? null;
  }

  /** The region whose database the lag sampler follows (the replica of the day). */
  sampledReplica(): string | undefined {
    return this.lagOf;
  }

  /** The standby's last lag reading and when it was taken. */
  replicationLag(): { lagMs: number | null; at: number | null } {
    return this.lag?.reading() ?? { lagMs: null, at: null };
  }

  /** A lag reading taken now (the last one once the sampler is stopped): see LagSampler.fresh. */
  async freshReplicationLag(): Promise<{ lagMs: number | null; at: number | null }> {
    return (await this.lag?.fresh(0)) ?? { lagMs: null, at: null };
  }

  /** Stops measuring the lag, keeping the last measurement (the standby is being promoted). */
  stopLagSampler(): void {
    this.lag?.stop();
  }

  /** Rebuilds a dead region's database as a streaming replica of `from`, and restarts its app, guard and heartbeat. */
  async rebuildAsReplica(name: string, from: string): Promise<void> {
    const r = this.regions.get(name);
    if (!r) throw new Error(`no region ${name}`);
    const source = this.region(from).db;
    const link = await startFaultProxy({ name: `${from}->${name}:wal`, target: source.endpoint });
    this.cleanup.push(() => link.stop());
    const replica = await createReplica({
      dir: join(this.dir, `pg-${name}-rebuilt`),
      port: r.db.port,
      name: `${name}_rebuilt`,
      upstream: link.endpoint,
    });
    this.cleanup.push(() => replica.stop());
    r.db = replica;
    this.replicationLink = link;
    this.sampleLag(name, source, replica);
    await r.app.start();
    await r.guard.start();
    this.startKeeper(r);
    this.opts.timeline.record(`region@${name}`, 'rebuilt_as_replica', { from, port: replica.port });
  }

  /**
   * A dead region comes back as it was: its database restarted from its own data directory (a standalone old
   * primary, not rebuilt as a replica), its app, guard and heartbeat started again.
   */
  async restartRegion(name: string): Promise<void> {
    const r = this.regions.get(name);
    if (!r) throw new Error(`no region ${name}`);
    await r.db.start();
    await r.app.start();
    await r.guard.start();
    this.startKeeper(r);
    this.opts.timeline.record(`region@${name}`, 'region_restarted', { standalone: true, port: r.db.port });
  }

  /** Starts a dead region's database from its data directory, to read what it holds; true when it runs. */
  async restartDatabase(name: string): Promise<boolean> {
    const db = this.region(name).db;
    if (db.running()) return true;
    await db.start();
    this.opts.timeline.record(`db@${name}`, 'database_restarted', { port: db.port });
    return db.running();
  }

  async stop(): Promise<void> {
    for (const fn of this.cleanup.reverse()) {
      // Best effort, and bounded: a step stuck on a black-holed socket must not keep the rest running.
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((resolve) => {
        timer = setTimeout(() => resolve('stuck'), 5_000);
      });
      const outcome = await Promise.race([
        Promise.resolve()
          .then(fn)
          .catch(() => 'failed'),
        stuck,
      ]);
      clearTimeout(timer);
      if (outcome === 'stuck' && process.env.CUTOVER_DEBUG)
        process.stderr.write(`cleanup step stuck: ${fn}\n`);
    }
    this.cleanup.length = 0;
  }

  private async startRegion(name: string, db: PostgresServer): Promise<void> {
    const { config, timeline } = this.opts;
    const controlLink = await startFaultProxy({
      name: `${name}->control`,
      target: { host: HOST, port: this.ddb.port },
    });
    this.cleanup.push(() => controlLink.stop());
    const regionClients = localClients(controlLink.url, 'us-east-1', {
      requestTimeoutMs: config.lease.retryTimeoutMs,
    });
    this.cleanup.push(() => regionClients.raw.destroy());
    const clock = this.clockOf(name);
    const regionLeases = new DynamoLeaseStore(regionClients.doc, this.names.control, config.lease, clock);
    const guard = new LeaseGuard({
      store: regionLeases,
      application: config.application,
      region: name,
      timing: config.lease,
      clock,
    });
    this.cleanup.push(() => guard.stop());
    const app = await startSampleApp({
      region: name,
      database: db.endpoint,
      guard: this.opts.unsafeBypassGuard ? bypass(guard) : guard,
      // The holder check answers from the real guard even when the write path bypasses it (unsafeBypassGuard).
      holderCheck: guard,
      now: () => clock.now(),
      // The health contract, when the configuration has one (issue 15, docs/health.md).
      ...(config.health ? { health: config.health } : {}),
      // Its `gameday` check reads the marker in the control table, as docs/gameday.md mounts it.
      gameday: {
        markers: new DynamoGamedayMarkerStore(regionClients.doc, this.names.control),
        application: config.application,
        cacheMs: config.probe.intervalMs,
      },
    });
    this.cleanup.push(() => app.stop());
    // The verify step checks the new primary's own health endpoint: in the drill, the app's real URL.
    (name === config.primary.region ? config.primary : config.standby).healthUrl = `${app.url}/health`;
    for (const voter of config.watchers) {
      const link = await startFaultProxy({
        name: `${voter}->${name}`,
        target: { host: HOST, port: app.port },
      });
      this.cleanup.push(() => link.stop());
      this.watcherLinks.set(`${voter}->${name}`, link);
    }
    const doorLink = await startFaultProxy({
      name: `frontdoor->${name}`,
      target: { host: HOST, port: app.port },
    });
    this.cleanup.push(() => doorLink.stop());
    this.frontDoorLinks.set(name, doorLink);

    const keeper = this.keeperFor(name, regionLeases, guard, app.url);
    const region: MutableRegion = { name, db, app, guard, controlLink, leases: regionLeases, keeper };
    this.cleanup.push(() => keeper.stop());
    this.regions.set(name, region);
    timeline.record(`region@${name}`, 'region_ready', { app: app.url, db: db.port });
  }

  /**
   * The app's LeaseKeeper, wired as docs/lease-keeper.md shows: the watchers' health check of the app's own
   * endpoint with their timeouts, renewal through the region's lease link (the drill has one lease replica) within
   * retryTimeoutMs, each renewed lease fed to the guard.
   */
  private keeperFor(
    region: string,
    leases: DynamoLeaseStore,
    guard: LeaseGuard,
    appUrl: string,
  ): LeaseKeeper {
    const { config, timeline } = this.opts;
    let lastCode = '';
    let lastAt = 0;
    return new LeaseKeeper({
      application: config.application,
      region,
      primaryRegion: config.primary.region,
      timing: config.lease,
      leases: new ReplicaLeaseStore({
        replicas: [{ region, store: leases }],
        budgetMs: config.lease.retryTimeoutMs,
      }),
      health: urlHealth(probeHealth, `${appUrl}/health`, config.probe),
      publisher: this.#events,
      guard,
      clock: this.clockOf(region),
      onTick: (tick) => {
        // Each change of code, and the first tick after a gap (a paused keeper), so the timeline shows both.
        const gap = tick.at - lastAt > 2 * config.lease.renewIntervalMs;
        lastAt = tick.at;
        if (tick.code !== lastCode || gap) {
          lastCode = tick.code;
          timeline.record(`keeper@${region}`, tick.code.toLowerCase(), {
            epoch: tick.epoch,
            reason: tick.reason,
          });
        }
      },
    });
  }

  /** Measures the lag of `replica` behind `primary` from now on, in place of any earlier pair. */
  private sampleLag(region: string, primary: PostgresServer, replica: PostgresServer): void {
    this.lag?.stop();
    this.lagOf = region;
    const sampler = new LagSampler(primary, replica);
    this.lag = sampler;
    this.cleanup.push(() => sampler.stop());
  }

  /** The region's own clock: the machine's, shifted by its configured skew. */
  private clockOf(region: string): Clock {
    const skew = this.opts.skewMs?.[region] ?? 0;
    return skew === 0 ? systemClock : { now: () => Date.now() + skew };
  }
}

/** `Lease Renewal Failed` → lease_renewal_failed, as the timeline spells its event types. */
function typeOf(detailType: string): string {
  return detailType.toLowerCase().replaceAll(/[ -]/g, '_');
}
