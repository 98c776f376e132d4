/**
 * Cutover against its peer, side by side on this machine, in one run (a plain script, not a timed test):
 *   npm run bench:peer [-- --rate N]
 *
 * The peer is Patroni (Debian's `patroni`, with `etcd-server` as its DCS), two PostgreSQL 15 nodes with streaming
 * replication. The same fault for both: the primary's whole node dies (its PostgreSQL and the process that keeps
 * its lease, SIGKILLed: Patroni's daemon, Cutover's app and keeper), under the same write load: the drill's load
 * generator at the same --rate. Reported for each: RTO (fault → first write acknowledged by the other node) and
 * acknowledged writes missing from the final primary.
 *
 * 1. Patroni at its tightest settings. Patroni's docs ("Dynamic Configuration Settings"): ttl "minimum possible
 *    value: 20", loop_wait "minimum possible value: 1", retry_timeout "minimum possible value: 3", and the rule
 *    loop_wait + 2 × retry_timeout ≤ ttl. Here ttl 20, loop_wait 1, retry_timeout 9 (retry_timeout only bounds how
 *    long the leader tolerates a slow DCS; it does not delay a failover of a dead leader).
 * 2. Cutover's default drill (`cutover drill --scenario region-outage`: the example compressed, lease ttl 4 s).
 * 3. Cutover at Patroni's lease TTL: `cutover drill --config bench/peer-ttl20.json` (lease ttl 20 s, renew 2 s,
 *    time scale 1), behind the drill's usual compressed Route 53 edge (Patroni's clients find the leader by polling
 *    its REST API, not through DNS).
 *
 * Patroni's writer: a small HTTP app that answers the load generator's POST /orders by inserting into the leader,
 * which it finds as HAProxy does in Patroni's own examples (GET /primary on each node's REST API: 200 only on the
 * leader), every 250 ms (the haproxy.cfg in Patroni's repository checks with `inter 3s fall 3 rise 2`: this favours
 * Patroni). An acknowledgement is a
 * committed INSERT; after the run every acknowledged id is looked up in the new leader.
 *
 * Cleanup ends only what this script started: each daemon is spawned as its own process group, whose id is kept
 * and signalled; the postmasters (started by Patroni) by the pid in their own data directory's postmaster.pid; all
 * data lives under one mkdtemp directory, removed at the end. When patroni or etcd is missing the script installs
 * them with apt-get (as root); if that fails it says so, still runs the Cutover side, and exits 1.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { parseJsonl } from '../infra/local/drill/report.js';
import { type DrillReport, runDrill } from '../infra/local/drill/run.js';
import { DEFAULT_RATE } from '../infra/local/drill/stack.js';
import { TIME_SCALE } from '../infra/local/drill-config.js';
import { freePort } from '../infra/local/dynamodb-local.js';
import { type AckedWrite, startLoadGenerator } from '../infra/local/load-generator.js';

const { values } = parseArgs({
  options: { rate: { type: 'string' }, only: { type: 'string' } },
  strict: true,
});
/** `--only patroni` or `--only cutover`: one side alone (to debug it); the comparison needs both. */
const only = values.only;
if (only !== undefined && only !== 'patroni' && only !== 'cutover') {
  process.stderr.write(`--only must be patroni or cutover, got ${only}\n`);
  process.exit(2);
}
const rate = values.rate === undefined ? DEFAULT_RATE : Number(values.rate);
if (!(rate > 0)) {
  process.stderr.write(`--rate must be a number of writes a second > 0, got ${values.rate}\n`);
  process.exit(2);
}

const PG_BIN = '/usr/lib/postgresql/15/bin';
const PATRONI = { ttl: 20, loop_wait: 1, retry_timeout: 9 };
const HOST = '127.0.0.1';
const PATRONI_SCOPE = 'cutover-peer-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isRoot = process.getuid?.() === 0;

interface Row {
  run: string;
  lease_ttl_s: number;
  rto_ms: number | null;
  lost_acked_writes: number | null;
  acked_writes: number | null;
  acked_per_s: number | null;
  /**
   * How long the old primary's lease still had to run at the fault: Patroni's leader key deleted by etcd (its
   * lease revoked), Cutover's old lease's expiresAt. The fault's phase against the last renewal decides it, and it
   * is the same for everyone at a given phase: what follows it is each system's own time.
   */
  lease_left_ms: number | null;
  note: string;
}

