/**
 * The aggregator's throughput on one core: 50 watchers' votes written to DynamoDB Local at a steady offered
 * rate; this process stands in for Lambda's event source mapping (infra/local/stream-poller.ts reads the stream,
 * batches of 100 as the CDK app configures) and invokes the aggregator, the real aggregate() in its own process
 * pinned to one core with taskset (bench/aggregator-worker.ts), one batch at a time as Lambda does per shard.
 * Two phases. Capacity: a backlog of votes is written first, then the aggregator drains it as fast as it can
 * (votes per second it sustains, with the writer out of the way). Latency: votes written at a steady offered
 * rate, and the time from each vote's PutItem to the decision that counted it (p50, p99).
 * Run: npm run bench:aggregator -- [backlog=10000] [seconds=10] [offered votes/s=500]. Prints a JSON summary.
 * BATCH_SIZE=N (default 1000, the CDK app's) tries another event source mapping batch size: one decision per batch.
 * Numbers are from one machine; on a shared one, compare the CPU figure (votes per CPU second of the aggregator).
 */
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { systemClock } from '#core/ports.js';
import type { Vote } from '#core/vote.js';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.js';
import { StreamPoller } from '../infra/local/stream-poller.js';
import { createTables, localClients } from '../infra/local/tables.js';
import { benchConfig, TABLES, type WorkerAnswer } from './aggregator-setup.js';

const GOAL_VOTES_PER_SECOND = 2_000;
const WATCHERS = 50;
/** Writes in flight at most; the offered rate is what the writer aims for, the achieved one is reported. */
const MAX_IN_FLIGHT = 128;

const backlog = Number(process.argv[2] ?? 10_000);
const batchSize = Number(process.env.BATCH_SIZE ?? 1000);
const seconds = Number(process.argv[3] ?? 10);
const offered = Number(process.argv[4] ?? 500);
if (!(backlog > 0) || !(seconds > 0) || !(offered > 0) || !(batchSize >= 1 && batchSize <= 1000))
  throw new Error(
    'usage: [BATCH_SIZE=1..1000] npm run bench:aggregator -- [backlog>0] [seconds>0] [votes/s>0]',
  );

// Core 0 for the aggregator alone; this process (the writer) and DynamoDB Local (a child, so it inherits) on
// the others. Without taskset, or on one core, nothing is pinned and the summary says so.
const cores = availableParallelism();
const taskset = spawnSync('taskset', ['--version']).status === 0;
const pinned = taskset && cores > 1;
if (pinned) spawnSync('taskset', ['-a', '-p', '-c', `1-${cores - 1}`, String(process.pid)]);

const ddb = await startDynamoDbLocal({ heapMb: 512 });
// However this script ends (an error thrown anywhere below included), DynamoDB Local ends with it.
process.once('exit', () => ddb.kill());
const { raw, doc } = localClients(ddb.endpoint);
await createTables(raw, TABLES);
const config = benchConfig(WATCHERS);
const app = config.application;
const targets = [config.primary.region, config.standby.region];
const votes = new DynamoVoteStore(doc, TABLES.votes, config.watchers);
const leases = new DynamoLeaseStore(doc, TABLES.control, config.lease, systemClock);
const granted = await leases.acquire(app, config.primary.region, null);
if (!granted.ok) throw new Error(`could not take the lease: ${granted.code}`);
// The primary's keeper: a healthy primary that holds its lease, so every decision takes the full path.
const keeper = setInterval(() => {
  void leases.renew(app, config.primary.region, granted.lease.epoch);
}, config.lease.renewIntervalMs);

const seq = new Map<string, number>();
const streakSince = Date.now();
function vote(voter: string, target: string): Vote {
  const key = `${voter}|${target}`;
  const next = (seq.get(key) ?? 0) + 1;
  seq.set(key, next);
  const now = Date.now();
  return {
    application: app,
    target,
    voter,
    healthy: true,
    consecutiveFailures: 0,
    consecutiveSuccesses: next,
    observedAt: now,
    streakSince,
    seq: next,
    latencyMs: 3,
    detail: 'status 200',
    expiresAt: Math.floor(now / 1000) + 3600,
  };
}
// One vote of every watcher about both regions before the clock starts.
await Promise.all(config.watchers.flatMap((w) => targets.map((t) => votes.put(vote(w, t)))));

