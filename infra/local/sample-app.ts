import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import pg from 'pg';
import type { GamedayMarkerReader } from '#core/gameday.js';
import type { WriteGuard } from '#core/guard.js';
import type { CheckSpec } from '#core/health.js';
import { type DeepCheck, healthContract, serveHealthContract } from '#guard/health.js';
import { gamedayCheck, queueBacklogCheck } from '#guard/health-checks.js';
import { serveHolderCheck } from '#guard/holder-check.js';
import type { LeaseGuard } from '#guard/lease-guard.js';
import { SetupError } from './dynamodb-local.js';
import { LocalQueue } from './local-queue.js';
import { isSyncRepCancel, type PgEndpoint, queryCancellable } from './postgres.js';

/**
 * The application of one drill "region": POST /orders writes a row through the write guard with the lease
 * epoch as fencing token, GET /health checks the region's database. It acknowledges (201) only a write
 * that its database committed (and, under synchronous replication, replicated) while the lease was valid.
 */

export interface SampleAppOptions {
  region: string;
  /** Where the app reaches its region's database: the local server or a fault proxy in front of it. */
  database: PgEndpoint;
  guard: WriteGuard;
  /** 0 or absent: a free port. After kill(), start() listens on the same port again. */
  port?: number;
  /** Database check of GET /health. */
  healthTimeoutMs?: number;
  /** A write still running after this is cancelled. Whatever it is, no acknowledgement leaves after validUntil. */
  writeTimeoutMs?: number;
  /** The app's clock, against which the guard's validUntil is compared. */
  now?: () => number;
  /**
   * The guard behind GET /cutover/holder (issue 10): 200 only while this region may write under the lease. Usually
   * the write guard itself; absent, the app serves no holder check.
   */
  holderCheck?: Pick<LeaseGuard, 'check' | 'cachedLease'>;
  /**
   * The health contract (issue 15): the configuration's `health` section. The app mounts it at its path with real
   * checks: kind `write` writes a test row through its pg pool, kind `queue-backlog` reads its local queue.
   */
  health?: { path: string; checks: readonly (CheckSpec & { maxAgeSeconds?: number | undefined })[] };
  /**
   * Where a check of kind `gameday` reads the game-day marker (the control table, as an application mounts
   * gamedayCheck: docs/gameday.md), at most once per `cacheMs`.
   */
  gameday?: { markers: GamedayMarkerReader; application: string; cacheMs: number };
}

/** Gray failure from the inside: the app answers, only late. The fault proxy's `slow` does it from outside. */
export interface SlowApp {
  healthDelayMs?: number;
  orderDelayMs?: number;
}

export type OrderOutcome =
  | 'ACKED'
  | 'BAD_REQUEST'
  | 'GUARD_REFUSED'
  | 'STALE_EPOCH'
  | 'DUPLICATE'
  | 'READ_ONLY'
  | 'NOT_REPLICATED'
  | 'LEASE_RAN_OUT'
  | 'DB_UNAVAILABLE';

export interface SampleAppStats {
  region: string;
  outcomes: Partial<Record<OrderOutcome, number>>;
  health: { ok: number; unhealthy: number };
}

export interface SampleApp {
  readonly region: string;
  readonly port: number;
  readonly url: string;
  /** Listens again after kill() or stop(). */
  start(): Promise<void>;
  /** The region's app dies: no more listening, open sockets destroyed, in-flight requests never answered. */
  kill(): Promise<void>;
  /** Graceful: in-flight requests finish, then the database pools close. */
  stop(): Promise<void>;
  slow(options: SlowApp | null): void;
  stats(): SampleAppStats;
  /** The app's queue: a message per acknowledged order, drained unless stalled. */
  readonly queue: LocalQueue;
}

export interface OrderRow {
  id: string;
  epoch: number;
  region: string | null;
}

const HOST = '127.0.0.1';
const WRITE_CONNECTIONS = 8;

const connectionString = (db: PgEndpoint) => `postgres://postgres@${db.host}:${db.port}/postgres`;

/**
 * The orders table and its fence. `order_fence` holds the highest epoch stored so far; every write moves it
 * in the same statement as the insert, so the row lock on the fence serializes concurrent writers and a
 * lower epoch can never slip in beside a higher one (a max(epoch) subquery would not see an uncommitted
 * higher-epoch row under READ COMMITTED).
 */