/** The RTO minus the lease left at the fault: the time each system takes once the old lease is over. */
const afterLease = (r: Row): number | null =>
  r.rto_ms === null || r.lease_left_ms === null ? null : r.rto_ms - r.lease_left_ms;

// ---------------------------------------------------------------------------------------------------------------
// Processes this script started, and nothing else.
const groups = new Set<number>();
const postmasterDirs: string[] = [];
let workDir = '';

/** Output of each daemon this script started, kept in memory and shown when its run fails. */
const logs = new Map<string, Buffer[]>();

function start(cmd: string, args: string[], name: string, asPostgres: boolean): ChildProcess {
  const [file, argv] =
    asPostgres && isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) groups.add(child.pid);
  const chunks: Buffer[] = [];
  logs.set(name, chunks);
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  child.stderr?.on('data', (c: Buffer) => chunks.push(c));
  return child;
}

function logTails(): string {
  return [...logs]
    .map(
      ([name, chunks]) =>
        `--- ${name} (last lines)\n${Buffer.concat(chunks).toString('utf8').split('\n').slice(-15).join('\n')}`,
    )
    .join('\n');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Synchronous backstop on any exit (a crash included): SIGKILL to every group and postmaster this script started. */
function killAllNow(): void {
  for (const pid of groups) signalGroup(pid, 'SIGKILL');
  for (const dir of postmasterDirs) {
    const pid = postmasterPid(dir);
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
process.on('exit', killAllNow);

async function cleanup(): Promise<void> {
  for (const pid of groups) signalGroup(pid, 'SIGTERM');
  await sleep(1_500);
  killAllNow();
  groups.clear();
  postmasterDirs.length = 0;
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
function which(cmd: string): boolean {
  try {
    execFileSync('which', [cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** patroni and etcd on the PATH, installing Debian's packages when missing. Returns why not, or null. */
function ensurePatroni(): string | null {
  if (which('patroni') && which('etcd')) return null;
  if (!isRoot) return 'patroni or etcd is missing and this is not root: apt-get install patroni etcd-server';
  process.stderr.write('installing Debian packages patroni and etcd-server with apt-get...\n');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'patroni', 'etcd-server'], {
      stdio: 'ignore',
      env,
    });
  } catch (err) {
    return `apt-get could not install patroni and etcd-server: ${(err as Error).message}`;
  }
  return which('patroni') && which('etcd')
    ? null
    : 'apt-get ran, but patroni or etcd is still not on the PATH';
}

async function get(url: string, timeoutMs = 500): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

async function until(what: string, timeoutMs: number, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

interface PatroniNode {
  name: string;
  api: string;
  pgPort: number;
  dataDir: string;
  proc: ChildProcess;
}

async function startPatroniNode(name: string, etcdPort: number): Promise<PatroniNode> {
  const dir = join(workDir, name);
  mkdirSync(dir, { recursive: true });
  const apiPort = await freePort();
  const pgPort = await freePort();
  const dataDir = join(dir, 'data');
  const config = {
    scope: PATRONI_SCOPE,
    name,
    restapi: { listen: `${HOST}:${apiPort}`, connect_address: `${HOST}:${apiPort}` },
    etcd3: { hosts: `${HOST}:${etcdPort}` },
    watchdog: { mode: 'off' },
    bootstrap: {
      dcs: {
        ...PATRONI,
        maximum_lag_on_failover: 1_048_576,
        postgresql: { use_pg_rewind: false, use_slots: true },
      },
      initdb: [{ encoding: 'UTF8' }],
      pg_hba: [
        'local all all trust',
        `host all all ${HOST}/32 trust`,
        `host replication all ${HOST}/32 trust`,
      ],
    },
    postgresql: {
      listen: `${HOST}:${pgPort}`,
      connect_address: `${HOST}:${pgPort}`,
      data_dir: dataDir,
      bin_dir: PG_BIN,
      pgpass: join(dir, 'pgpass'),
      authentication: { superuser: { username: 'postgres' }, replication: { username: 'postgres' } },
      // As the drill's clusters (infra/local/postgres.ts): small, and fsync off (a kill, not a power loss).
      parameters: {
        unix_socket_directories: dir,
        fsync: 'off',
        full_page_writes: 'off',
        shared_buffers: '16MB',
        max_connections: 40,
      },
    },
  };
  // JSON is YAML: Patroni reads it as its configuration file.
  const file = join(dir, 'patroni.yml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  if (isRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  postmasterDirs.push(dataDir);
  const proc = start('patroni', [file], name, true);
  return { name, api: `http://${HOST}:${apiPort}`, pgPort, dataDir, proc };
}

/**
 * The writer in front of Patroni: POST /orders inserts into the node whose REST API answers GET /primary with 200
 * (polled every 250 ms), and answers 201 {id, region, epoch: timeline} once committed.
 */
async function startPatroniWriter(nodes: PatroniNode[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const pools = new Map(
    nodes.map((n) => [
      n.name,
      new pg.Pool({
        connectionString: `postgres://postgres@${HOST}:${n.pgPort}/postgres`,
        max: 8,
        connectionTimeoutMillis: 1_000,
      }),
    ]),
  );
  for (const p of pools.values()) {
    p.on('error', () => {});
    p.on('connect', (c) => c.on('error', () => {}));
  }
  let leader: { name: string; timeline: number } | null = null;
  let polling = true;
  const poll = async () => {
    while (polling) {
      const answers = await Promise.all(
        nodes.map((n) =>
          get(`${n.api}/primary`, 200)
            .then((r) => (r.status === 200 ? { name: n.name, timeline: Number(r.body.timeline ?? 0) } : null))
            .catch(() => null),
        ),
      );
      leader = answers.find((a) => a !== null) ?? null;
      await sleep(250);
    }
  };
  const poller = poll();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const reply = (status: number, body: Record<string, unknown>) => {
        const text = JSON.stringify(body);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (typeof body.region === 'string') headers['x-cutover-region'] = body.region;
        res.writeHead(status, headers);
        res.end(text);
      };
      let id: string;
      try {
        id = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown }).id);
      } catch {
        reply(400, { code: 'BAD_REQUEST' });
        return;
      }
      const target = leader;
      if (!target) {
        reply(503, { code: 'NO_LEADER' });
        return;
      }
      try {
        await pools.get(target.name)!.query({
          text: 'INSERT INTO orders (id, epoch, region) VALUES ($1, $2, $3)',
          values: [id, target.timeline, target.name],
          query_timeout: 2_000,
        } as pg.QueryConfig);
        reply(201, { id, region: target.name, epoch: target.timeline });
      } catch (err) {
        reply(503, { code: 'WRITE_FAILED', region: target.name, reason: (err as Error).message });
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${HOST}:${port}`,
    stop: async () => {
      polling = false;
      await poller;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...pools.values()].map((p) => p.end().catch(() => {})));
    },
  };
}

/**
 * Watches Patroni's leader key through etcd's JSON gateway (`POST /v3/watch`, newline-delimited JSON messages;
 * etcd 3.4 docs, "gRPC gateway") and keeps the time of each DELETE: with the leader SIGKILLed nobody deletes the
 * key, so the first one after the fault is etcd revoking the key's lease once its TTL ran out (etcd looks for
 * expired leases on its own schedule, so that time may be a little after the TTL: in Patroni's favour here).
 */
async function watchLeaderKey(
  etcdPort: number,
  key: string,
): Promise<{ deletedAfter(t: number): number | null; stop(): void }> {
  const ac = new AbortController();
  const deletions: number[] = [];
  const res = await fetch(`http://${HOST}:${etcdPort}/v3/watch`, {
    method: 'POST',
    body: JSON.stringify({ create_request: { key: Buffer.from(key).toString('base64') } }),
    signal: ac.signal,
  });
  if (!res.ok || !res.body) throw new Error(`etcd watch of ${key}: HTTP ${res.status}`);
  const body = res.body;
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of body) {
      buf += decoder.decode(chunk, { stream: true });
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { result?: { events?: { type?: string }[] } };
        if (msg.result?.events?.some((e) => e.type === 'DELETE')) deletions.push(Date.now());
      }
    }
  })().catch(() => {});
  return { deletedAfter: (t) => deletions.find((at) => at >= t) ?? null, stop: () => ac.abort() };
}