const worker = spawn(
  pinned ? 'taskset' : process.execPath,
  [
    ...(pinned ? ['-c', '0', process.execPath] : []),
    '--import',
    'tsx',
    fileURLToPath(new URL('./aggregator-worker.ts', import.meta.url)),
    ddb.endpoint,
    String(WATCHERS),
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const lines = createInterface({ input: worker.stdout! })[Symbol.asyncIterator]();
const first = await lines.next();
if (first.value !== 'ready') throw new Error(`the aggregator process did not start: ${first.value}`);
/** The aggregator process's CPU time so far (ms); asked between batches, never during one. */
async function cpuOfWorker(): Promise<number> {
  worker.stdin!.write('cpu\n');
  return (JSON.parse(String((await lines.next()).value)) as { cpuMs: number }).cpuMs;
}

/** PutItem time of every vote written after the seed, by voter|target|seq. */
const sentAt = new Map<string, number>();
/** [voter|target|seq, decided at] for every such vote the aggregator counted (the seed's are left out). */
const decided: [string, number][] = [];
const codes: Record<string, number> = {};
let batches = 0;
let busyMs = 0;
let batchItemFailures = 0;
const s = (v: unknown) => (v as { S?: string } | undefined)?.S;
const n = (v: unknown) => (v as { N?: string } | undefined)?.N;
const poller = new StreamPoller({
  endpoint: ddb.endpoint,
  tableName: TABLES.votes,
  client: raw,
  from: 'TRIM_HORIZON',
  // As the CDK app's event source mapping (infra/stacks/control-stack.ts: batchSize 1000, no batching window);
  // idle, Lambda polls a shard 4 times a second (Lambda developer guide, "Using Lambda with DynamoDB").
  batchSize,
  pollIntervalMs: 250,
  handler: async (records) => {
    worker.stdin!.write(`${JSON.stringify({ Records: records })}\n`);
    const reply = await lines.next();
    const answer = JSON.parse(String(reply.value)) as WorkerAnswer;
    batches++;
    busyMs += answer.busyMs;
    batchItemFailures += answer.batchItemFailures.length;
    for (const c of answer.codes) codes[c] = (codes[c] ?? 0) + 1;
    const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
    for (const r of records) {
      if (failed.has(r.dynamodb?.SequenceNumber ?? '')) continue;
      const img = r.dynamodb?.NewImage;
      const key = `${s(img?.voter)}|${s(img?.target)}|${n(img?.seq)}`;
      if (sentAt.has(key)) decided.push([key, answer.decidedAt]);
    }
    return { batchItemFailures: answer.batchItemFailures };
  },
  onError: (err) => process.stderr.write(`stream: ${String(err)}\n`),
});

const writes = { inFlight: 0, written: 0, superseded: 0, failed: 0 };
let slot = 0;
function writeOne(): void {
  const w = config.watchers[slot % WATCHERS]!;
  const t = targets[Math.floor(slot / WATCHERS) % 2]!;
  slot++;
  const v = vote(w, t);
  writes.inFlight++;
  sentAt.set(`${w}|${t}|${v.seq}`, Date.now());
  votes.put(v).then(
    (r) => {
      writes.inFlight--;
      if (r === 'written') writes.written++;
      else writes.superseded++;
    },
    () => {
      writes.inFlight--;
      writes.failed++;
    },
  );
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function settled(): Promise<void> {
  while (writes.inFlight > 0) await sleep(5);
}
async function drained(count: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (decided.length < count && Date.now() < until) await sleep(5);
}

// Capacity: the backlog first, then the aggregator starts on it (the stream from its oldest record).
for (let i = 0; i < backlog; i++) {
  while (writes.inFlight >= MAX_IN_FLIGHT) await sleep(1);
  writeOne();
}
await settled();
const backlogWritten = writes.written;
const cpuBefore = await cpuOfWorker();
const drainStarted = Date.now();
await poller.start();
await drained(backlogWritten, 120_000);
const drainMs = Date.now() - drainStarted;
const drainCpuMs = (await cpuOfWorker()) - cpuBefore;
const capacityDecided = decided.length;

// Latency: a steady offered rate, ticks of 10 ms.
const latencyFrom = decided.length;
const loadStarted = Date.now();
while (Date.now() - loadStarted < seconds * 1000) {
  const due = Math.floor(((Date.now() - loadStarted) / 1000) * offered) - (slot - backlog);
  for (let i = 0; i < due && writes.inFlight < MAX_IN_FLIGHT; i++) writeOne();
  await sleep(10);
}
const loadMs = Date.now() - loadStarted;
await settled();
const loadWritten = writes.written - backlogWritten;
await drained(backlogWritten + loadWritten, 30_000);
await poller.stop();
worker.stdin!.end();
clearInterval(keeper);
raw.destroy();
await ddb.stop();

const latencies = decided
  .slice(latencyFrom)
  .map(([key, at]) => at - (sentAt.get(key) ?? Number.NaN))
  .filter((ms) => Number.isFinite(ms))
  .sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? null;
const capacity = capacityDecided / (drainMs / 1000);
const summary = {
  watchers: WATCHERS,
  pinned: pinned
    ? `aggregator: taskset -c 0; writer, stream poller and DynamoDB Local: taskset -c 1-${cores - 1}`
    : 'not pinned',
  capacity: {
    backlog_votes: backlogWritten,
    decided_votes: capacityDecided,
    drain_ms: drainMs,
    sustained_votes_per_s: Math.round(capacity),
    votes_per_aggregator_cpu_second: Math.round(capacityDecided / (drainCpuMs / 1000)),
    aggregator_cpu_share: Number((drainCpuMs / drainMs).toFixed(2)),
  },
  latency: {
    offered_votes_per_s: offered,
    written_votes_per_s: Math.round(loadWritten / (loadMs / 1000)),
    decided_votes: latencies.length,
    decision_latency_ms: { p50: pct(50), p99: pct(99), max: latencies.at(-1) ?? null },
  },
  batch_size: batchSize,
  batches,
  mean_batch: Number((decided.length / Math.max(batches, 1)).toFixed(1)),
  mean_batch_ms: Number((busyMs / Math.max(batches, 1)).toFixed(1)),
  batch_item_failures: batchItemFailures,
  failed_writes: writes.failed,
  missing_votes: writes.written - decided.length,
  verdicts: codes,
  goal_votes_per_s: GOAL_VOTES_PER_SECOND,
  goal_met: capacity >= GOAL_VOTES_PER_SECOND && writes.written === decided.length,
};
console.log(JSON.stringify(summary, null, 2));