export async function createOrdersSchema(db: PgEndpoint): Promise<void> {
  await withClient(db, async (c) => {
    await c.query(`
      CREATE TABLE IF NOT EXISTS orders (
        id text PRIMARY KEY,
        epoch bigint NOT NULL,
        region text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS order_fence (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        epoch bigint NOT NULL
      );
      INSERT INTO order_fence (singleton, epoch) VALUES (true, 0) ON CONFLICT DO NOTHING;
      CREATE TABLE IF NOT EXISTS health_probe (
        region text PRIMARY KEY,
        at timestamptz NOT NULL
      );
    `);
  });
}

/**
 * Raises the fence to `epoch` without writing an order, e.g. when a lease is granted to this database's
 * region, so that a late write under an older epoch fails even before the first new write. Returns the fence.
 */
export async function advanceFence(db: PgEndpoint, epoch: number): Promise<number> {
  return withClient(db, async (c) => {
    const res = await c.query<{ epoch: string }>(
      'UPDATE order_fence SET epoch = greatest(epoch, $1) WHERE singleton RETURNING epoch::text',
      [epoch],
    );
    return Number(res.rows[0]?.epoch ?? Number.NaN);
  });
}

/** Every order, for the drill's final-rows artifact. */
export async function listOrders(db: PgEndpoint): Promise<OrderRow[]> {
  return withClient(db, async (c) => {
    const res = await c.query<{ id: string; epoch: string; region: string | null }>(
      'SELECT id, epoch::text, region FROM orders ORDER BY id',
    );
    return res.rows.map((r) => ({ id: r.id, epoch: Number(r.epoch), region: r.region }));
  });
}