async function patroniRun(): Promise<Row> {
  workDir = mkdtempSync(join(tmpdir(), 'cutover-peer-'));
  chmodSync(workDir, 0o755);
  const etcdPort = await freePort();
  const etcdPeer = await freePort();
  const etcdDir = join(workDir, 'etcd');
  start(
    'etcd',
    [
      '--name=peerbench',
      `--data-dir=${etcdDir}`,
      `--listen-client-urls=http://${HOST}:${etcdPort}`,
      `--advertise-client-urls=http://${HOST}:${etcdPort}`,
      `--listen-peer-urls=http://${HOST}:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://${HOST}:${etcdPeer}`,
      `--initial-cluster=peerbench=http://${HOST}:${etcdPeer}`,
    ],
    'etcd',
    false,
  );
  await until('etcd', 30_000, async () => (await get(`http://${HOST}:${etcdPort}/health`)).status === 200);
  const a = await startPatroniNode('node1', etcdPort);
  await until('node1 to lead', 90_000, async () => (await get(`${a.api}/primary`)).status === 200);
  const b = await startPatroniNode('node2', etcdPort);
  await until('node2 to stream from node1', 120_000, async () => {
    const r = await get(`${b.api}/replica`);
    return r.status === 200 && r.body.state === 'running';
  });
  {
    const c = new pg.Client({ connectionString: `postgres://postgres@${HOST}:${a.pgPort}/postgres` });
    await c.connect();
    await c.query(
      'CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, epoch bigint NOT NULL, region text)',
    );
    await c.end();
  }
  const writer = await startPatroniWriter([a, b]);
  await until('the writer to find the leader', 10_000, async () => {
    const r = await fetch(`${writer.url}/orders`, {
      method: 'POST',
      body: JSON.stringify({ id: `probe-${Date.now()}` }),
    });
    return r.status === 201;
  });
  const startedAt = Date.now();
  const load = startLoadGenerator({ url: writer.url, rate, idPrefix: `patroni-${process.pid}` });
  const leaderKey = await watchLeaderKey(etcdPort, `/service/${PATRONI_SCOPE}/leader`);
  await sleep(5_000);
  // The fault: node1's whole node dies: Patroni's daemon (its process group) and its postmaster, SIGKILLed.
  const faultAt = Date.now();
  signalGroup(a.proc.pid!, 'SIGKILL');
  const pm = postmasterPid(a.dataDir);
  if (pm) process.kill(pm, 'SIGKILL');
  const gaveUp = Date.now() + 90_000;
  while (Date.now() < gaveUp && !load.acked().some((w) => w.region === 'node2' && w.at >= faultAt))
    await sleep(50);
  await sleep(2_000);
  // The first deletion after the fault: one before it (a leader change at start-up) is not this lease running out.
  const deletedAt = leaderKey.deletedAfter(faultAt);
  leaderKey.stop();
  const report = await load.stop();
  await writer.stop();
  const c = new pg.Client({ connectionString: `postgres://postgres@${HOST}:${b.pgPort}/postgres` });
  await c.connect();
  const present = new Set((await c.query<{ id: string }>('SELECT id FROM orders')).rows.map((r) => r.id));
  await c.end();
  const acked: AckedWrite[] = report.acked;
  const first = acked.find((w) => w.region === 'node2' && w.at >= faultAt);
  return {
    run: `Patroni ${PATRONI.ttl}/${PATRONI.loop_wait}/${PATRONI.retry_timeout} (ttl/loop_wait/retry_timeout)`,
    lease_ttl_s: PATRONI.ttl,
    rto_ms: first ? first.at - faultAt : null,
    lost_acked_writes: acked.filter((w) => !present.has(w.id)).length,
    acked_writes: acked.length,
    acked_per_s: beforeFaultRate(acked, startedAt, faultAt),
    lease_left_ms: deletedAt === null ? null : deletedAt - faultAt,
    note: first ? '' : 'no write acknowledged by node2 within 90 s',
  };
}

