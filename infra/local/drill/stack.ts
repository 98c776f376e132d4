import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoControlStore } from '../../../functions/adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '../../../functions/adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '../../../functions/adapters/dynamodb/vote-store.js';
import { probeHealth } from '../../../functions/adapters/http/health-probe.js';
import { RecordingPublisher } from '../../../functions/adapters/local/recording-publisher.js';
import { runHeartbeat } from '../../../functions/commons/heartbeat-loop.js';
import type { CutoverConfig } from '../../../functions/core/config.js';
import type { WriteGuard } from '../../../functions/core/guard.js';
import type { Lease } from '../../../functions/core/lease.js';
import type { Clock, LeaseResult, LeaseStore } from '../../../functions/core/ports.js';
import { systemClock } from '../../../functions/core/ports.js';
import { LeaseGuard } from '../../../functions/guard/lease-guard.js';
import { LocalDetection } from '../detection.js';
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from '../dynamodb-local.js';
import { type FaultProxy, startFaultProxy } from '../fault-proxy.js';
import { type FrontDoor, startFrontDoor } from '../front-door.js';
import type { LoadGenerator } from '../load-generator.js';
import { createReplica, initPrimary, type PostgresServer, replicationLag } from '../postgres.js';
import { createOrdersSchema, type SampleApp, startSampleApp } from '../sample-app.js';
import { type ScheduledFunction, scheduleInvocations } from '../schedule.js';
import { createTables, localClients, type TableNames } from '../tables.js';
import type { Timeline } from '../timeline.js';

const HOST = '127.0.0.1';

/** One application "region" of the drill: its database, its app, its heartbeat and the guard in its write path. */
export interface DrillRegion {
  name: string;
  db: PostgresServer;
  app: SampleApp;
  guard: LeaseGuard;
  /** The region's link to the control table (lease reads and renewals). */
  controlLink: FaultProxy;
  heartbeat: ScheduledFunction;
  /** The region's own view of the lease store, through its control link. */
  leases: LeaseStore;
  alive: boolean;
}

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

/** Records every lease change on the timeline; the grants are what split-brain writes are measured against. */
export class RecordingLeaseStore implements LeaseStore {
  constructor(
    private readonly inner: LeaseStore,
    private readonly timeline: Timeline,
    private readonly source: string,
  ) {}
  read(application: string): Promise<Lease | null> {
    return this.inner.read(application);
  }
  async acquire(application: string, region: string, expectedEpoch: number | null): Promise<LeaseResult> {
    return this.note(await this.inner.acquire(application, region, expectedEpoch), 'lease_granted');
  }
  renew(application: string, region: string, epoch: number): Promise<LeaseResult> {
    return this.inner.renew(application, region, epoch);
  }
  async revoke(application: string, expectedEpoch: number): Promise<LeaseResult> {
    return this.note(await this.inner.revoke(application, expectedEpoch), 'lease_revoked');
  }
  async grant(application: string, region: string, expectedEpoch: number): Promise<LeaseResult> {
    return this.note(await this.inner.grant(application, region, expectedEpoch), 'lease_granted');
  }
  private note(result: LeaseResult, type: string): LeaseResult {
    if (result.ok) {
      this.timeline.record(this.source, type, {
        region: result.lease.holder ?? undefined,
        epoch: result.lease.epoch,
        expiresAt: result.lease.expiresAt,
      });
    }
    return result;
  }
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
}

/**
 * The whole control plane and two application regions on one machine. Every link between "regions" passes
 * through a fault proxy: watcher → app, app → control table, primary → replica, front door → app.
 */
export class DrillStack {
  readonly cleanup: (() => Promise<unknown> | unknown)[] = [];
  dir = '';
  ddb!: DynamoDbLocal;
  names: TableNames = { votes: 'cutover-votes', control: 'cutover-control' };
  clients!: ReturnType<typeof localClients>;
  regions = new Map<string, DrillRegion>();
  /** watcher → region links. */
  watcherLinks = new Map<string, FaultProxy>();
  /** The link that carries WAL from the primary's database to the replica. */
  replicationLink!: FaultProxy;
  frontDoor!: FrontDoor;
  frontDoorLinks = new Map<string, FaultProxy>();
  events!: RecordingPublisher;
  detection!: LocalDetection;
  leases!: RecordingLeaseStore;
  control!: DynamoControlStore;
  votes!: DynamoVoteStore;
  /** Last measured lag of the standby behind the primary, ms (0 when caught up), and when it was measured. */
  lag = { ms: 0, at: 0, caughtUpAt: Date.now(), bytes: 0 as number | null };
  private lagTimer: NodeJS.Timeout | undefined;
  /** The clients behind the front door, once the drill starts them. */
  clients_: LoadGenerator | undefined;

  constructor(readonly opts: StackOptions) {}

  get config(): CutoverConfig {
    return this.opts.config;
  }
  get timeline(): Timeline {
    return this.opts.timeline;
  }

