import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve as resolvePath } from 'node:path';
import pg from 'pg';
import { SetupError } from './dynamodb-local.js';

/**
 * Real PostgreSQL 15 clusters for the local drill: a primary, streaming replicas that reach it through a
 * host:port of the caller's choosing (a fault proxy), promotion, kill -9 and lag measurement.
 */

export const DEFAULT_PG_BIN = '/usr/lib/postgresql/15/bin';
const HOST = '127.0.0.1';
const USER = 'postgres';

export interface PgEndpoint {
  host: string;
  port: number;
}

export interface PgMemory {
  processes: number;
  /** Sum of resident sets; counts shared_buffers once per process that touched it. */
  rssKb: number;
  /** Proportional set size: shared pages split between the processes, so the sums add up across servers. */
  pssKb: number;
}

export interface StandbyStatus {
  applicationName: string;
  state: string;
  syncState: string;
  /** Bytes between the primary's current WAL write position and what the standby has replayed. */
  replayLagBytes: number;
  /** pg_stat_replication.replay_lag: null when the standby is idle and caught up. */
  replayLagMs: number | null;
}

export interface ReplicationLag {
  /** WAL bytes the replica has not replayed yet; null when the primary or the replica does not answer. */
  bytes: number | null;
  /** now() − last replayed commit timestamp on the replica; grows while the primary is idle too. */
  replayDelayMs: number | null;
  primaryLsn: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
}

export interface PostgresServer {
  readonly name: string;
  readonly dataDir: string;
  readonly port: number;
  readonly endpoint: PgEndpoint;
  readonly connectionString: string;
  /** Starts the postmaster (after a crash too: PostgreSQL runs crash recovery) and waits until it answers. */
  start(): Promise<void>;
  /** Fast shutdown, escalating to immediate shutdown and then SIGKILL. */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster and every backend at once: the region died, nothing is flushed or sent. */
  kill(): Promise<void>;
  running(): boolean;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    timeoutMs?: number,
  ): Promise<R[]>;
  isInRecovery(timeoutMs?: number): Promise<boolean>;
  /** True when the server is out of recovery and a transaction that needs an xid completes in time. */
  isWritable(timeoutMs?: number): Promise<boolean>;
  /** Promotes a standby and waits until it accepts writes; returns how long that took. */
  promote(timeoutMs?: number): Promise<{ ms: number }>;
  /** Rows of pg_stat_replication on this (primary) server. */
  standbys(): Promise<StandbyStatus[]>;
  /** Synchronous commit waits for these standbys (by application name); empty or null means asynchronous. */
  setSynchronousStandbys(names: string[] | null): Promise<void>;
  /** Points a replica's WAL receiver at another host:port; PostgreSQL 13+ applies it on reload. */
  setUpstream(upstream: PgEndpoint): Promise<void>;
  memory(): Promise<PgMemory>;
  log(): string;
}

export interface PrimaryOptions {
  /** Data directory to create; its parent must exist. */
  dir: string;
  port: number;
  name?: string;
  /** Application names of standbys that commits wait for (synchronous replication); default asynchronous. */
  synchronousStandbys?: string[];
  binDir?: string;
  /** Extra postgresql.conf lines. */
  settings?: Record<string, string | number>;
}

export interface ReplicaOptions {
  dir: string;
  port: number;
  /** Also the application_name the primary sees, i.e. what synchronous_standby_names refers to. */
  name: string;
  /** Where the replica reaches the primary, for both the base backup and streaming; a fault proxy in the drill. */
  upstream: PgEndpoint;
  /** A physical replication slot keeps the primary's WAL while the link is cut; default true. */
  slot?: boolean;
  binDir?: string;
}

// Kept small so that two clusters, two apps and DynamoDB Local fit the drill's 1.5 GiB budget; fsync off
// because a drill survives process kills (the OS keeps the page cache), not power loss.
const BASE_SETTINGS: Record<string, string | number> = {
  shared_buffers: "'16MB'",
  max_connections: 20,
  work_mem: "'1MB'",
  maintenance_work_mem: "'16MB'",
  max_worker_processes: 4,
  max_parallel_workers: 0,
  max_parallel_workers_per_gather: 0,
  autovacuum_max_workers: 1,
  fsync: 'off',
  full_page_writes: 'off',
  wal_level: 'replica',
  max_wal_senders: 5,
  max_replication_slots: 5,
  // Lets pg_rewind turn a failed primary back into a replica of the new one (failback) without a new base backup.
  wal_log_hints: 'on',
  hot_standby: 'on',
  // Compressed timings: a cut link is noticed in seconds and a healed one reconnects within half a second.
  wal_sender_timeout: "'5s'",
  wal_receiver_timeout: "'5s'",
  wal_receiver_status_interval: "'1s'",
  wal_retrieve_retry_interval: "'500ms'",
  log_line_prefix: "'%m [%p] '",
  synchronous_standby_names: "''",
};