/** Acknowledged writes a second from the clients' start to the fault: the steady load each side carried. */
function beforeFaultRate(acked: readonly AckedWrite[], startedAt: number, faultAt: number): number {
  const n = acked.filter((w) => w.at < faultAt).length;
  return Math.round((n / ((faultAt - startedAt) / 1_000)) * 10) / 10;
}

function cutoverRow(run: string, r: DrillReport, timelineFile: string): Row {
  // The fence revokes the old lease and keeps its expiresAt: the instant the old primary's lease ran out.
  const events = parseJsonl<{ type: string; at: number; expiresAt?: number }>(
    readFileSync(timelineFile, 'utf8'),
  );
  const fault = events.find((e) => e.type === 'fault_injected');
  const revoked = events.find((e) => e.type === 'lease_revoked' && fault && e.at >= fault.at);
  return {
    lease_left_ms: fault && revoked?.expiresAt !== undefined ? revoked.expiresAt - fault.at : null,
    run,
    lease_ttl_s: r.config.lease.ttlMs / 1_000,
    rto_ms: r.rto_ms,
    lost_acked_writes: r.lost_acked_writes,
    acked_writes: r.acked_writes,
    acked_per_s: r.write_rate.before_fault_per_s,
    note: `${r.verdict}${r.reasons.length ? `: ${r.reasons.join('; ')}` : ''}; fence ${r.steps.fence_ms ?? '—'} ms, promote ${r.steps.promote_ms ?? '—'} ms, traffic ${r.steps.traffic_ms ?? '—'} ms`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
const rows: Row[] = [];
let patroniProblem = ensurePatroni();
const onSignal = () => {
  void cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

if (!patroniProblem && only !== 'cutover') {
  process.stderr.write(`Patroni: two nodes, etcd, ${rate} writes/s, node1 SIGKILLed...\n`);
  try {
    rows.push(await patroniRun());
  } catch (err) {
    patroniProblem = `the Patroni run failed: ${(err as Error).message}`;
    process.stderr.write(`${patroniProblem}\n${logTails()}\n`);
  } finally {
    await cleanup();
  }
}
if (only !== 'patroni') {
  process.stderr.write(
    `Cutover: region-outage, the default drill (lease ttl 4 s, ÷ ${TIME_SCALE}), ${rate} writes/s...\n`,
  );
  rows.push(
    cutoverRow(
      `Cutover default drill (÷ ${TIME_SCALE})`,
      await runDrill({ scenario: 'region-outage', seed: 1, rate, out: 'drill-out/peer-default' }),
      'drill-out/peer-default/timeline.jsonl',
    ),
  );
  const file = 'bench/peer-ttl20.json';
  process.stderr.write(`Cutover: region-outage with --config ${file} (lease ttl 20 s, time scale 1)...\n`);
  rows.push(
    cutoverRow(
      `Cutover --config ${file} (scale 1, edge ÷ ${TIME_SCALE})`,
      await runDrill({
        scenario: 'region-outage',
        seed: 1,
        rate,
        out: 'drill-out/peer-ttl20',
        config: { input: JSON.parse(readFileSync(file, 'utf8')), source: file },
        timeScale: 1,
        edgeTimeScale: TIME_SCALE,
      }),
      'drill-out/peer-ttl20/timeline.jsonl',
    ),
  );
}

const v = (n: number | null) => (n === null ? '—' : String(n));
console.log(`\nSame machine, same fault (the primary's node SIGKILLed), ${rate} writes/s asked of each\n`);
console.log(
  '| run | lease TTL s | RTO ms | lease left at the fault ms | after the lease ms | lost acked | acked | acked/s before the fault | notes |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.run} | ${r.lease_ttl_s} | ${v(r.rto_ms)} | ${v(r.lease_left_ms)} | ${v(afterLease(r))} | ${v(r.lost_acked_writes)} | ${v(r.acked_writes)} | ${v(r.acked_per_s)} | ${r.note} |`,
  );
}
console.log(
  "\n'after the lease' includes, for Cutover, its clock-skew margin (lease.maxSkewMs): the fence waits out the old lease plus the skew, as the design requires for clocks up to maxSkew apart; Patroni trusts etcd's one clock and waits for none.",
);
const patroni = rows.find((r) => r.run.startsWith('Patroni'));
const find = (prefix: string) => rows.find((r) => r.run.startsWith(prefix));
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a && b ? `${(a / b).toFixed(2)}x` : '—';
console.log(
  `\nPatroni RTO / Cutover default drill RTO: ${ratio(patroni?.rto_ms, find('Cutover default')?.rto_ms)}  (> 1: Cutover is faster)`,
);
const equal = find('Cutover --config');
console.log(
  `Patroni RTO / Cutover at equal lease TTL (20 s): ${ratio(patroni?.rto_ms, equal?.rto_ms)}  (this run's fault phases: lease left ${v(patroni?.lease_left_ms ?? null)} ms for Patroni, ${v(equal?.lease_left_ms ?? null)} ms for Cutover)`,
);
// The same phase for both: each RTO as if the fault had come just after the last renewal (the whole TTL left),
// which removes the one part that the instant of the kill decides, not the system.
const samePhase = (r: Row | undefined) => {
  const a = r ? afterLease(r) : null;
  return a === null || !r ? null : r.lease_ttl_s * 1_000 + a;
};
console.log(
  `Patroni / Cutover at equal lease TTL, at the same fault phase (TTL + after the lease): ${v(samePhase(patroni))} / ${v(samePhase(equal))} ms = ${ratio(samePhase(patroni), samePhase(equal))}`,
);
if (patroniProblem) {
  process.stderr.write(`\nPatroni side NOT measured: ${patroniProblem}\n`);
  process.exit(1);
}
process.exit(0);