  async start(): Promise<void> {
    const { config, timeline } = this.opts;
    this.events = new RecordingPublisher();
    this.dir = await mkdtemp(join(tmpdir(), 'cutover-drill-'));
    // PostgreSQL runs as the postgres user when the drill runs as root: it must reach the data dirs.
    await chmod(this.dir, 0o755);
    this.cleanup.push(() => rm(this.dir, { recursive: true, force: true }));

    this.ddb = await startDynamoDbLocal({ heapMb: 384 });
    this.cleanup.push(() => this.ddb.stop());
    this.clients = localClients(this.ddb.endpoint);
    this.cleanup.push(() => this.clients.raw.destroy());
    await createTables(this.clients.raw, this.names);
    const control = new DynamoLeaseStore(this.clients.doc, this.names.control, config.lease, systemClock);
    this.leases = new RecordingLeaseStore(control, timeline, 'lease');
    this.control = new DynamoControlStore(this.clients.doc, this.names.control);
    this.votes = new DynamoVoteStore(this.clients.doc, this.names.votes);
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
    this.startLagSampler(primaryDb, standbyDb);

    this.frontDoor = await startFrontDoor({
      regions: Object.fromEntries([...this.frontDoorLinks].map(([r, l]) => [r, l.url])),
      initialRegion: primaryName,
      upstreamTimeoutMs: 2_000,
    });
    this.cleanup.push(() => this.frontDoor.stop());

    // The primary takes the lease first, as its heartbeat would on a fresh install.
    const boot = await this.leases.acquire(config.application, primaryName, null);
    if (!boot.ok) throw new Error(`could not bootstrap the lease: ${boot.code}`);
    for (const r of this.regions.values()) await r.guard.start();

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
      events: this.events,
      watchers,
      controlRegions: config.controlRegions,
      log: (source, type, fields) => timeline.record(source, type, fields),
    });
    this.cleanup.push(() => this.detection.stop());
    timeline.record('stack', 'control_plane_ready', { watchers: config.watchers.length });
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
      now: () => clock.now(),
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

    const region: DrillRegion = {
      name,
      db,
      app,
      guard,
      controlLink,
      leases: regionLeases,
      alive: true,
      heartbeat: { alive: true, stop: async () => {} },
    };
    region.heartbeat = this.startHeartbeat(name, regionLeases, app.url);
    this.cleanup.push(() => region.heartbeat.stop());
    this.regions.set(name, region);
    timeline.record(`region@${name}`, 'region_ready', { app: app.url, db: db.port });
  }

  /** The heartbeat as its once-a-minute schedule would run it, restarted after each invocation. */
  private startHeartbeat(region: string, leases: LeaseStore, appUrl: string) {
    const { config, timeline } = this.opts;
    const invocationMs = Math.max(10 * config.lease.renewIntervalMs, 5_000);
    let lastCode = '';
    return scheduleInvocations({
      invocationMs,
      invoke: ({ sleep, remainingMs }) =>
        runHeartbeat({
          config,
          region,
          leases,
          probe: probeHealth,
          publisher: this.events,
          clock: this.clockOf(region),
          sleep,
          remainingMs,
          healthUrl: `${appUrl}/health`,
          log: (_message, fields) => {
            const code = String(fields.code ?? '');
            if (code && code !== lastCode) {
              lastCode = code;
              timeline.record(`heartbeat@${region}`, code.toLowerCase(), { epoch: fields.epoch });
            }
          },
        }),
      onError: (err) => timeline.record(`heartbeat@${region}`, 'invocation_failed', { error: String(err) }),
      betweenMs: 50,
      afterErrorMs: 50,
    });
  }

  restartLagSampler(primary: PostgresServer, replica: PostgresServer): void {
    this.stopLagSampler();
    this.lag = { ms: 0, at: 0, caughtUpAt: Date.now(), bytes: null };
    this.startLagSampler(primary, replica);
  }

  restartHeartbeat(name: string): DrillRegion['heartbeat'] {
    const r = this.region(name);
    const hb = this.startHeartbeat(name, r.leases, r.app.url);
    this.cleanup.push(() => hb.stop());
    return hb;
  }

  /** The region of the newest lease grant on the timeline (the holder-to-be while a lease is revoked). */
  lastGrantedRegion(): string | null {
    const g = this.timeline.events.filter((e) => e.type === 'lease_granted').at(-1);
    return typeof g?.region === 'string' ? g.region : null;
  }

  private startLagSampler(primary: PostgresServer, replica: PostgresServer): void {
    const tick = async () => {
      const lag = await replicationLag(primary, replica, 300).catch(() => null);
      const now = Date.now();
      if (lag && lag.bytes !== null) {
        if (lag.bytes <= 0) this.lag.caughtUpAt = now;
        this.lag = {
          ms: now - this.lag.caughtUpAt,
          at: now,
          caughtUpAt: this.lag.caughtUpAt,
          bytes: lag.bytes,
        };
      } else if (lag && lag.primaryLsn === null) {
        // The primary is gone: the lag is frozen at what it was when the standby last heard from it.
      }
      this.lagTimer = setTimeout(tick, 100);
    };
    this.lagTimer = setTimeout(tick, 100);
    this.cleanup.push(() => clearTimeout(this.lagTimer));
  }

  /** Stops measuring (the standby is now the primary). */
  stopLagSampler(): void {
    clearTimeout(this.lagTimer);
    this.lagTimer = undefined;
  }

  /** The region's own clock: the machine's, shifted by its configured skew. */
  clockOf(region: string): Clock {
    const skew = this.opts.skewMs?.[region] ?? 0;
    return skew === 0 ? systemClock : { now: () => Date.now() + skew };
  }

  region(name: string): DrillRegion {
    const r = this.regions.get(name);
    if (!r) throw new Error(`no region ${name}`);
    return r;
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
}