const live = new Set<ChildProcess>();
// Last resort when the drill exits without stopping its servers: no postmaster may outlive the drill.
process.once('exit', () => {
  for (const child of live) {
    if (child.pid) killTree(child.pid);
  }
});

interface RunAs {
  uid: number;
  gid: number;
}

let runAsCache: RunAs | null | undefined;

/**
 * PostgreSQL refuses to run as root. We spawn with uid/gid rather than through `runuser -u postgres --`:
 * runuser forks and waits in a PAM session, so the child we hold would not be the postmaster and a
 * SIGKILL would miss it.
 */
async function runAs(): Promise<RunAs | null> {
  if (runAsCache !== undefined) return runAsCache;
  if (process.getuid?.() !== 0) {
    runAsCache = null;
    return null;
  }
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith(`${USER}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) {
    throw new SetupError(
      'running as root but there is no postgres user to run PostgreSQL as: install postgresql-15 (it creates the user) or run the drill as a normal user',
    );
  }
  runAsCache = { uid: Number(uid), gid: Number(gid) };
  return runAsCache;
}

function binary(binDir: string, name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    throw new SetupError(
      `${path} not found: install the PostgreSQL 15 server (apt-get install postgresql-15) or pass binDir`,
    );
  }
  return path;
}

function pgEnv(): NodeJS.ProcessEnv {
  // A PGPORT or PGHOST in the caller's environment would silently redirect the client tools.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return { ...env, LC_ALL: 'C', TZ: 'UTC' };
}

async function run(file: string, args: string[], cwd: string): Promise<string> {
  const user = await runAs();
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd, env: pgEnv(), ...(user ?? {}), timeout: 120_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new SetupError(`${file} ${args.join(' ')} failed: ${stderr || err.message}`, { cause: err }),
          );
        else resolve(`${stdout}${stderr}`);
      },
    );
  });
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new SetupError(
              `port ${port} on ${HOST} is in use: free it (ss -ltnp 'sport = :${port}') or choose another`,
            )
          : err,
      );
    });
    srv.listen(port, HOST, () => srv.close(() => resolve()));
  });
}

/** Creates an empty data directory that the server user owns, and makes its parent traversable for that user. */
async function prepareDataDir(dir: string): Promise<void> {
  const user = await runAs();
  const parent = dirname(dir);
  if (!existsSync(parent))
    throw new SetupError(`parent directory ${parent} of the data directory does not exist`);
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new SetupError(`data directory ${dir} is not empty: give each cluster a fresh directory`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!user) return;
  // mkdtemp makes 0700 directories; the postgres user must be able to traverse every ancestor.
  const info = await stat(parent);
  if ((info.mode & 0o001) === 0 && info.uid !== user.uid) await chmod(parent, info.mode | 0o755);
  for (let d = dirname(parent); d !== dirname(d); d = dirname(d)) {
    const s = await stat(d);
    if ((s.mode & 0o001) === 0 && s.uid !== user.uid) {
      throw new SetupError(
        `${d} is not traversable by the postgres user: put the drill's temp dir elsewhere (e.g. /tmp)`,
      );
    }
  }
  await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
}

function settingsText(settings: Record<string, string | number>): string {
  return `\n# cutover local drill\n${Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n')}\n`;
}