async function withClient<T>(db: PgEndpoint, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: connectionString(db), connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const INSERT_FENCED = `
  WITH fence AS (
    UPDATE order_fence SET epoch = $2 WHERE singleton AND epoch <= $2 RETURNING epoch
  )
  INSERT INTO orders (id, epoch, region)
  SELECT $1, $2, $3 FROM fence
  RETURNING id`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The database stops taking writes while it still answers reads: every new transaction is read-only, as after a
 * full disk's emergency setting or an operator's mistake. The plain health check (a read) stays 200.
 */
export async function refuseWrites(db: PgEndpoint): Promise<void> {
  await withClient(db, async (c) => {
    // ALTER SYSTEM cannot run inside a transaction block: two statements, two round trips.
    await c.query('ALTER SYSTEM SET default_transaction_read_only = on');
    await c.query('SELECT pg_reload_conf()');
  });
}

const WRITE_TEST_ROW = `
  INSERT INTO health_probe (region, at) VALUES ($1, now())
  ON CONFLICT (region) DO UPDATE SET at = excluded.at
  RETURNING at`;

class LocalSampleApp implements SampleApp {
  readonly region: string;
  port = 0;
  private server: Server | null = null;
  private writes: pg.Pool | null = null;
  private checks: pg.Pool | null = null;
  /** The health contract's own pool: its checks must never queue the plain health check (or the writes). */
  private deep: pg.Pool | null = null;
  private generation = 0;
  private slowness: SlowApp = {};
  private readonly counts: SampleAppStats;
  private readonly now: () => number;
  private readonly writeTimeoutMs: number;
  private readonly healthTimeoutMs: number;
  private readonly holder: ((req: IncomingMessage, res: ServerResponse) => boolean) | null;
  private readonly deepHealth: ((req: IncomingMessage, res: ServerResponse) => boolean) | null;
  readonly queue: LocalQueue;

  constructor(private readonly options: SampleAppOptions) {
    this.region = options.region;
    this.now = options.now ?? Date.now;
    this.holder = options.holderCheck
      ? serveHolderCheck(options.holderCheck, options.region, { now: this.now })
      : null;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 2_000;
    this.healthTimeoutMs = options.healthTimeoutMs ?? 500;
    this.counts = { region: options.region, outcomes: {}, health: { ok: 0, unhealthy: 0 } };
    this.queue = new LocalQueue(`orders-${options.region}`, this.now);
    this.deepHealth = options.health
      ? serveHealthContract(
          healthContract({ checks: options.health.checks, run: this.deepChecks(options.health.checks) }),
          options.health.path,
        )
      : null;
  }

  /** Real checks for the configured kinds; a kind the sample app has nothing for fails, never passes. */
  private deepChecks(checks: NonNullable<SampleAppOptions['health']>['checks']): Record<string, DeepCheck> {
    const run: Record<string, DeepCheck> = {};
    for (const c of checks) {
      if (c.kind === 'write') run[c.name] = (signal) => this.writeTestRow(c.timeoutMs, signal);
      else if (c.kind === 'queue-backlog')
        run[c.name] = queueBacklogCheck(this.queue, this.queue.name, c.maxAgeSeconds ?? 300);
      else if (c.kind === 'gameday' && this.options.gameday)
        run[c.name] = gamedayCheck(this.options.gameday.markers, {
          application: this.options.gameday.application,
          region: this.options.region,
          cacheMs: this.options.gameday.cacheMs,
        });
      else run[c.name] = async () => ({ ok: false, detail: `the sample app has no ${c.kind} check` });
    }
    return run;
  }

  /**
   * Kind `write` through the app's own pool: the primary writes its test row and reads it back; a replica, which
   * never takes writes, only reads it (a standby is not unhealthy for being read-only).
   */
  private async writeTestRow(
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<{ ok: boolean; detail: string }> {
    const pool = this.deep;
    if (!pool) throw new Error('app is stopping');
    const client = await pool.connect();
    // A check given up while it waited for a connection must not go on holding one.
    if (signal.aborted) {
      client.release();
      throw signal.reason;
    }
    try {
      const role = await client.query<{ r: boolean }>({
        text: 'SELECT pg_is_in_recovery() AS r',
        query_timeout: timeoutMs,
      } as pg.QueryConfig);
      if (role.rows[0]?.r) {
        await client.query({
          text: 'SELECT at FROM health_probe WHERE region = $1',
          values: [this.region],
          query_timeout: timeoutMs,
        } as pg.QueryConfig);
        client.release();
        return { ok: true, detail: 'replica: test row read (a replica takes no writes)' };
      }
      const res = await client.query<{ at: Date }>({
        text: WRITE_TEST_ROW,
        values: [this.region],
        query_timeout: timeoutMs,
      } as pg.QueryConfig);
      client.release();
      if (res.rowCount !== 1) return { ok: false, detail: 'test row not written' };
      return { ok: true, detail: 'test row written and read back' };
    } catch (err) {
      // The database's own refusal (an SQLSTATE) leaves the connection sound; a statement cut off by its timeout
      // may still run: never hand that connection to the next check.
      client.release((err as { code?: string }).code === undefined);
      throw err;
    }
  }

  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.generation += 1;
    this.queue.start();
    const cs = connectionString(this.options.database);
    // Separate pools so that a health check measures the database, not a queue behind slow writes.
    // 8 writers: a few hundred writes a second with room for a slow commit (each holds a connection only for
    // its one statement). Two regions' apps, health checks and the drill's own readers stay under the
    // databases' max_connections (20, infra/local/postgres.ts).
    this.writes = new pg.Pool({
      connectionString: cs,
      max: WRITE_CONNECTIONS,
      connectionTimeoutMillis: this.writeTimeoutMs,
      idleTimeoutMillis: 10_000,
      application_name: `sample-app-${this.region}`,
    });
    this.checks = new pg.Pool({
      connectionString: cs,
      max: 1,
      connectionTimeoutMillis: this.healthTimeoutMs,
      idleTimeoutMillis: 10_000,
      statement_timeout: this.healthTimeoutMs,
      application_name: `sample-app-${this.region}-health`,
    });
    if (this.options.health) {
      this.deep = new pg.Pool({
        connectionString: cs,
        // One connection per watcher probing at once, kept open: a check must not pay a connection setup.
        max: 5,
        connectionTimeoutMillis: this.healthTimeoutMs,
        idleTimeoutMillis: 30_000,
        application_name: `sample-app-${this.region}-deep-health`,
      });
      this.deep.on('error', () => {});
      this.deep.on('connect', (c) => c.on('error', () => {}));
    }
    // A killed or cut database errors idle clients; the next request sees the failure on its own.
    this.writes.on('error', () => {});
    this.checks.on('error', () => {});
    // A client checked out when its database is killed errors on itself, not on the pool: without a listener
    // that error would end the whole drill. The query in flight still fails and is answered as such.
    this.writes.on('connect', (c) => c.on('error', () => {}));
    this.checks.on('connect', (c) => c.on('error', () => {}));
    const server = createServer((req, res) => {
      this.handle(req, res, this.generation).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, { code: 'INTERNAL', reason: String(err) }, this.region);
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new SetupError(
                `sample app ${this.region}: port ${this.port} on ${HOST} is in use: free it or choose another`,
              )
            : err,
        ),
      );
      server.listen(this.port || this.options.port || 0, HOST, () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.port;
    this.server = server;
    void warm(this.writes);
  }

  async kill(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // In-flight handlers see a new generation and never answer, as if the process had died mid-request.
    this.generation += 1;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    this.endPools();
    await closed;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    this.endPools();
  }

  private endPools(): void {
    this.queue.stop();
    const pools = [this.writes, this.checks, this.deep];
    this.writes = null;
    this.checks = null;
    this.deep = null;
    for (const pool of pools) pool?.end().catch(() => {});
  }

  slow(options: SlowApp | null): void {
    this.slowness = { ...(options ?? {}) };
  }

  stats(): SampleAppStats {
    return {
      region: this.region,
      outcomes: { ...this.counts.outcomes },
      health: { ...this.counts.health },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse, generation: number): Promise<void> {
    // From the guard's cache, no I/O: a region cut off from the lease authority turns 503 when its writes stop.
    if (this.holder?.(req, res)) return;
    if (this.deepHealth?.(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      const { status, body } = await this.health();
      if (generation === this.generation) send(res, status, body, this.region);
      return;
    }
    if (req.method === 'POST' && path === '/orders') {
      const body = await readBody(req);
      const { status, outcome, body: answer } = await this.order(body);
      // Every acknowledged order leaves a message for the app's consumer (the queue-backlog check's queue).
      if (outcome === 'ACKED') this.queue.send();
      this.counts.outcomes[outcome] = (this.counts.outcomes[outcome] ?? 0) + 1;
      if (generation === this.generation) send(res, status, answer, this.region);
      return;
    }
    req.resume();
    send(res, 404, { code: 'NOT_FOUND', reason: `${req.method} ${path}` }, this.region);
  }

  private async health(): Promise<{ status: number; body: Record<string, unknown> }> {
    if (this.slowness.healthDelayMs) await sleep(this.slowness.healthDelayMs);
    const pool = this.checks;
    try {
      if (!pool) throw new Error('app is stopping');
      const res = await pool.query<{ in_recovery: boolean }>({
        text: 'SELECT pg_is_in_recovery() AS in_recovery',
        query_timeout: this.healthTimeoutMs,
      } as pg.QueryConfig);
      this.counts.health.ok += 1;
      return {
        status: 200,
        body: {
          status: 'ok',
          region: this.region,
          database: res.rows[0]?.in_recovery ? 'replica' : 'primary',
        },
      };
    } catch (err) {
      this.counts.health.unhealthy += 1;
      return { status: 503, body: { status: 'unhealthy', region: this.region, reason: message(err) } };
    }
  }

  private async order(
    raw: string | null,
  ): Promise<{ status: number; outcome: OrderOutcome; body: Record<string, unknown> }> {
    const id = parseId(raw);
    if (id === null) {
      return {
        status: 400,
        outcome: 'BAD_REQUEST',
        body: { code: 'BAD_REQUEST', reason: 'body must be JSON {"id": "<1-128 characters>"}' },
      };
    }
    const decision = this.options.guard.check();
    if (!decision.allowed) {
      return {
        status: 503,
        outcome: 'GUARD_REFUSED',
        body: { code: decision.code, reason: decision.reason, epoch: decision.epoch },
      };
    }
    const { epoch, validUntil } = decision;
    if (this.slowness.orderDelayMs) await sleep(this.slowness.orderDelayMs);
    if (this.now() >= validUntil) return leaseRanOut(epoch, validUntil);

    const pool = this.writes;
    if (!pool) return unavailable('app is stopping');
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      return unavailable(message(err));
    }
    let inserted: number;
    let notices: string[];
    try {
      const res = await queryCancellable(
        client,
        this.options.database,
        // Prepared once per pooled connection: PostgreSQL shares the machine's cores with the drill.
        { name: 'insert_fenced', text: INSERT_FENCED },
        [id, epoch, this.region],
        this.writeTimeoutMs,
      );
      inserted = res.rowCount;
      notices = res.notices;
      // After a cancel the connection is not reused: a late cancel must not hit the next request's statement.
      client.release(res.cancelled);
    } catch (err) {
      // A client that timed out may still have a statement running: never hand it to the next request.
      client.release(true);
      const code = (err as { code?: string }).code;
      if (code === '23505') {
        return {
          status: 409,
          outcome: 'DUPLICATE',
          body: { code: 'DUPLICATE', reason: `order ${id} exists` },
        };
      }
      if (code === '25006') {
        return {
          status: 503,
          outcome: 'READ_ONLY',
          body: { code: 'READ_ONLY', reason: `the ${this.region} database is read-only (a standby)` },
        };
      }
      return unavailable(message(err));
    }
    // A cancel during the wait for a synchronous standby leaves the commit local and only warns.
    if (notices.some(isSyncRepCancel)) {
      return {
        status: 503,
        outcome: 'NOT_REPLICATED',
        body: {
          code: 'NOT_REPLICATED',
          reason: 'committed locally but the synchronous standby did not confirm',
        },
      };
    }
    if (inserted === 0) {
      const stored = await this.storedFence().catch(() => null);
      return {
        status: 409,
        outcome: 'STALE_EPOCH',
        body: {
          code: 'STALE_EPOCH',
          reason: `epoch ${epoch} is below the highest epoch stored${stored === null ? '' : ` (${stored})`}`,
          epoch,
        },
      };
    }
    // The acknowledgement must leave before the lease runs out for writes, or a newer lease may already exist.
    if (this.now() >= validUntil) return leaseRanOut(epoch, validUntil);
    return { status: 201, outcome: 'ACKED', body: { id, region: this.region, epoch } };
  }

  private async storedFence(): Promise<number | null> {
    const pool = this.checks;
    if (!pool) return null;
    const res = await pool.query<{ epoch: string }>('SELECT epoch::text FROM order_fence');
    return res.rows[0] ? Number(res.rows[0].epoch) : null;
  }
}

/**
 * Opens the pool's connections ahead of the first writes, so that the clients' first second does not pay
 * PostgreSQL's connection start-up (a backend forked per connection) one write at a time. Best effort: a database
 * that is down fails its writes later, on their own.
 */
async function warm(pool: pg.Pool): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: WRITE_CONNECTIONS }, () => pool.connect().catch(() => null)),
  );
  for (const c of clients) c?.release();
}

function leaseRanOut(epoch: number, validUntil: number) {
  return {
    status: 503,
    outcome: 'LEASE_RAN_OUT' as const,
    body: {
      code: 'LEASE_RAN_OUT',
      reason: `lease epoch ${epoch} ran out for writes at ${validUntil}`,
      epoch,
    },
  };
}

function unavailable(reason: string) {
  return { status: 503, outcome: 'DB_UNAVAILABLE' as const, body: { code: 'DB_UNAVAILABLE', reason } };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseId(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    const id = (parsed as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length >= 1 && id.length <= 128 ? id : null;
  } catch {
    return null;
  }
}

/**
 * The body, or null past `limit` bytes (the rest is drained). Events, not `for await`: an async iterator costs a
 * promise per chunk, on every write of the drill's hot path.
 */
function readBody(req: IncomingMessage, limit = 4096): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(
        size > limit
          ? null
          : chunks.length === 1
            ? chunks[0]!.toString('utf8')
            : Buffer.concat(chunks).toString('utf8'),
      ),
    );
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, region: string): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-cutover-region': region,
  });
  res.end(text);
}

export async function startSampleApp(options: SampleAppOptions): Promise<SampleApp> {
  const app = new LocalSampleApp(options);
  await app.start();
  return app;
}