function quoteNames(names: string[] | null | undefined): string {
  if (!names || names.length === 0) return "''";
  return `'FIRST ${names.length} (${names.map((n) => `"${n.replaceAll('"', '')}"`).join(', ')})'`;
}

/** Initializes and starts a primary cluster. */
export async function initPrimary(opts: PrimaryOptions): Promise<PostgresServer> {
  const binDir = opts.binDir ?? DEFAULT_PG_BIN;
  const initdb = binary(binDir, 'initdb');
  binary(binDir, 'postgres');
  await runAs();
  await assertPortFree(opts.port);
  await prepareDataDir(opts.dir);
  await run(
    initdb,
    ['-D', opts.dir, '-U', USER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    dirname(opts.dir),
  );
  await appendFile(
    join(opts.dir, 'postgresql.conf'),
    settingsText({
      ...BASE_SETTINGS,
      synchronous_standby_names: quoteNames(opts.synchronousStandbys),
      ...(opts.settings ?? {}),
    }),
  );
  const server = new LocalPostgres(opts.name ?? 'primary', opts.dir, opts.port, binDir);
  await server.start();
  return server;
}

/**
 * Takes a base backup of the primary through `upstream` and starts it as a hot standby streaming from there.
 * pg_basebackup -R writes standby.signal and primary_conninfo (PostgreSQL 15 docs, pg_basebackup).
 */
export async function createReplica(opts: ReplicaOptions): Promise<PostgresServer> {
  const binDir = opts.binDir ?? DEFAULT_PG_BIN;
  const basebackup = binary(binDir, 'pg_basebackup');
  binary(binDir, 'postgres');
  await runAs();
  await assertPortFree(opts.port);
  await prepareDataDir(opts.dir);
  const slot = opts.slot ?? true;
  const slotName = slotNameFor(opts.name);
  const conninfo = `host=${opts.upstream.host} port=${opts.upstream.port} user=${USER} application_name=${opts.name}`;
  await run(
    basebackup,
    [
      '-d',
      conninfo,
      '-D',
      opts.dir,
      '-R',
      '-X',
      'stream',
      '--checkpoint=fast',
      '--no-sync',
      ...(slot ? ['-C', '-S', slotName] : []),
    ],
    dirname(opts.dir),
  );
  // The backup copies the primary's postgresql.auto.conf. A promoted replica that inherited
  // synchronous_standby_names would wait forever for a standby it does not have, so clear it here.
  await appendFile(
    join(opts.dir, 'postgresql.auto.conf'),
    `synchronous_standby_names = ''\nprimary_conninfo = '${conninfo}'\n`,
  );
  const server = new LocalPostgres(opts.name, opts.dir, opts.port, binDir);
  await server.start();
  return server;
}

function slotNameFor(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
}

/** Lag of `replica` behind `primary`, measured from both ends so that it works while the link is cut. */
export async function replicationLag(
  primary: PostgresServer,
  replica: PostgresServer,
  timeoutMs = 1000,
): Promise<ReplicationLag> {
  const primaryLsn = await primary
    .query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn', [], timeoutMs)
    .then((r) => r[0]?.lsn ?? null)
    .catch(() => null);
  const row = await replica
    .query<{ receive: string | null; replay: string | null; delay_ms: number | null; bytes: string | null }>(
      `SELECT pg_last_wal_receive_lsn()::text AS receive,
              pg_last_wal_replay_lsn()::text AS replay,
              (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS delay_ms,
              pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS bytes`,
      [primaryLsn],
      timeoutMs,
    )
    .then((r) => r[0] ?? null)
    .catch(() => null);
  return {
    // The replica may have received WAL after the primary's position was read: never report less than 0.
    bytes: row?.bytes != null ? Math.max(0, Number(row.bytes)) : null,
    replayDelayMs: row?.delay_ms ?? null,
    primaryLsn,
    receiveLsn: row?.receive ?? null,
    replayLsn: row?.replay ?? null,
  };
}

function killTree(pid: number): void {
  try {
    // Stopped first so that the postmaster cannot fork a backend between listing its children and the kill.
    process.kill(pid, 'SIGSTOP');
  } catch {
    return;
  }
  for (const child of childrenOf(pid)) {
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readProcStat(Number(e));
    if (st && st.ppid === pid) out.push(Number(e));
  }
  return out;
}

function readProcStat(pid: number): { ppid: number; state: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; the fields after the last ')' are fixed.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X';
}

/**
 * The WARNING a backend sends when a cancel or termination ends its wait for synchronous standbys: "The
 * transaction has already committed locally, but might not have been replicated to the standby"
 * (src/backend/replication/syncrep.c, PostgreSQL 15).
 */
export function isSyncRepCancel(message: string): boolean {
  return /canceling (the )?wait for synchronous replication/i.test(message);
}

export interface CancellableResult<R> {
  rows: R[];
  rowCount: number;
  /** Messages of NOTICE/WARNING responses received while the statement ran. */
  notices: string[];
  /** A cancel was sent: the client may have a cancel in flight and must not be reused. */
  cancelled: boolean;
}

/**
 * Runs one statement and cancels it on the server after `timeoutMs`. statement_timeout cannot do this for
 * a commit: finish_xact_command() disables it before committing, so a commit waiting for a lost synchronous
 * standby waits forever (Tom Lane, pgsql-hackers "Standalone synchronous master", 2014-01-11; measured
 * here too). A cancel ends that wait with a WARNING and the commit stays local only. If the server does not
 * answer at all, the client gives up `backstopMs` later.
 */
export async function queryCancellable<R extends pg.QueryResultRow>(
  client: pg.ClientBase,
  endpoint: PgEndpoint,
  /** With a name, a prepared statement: parsed and planned once per connection, not at every call. */
  text: string | { text: string; name: string },
  values: unknown[],
  timeoutMs: number,
  backstopMs = 1_000,
): Promise<CancellableResult<R>> {
  const notices: string[] = [];
  const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
  client.on('notice', onNotice);
  let cancelled = false;
  const timer = setTimeout(() => {
    cancelled = true;
    cancelBackend(endpoint, client).catch(() => {});
  }, timeoutMs);
  try {
    // query_timeout: pg's client-side timeout, missing from @types/pg's QueryConfig.
    const query: pg.QueryConfig & { query_timeout: number } = {
      ...(typeof text === 'string' ? { text } : text),
      values,
      query_timeout: timeoutMs + backstopMs,
    };
    const res = await client.query<R>(query);
    return { rows: res.rows, rowCount: res.rowCount ?? 0, notices, cancelled };
  } catch (err) {
    throw Object.assign(err as Error, { cancelled });
  } finally {
    clearTimeout(timer);
    client.off('notice', onNotice);
  }
}

/** Sends a CancelRequest for the backend behind `client` over a new connection (PostgreSQL 15 docs, 55.2.7). */
export async function cancelBackend(endpoint: PgEndpoint, client: pg.ClientBase): Promise<void> {
  const { processID, secretKey } = client as unknown as {
    processID: number | null;
    secretKey: number | null;
  };
  if (processID === null || secretKey === null) return;
  const msg = Buffer.alloc(16);
  msg.writeInt32BE(16, 0);
  msg.writeInt32BE(80877102, 4);
  msg.writeInt32BE(processID, 8);
  msg.writeInt32BE(secretKey, 12);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    socket.setTimeout(1_000, () => socket.destroy(new Error('cancel request timed out')));
    socket.once('error', reject);
    socket.once('connect', () => socket.end(msg));
    socket.once('close', () => resolve());
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class LocalPostgres implements PostgresServer {
  readonly endpoint: PgEndpoint;
  readonly connectionString: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private children: number[] = [];
  /**
   * One idle connection kept for the next short query (the control plane's status and lag readings, several per
   * failover step): a new connection costs a backend fork, about 5 ms here at rest. Dropped when the server
   * stops, dies or starts again, and whenever a query on it fails.
   */
  private idle: pg.Client | null = null;

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly port: number,
    private readonly binDir: string,
  ) {
    this.endpoint = { host: HOST, port };
    this.connectionString = `postgres://${USER}@${HOST}:${port}/postgres`;
  }

  running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    return this.output;
  }

  private append(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-64 * 1024);
  }

  async start(): Promise<void> {
    if (this.running()) return;
    this.dropIdle();
    await assertPortFree(this.port);
    const user = await runAs();
    const child = spawn(
      binary(this.binDir, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-c',
        `port=${this.port}`,
        '-c',
        `listen_addresses=${HOST}`,
        // TCP only: no socket file in /var/run/postgresql, which may not exist or be writable.
        '-c',
        'unix_socket_directories=',
        '-c',
        `cluster_name=${this.name}`,
      ],
      { cwd: dirname(this.dataDir), env: pgEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) },
    );
    this.child = child;
    live.add(child);
    child.stdout?.on('data', (d: Buffer) => this.append(d));
    child.stderr?.on('data', (d: Buffer) => this.append(d));
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        live.delete(child);
        resolve();
      }),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = await Promise.race([
        this.ping().then((ok) => (ok ? ('up' as const) : ('down' as const))),
        this.exited.then(() => 'exited' as const),
        spawnError.then(() => 'error' as const),
      ]);
      if (state === 'up') return;
      if (state === 'error') throw new SetupError(`could not start ${this.name}: ${await spawnError}`);
      if (state === 'exited') {
        const inUse = /could not bind|Address already in use/.test(this.output);
        throw new SetupError(
          inUse
            ? `port ${this.port} on ${HOST} is in use: free it or choose another\n${this.output}`
            : `postgres ${this.name} exited during start:\n${this.output}`,
        );
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new SetupError(`postgres ${this.name} did not accept connections within 30 s:\n${this.output}`);
      }
      await sleep(100);
    }
  }

  private async ping(): Promise<boolean> {
    try {
      // Another server that took the port before this one bound it would answer SELECT 1 just as well.
      const rows = await this.query<{ dir: string }>(
        "SELECT current_setting('data_directory') AS dir",
        [],
        1000,
      );
      return rows[0]?.dir === resolvePath(this.dataDir);
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.dropIdle();
    const child = this.child;
    if (!child || !this.running() || !child.pid) return;
    // SIGINT is fast shutdown, SIGQUIT immediate shutdown (PostgreSQL 15 docs, 19.5 Shutting Down the Server).
    child.kill('SIGINT');
    if (await this.exitsWithin(10_000)) return;
    child.kill('SIGQUIT');
    if (await this.exitsWithin(3_000)) return;
    await this.kill();
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return done;
  }

  async kill(): Promise<void> {
    this.dropIdle();
    const child = this.child;
    if (!child?.pid || !this.running()) return;
    this.children = childrenOf(child.pid);
    killTree(child.pid);
    await this.exited;
    // Backends were reparented away from us; a new postmaster on this data dir must not meet them.
    const deadline = Date.now() + 5_000;
    while (this.children.some(alive) && Date.now() < deadline) await sleep(20);
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    timeoutMs = 5_000,
  ): Promise<R[]> {
    return this.withClient(timeoutMs, async (client) => {
      // query_timeout per query: pg's client-side timeout, missing from @types/pg's QueryConfig.
      const query: pg.QueryConfig & { query_timeout: number } = {
        text: sql,
        values: params,
        query_timeout: timeoutMs,
      };
      return (await client.query<R>(query)).rows;
    });
  }

  /**
   * Runs `f` on the idle connection, or on a new one connected within `timeoutMs`; keeps the connection for the
   * next call only when `f` succeeded and the server is still the one it was opened on.
   */
  private async withClient<T>(
    timeoutMs: number,
    f: (client: pg.Client, discard: () => void) => Promise<T>,
  ): Promise<T> {
    let client = this.idle;
    this.idle = null;
    const child = this.child;
    if (!client) {
      const fresh = new pg.Client({
        connectionString: this.connectionString,
        connectionTimeoutMillis: timeoutMs,
      });
      // A killed server resets the socket; a pending query rejects on its own, an idle one is dropped.
      fresh.on('error', () => this.forget(fresh));
      fresh.on('end', () => this.forget(fresh));
      try {
        await fresh.connect();
      } catch (err) {
        fresh.end().catch(() => {});
        throw err;
      }
      client = fresh;
    }
    let out: T;
    let keep = true;
    try {
      out = await f(client, () => {
        keep = false;
      });
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    if (keep && this.idle === null && child !== null && child === this.child && this.running())
      this.idle = client;
    else client.end().catch(() => {});
    return out;
  }

  private forget(client: pg.Client): void {
    if (this.idle === client) this.idle = null;
  }

  private dropIdle(): void {
    this.idle?.end().catch(() => {});
    this.idle = null;
  }

  async isInRecovery(timeoutMs = 2_000): Promise<boolean> {
    const rows = await this.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r', [], timeoutMs);
    return rows[0]?.r === true;
  }

  async isWritable(timeoutMs = 2_000): Promise<boolean> {
    try {
      return await this.withClient(timeoutMs, async (client, discard) => {
        // A transactional logical message writes WAL under a transaction id, so its commit waits for
        // synchronous standbys; a commit that wrote no WAL would not (txid_current() alone passes).
        // A standby is not asked to write at all (it would refuse it with an error, which costs the connection).
        // A read-only default (default_transaction_read_only) refuses the application's writes, though this
        // message alone would commit.
        const res = await queryCancellable<{ r: boolean }>(
          client,
          this.endpoint,
          `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS r,
                  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_logical_emit_message(true, 'cutover-probe', '') END AS lsn`,
          [],
          timeoutMs,
        );
        // A cancel sent may still be on its way: it would cancel whatever the connection runs next.
        if (res.cancelled) discard();
        return res.rows[0]?.r === true && !res.notices.some(isSyncRepCancel);
      });
    } catch {
      return false;
    }
  }

  async promote(timeoutMs = 30_000): Promise<{ ms: number }> {
    const started = Date.now();
    // pg_promote(false) signals the promotion and returns at once (PostgreSQL 15 docs, 9.27.4 Recovery Control
    // Functions). With wait = true it would look for the end of recovery only every 100 ms (WAITS_PER_SECOND = 10
    // in src/backend/access/transam/xlogfuncs.c), while a promotion without a checkpoint takes a few ms: so the
    // end of recovery is looked for here, every 5 ms, then a committed write confirms it.
    const deadline = started + timeoutMs;
    let signalled = false;
    // A slow connection or query on a loaded machine is tried again until the deadline, never taken for a failure.
    for (let recovering = true; recovering; ) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name} was not promoted within ${timeoutMs} ms of pg_promote()`);
      const client = new pg.Client({
        connectionString: this.connectionString,
        connectionTimeoutMillis: Math.min(left, 5_000),
        query_timeout: Math.min(left, 5_000),
      });
      client.on('error', () => {});
      try {
        await client.connect();
        if (!signalled) {
          // Already promoted (an earlier attempt's signal went through): "recovery is not in progress".
          await client.query('SELECT pg_promote(false)').catch((err: Error) => {
            if (!/recovery is not in progress/i.test(err.message)) throw err;
          });
          signalled = true;
        }
        while (recovering && Date.now() < deadline) {
          const res = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          recovering = res.rows[0]?.r !== false;
          if (recovering) await sleep(5);
        }
      } catch {
        await sleep(20);
      } finally {
        client.end().catch(() => {});
      }
    }
    while (!(await this.isWritable(1_000))) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(`${this.name} was not writable ${timeoutMs} ms after pg_promote()`);
      }
      await sleep(20);
    }
    return { ms: Date.now() - started };
  }

  async standbys(): Promise<StandbyStatus[]> {
    const rows = await this.query<{
      application_name: string;
      state: string;
      sync_state: string;
      bytes: string | null;
      lag_ms: number | null;
    }>(
      `SELECT application_name, state, sync_state,
              pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS bytes,
              (extract(epoch FROM replay_lag) * 1000)::float8 AS lag_ms
         FROM pg_stat_replication ORDER BY application_name`,
    );
    return rows.map((r) => ({
      applicationName: r.application_name,
      state: r.state,
      syncState: r.sync_state,
      replayLagBytes: r.bytes == null ? 0 : Number(r.bytes),
      replayLagMs: r.lag_ms,
    }));
  }

  async setSynchronousStandbys(names: string[] | null): Promise<void> {
    await this.query(`ALTER SYSTEM SET synchronous_standby_names = ${quoteNames(names)}`);
    await this.query('SELECT pg_reload_conf()');
  }

  async setUpstream(upstream: PgEndpoint): Promise<void> {
    // Reloadable since PostgreSQL 13: the WAL receiver restarts with the new primary_conninfo
    // (PostgreSQL 15 docs, 20.6.3 Standby Servers).
    const conninfo = `host=${upstream.host} port=${upstream.port} user=${USER} application_name=${this.name}`;
    await this.query(`ALTER SYSTEM SET primary_conninfo = '${conninfo}'`);
    await this.query('SELECT pg_reload_conf()');
  }

  async memory(): Promise<PgMemory> {
    const pid = this.child?.pid;
    if (!pid || !this.running()) return { processes: 0, rssKb: 0, pssKb: 0 };
    let rssKb = 0;
    let pssKb = 0;
    const pids = [pid, ...childrenOf(pid)];
    for (const p of pids) {
      try {
        const text = await readFile(`/proc/${p}/smaps_rollup`, 'utf8');
        rssKb += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
        pssKb += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      } catch {
        // exited between listing and reading
      }
    }
    return { processes: pids.length, rssKb, pssKb };
  }
}
