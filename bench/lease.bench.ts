/**
 * Lease benchmark (a plain script, not a timed test): `npx tsx bench/lease.bench.ts`.
 * 1. LeaseGuard.check() once warm, against the same call without a guard: the cost a write pays.
 * 2. renew() latency on DynamoDB Local (one conditional UpdateItem), as percentiles.
 */
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import type { LeaseTiming } from '#core/lease.js';
import { systemClock } from '#core/ports.js';
import { LeaseGuard } from '#guard/lease-guard.js';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.js';
import { createTables, localClients } from '../infra/local/tables.js';

const timing: LeaseTiming = { ttlMs: 30_000, renewIntervalMs: 10_000, maxSkewMs: 1_000, safetyMarginMs: 500 };
const CHECKS = Number(process.env.BENCH_CHECKS ?? 2_000_000);
const RENEWS = Number(process.env.BENCH_RENEWS ?? 1_000);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (n: number, digits = 1) => n.toFixed(digits);

const ddb = await startDynamoDbLocal({ heapMb: 256 });
try {
  const { raw, doc } = localClients(ddb.endpoint);
  const names = { votes: 'bench-votes', control: 'bench-control' };
  await createTables(raw, names);
  const store = new DynamoLeaseStore(doc, names.control, timing, systemClock);
  const acquired = await store.acquire('bench', 'us-east-1', null);
  if (!acquired.ok) throw new Error('could not acquire the lease');

  // 1. check() warm vs unguarded. The "write" is the same trivial body in both loops, so the difference is
  // the guard. Each loop runs twice; the second pass is measured (JIT warm).
  const guard = new LeaseGuard({ store, application: 'bench', region: 'us-east-1', timing });
  await guard.start();
  let sink = 0;
  const write = (epoch: number) => {
    sink = (sink + epoch) | 0;
  };
  const unguarded = () => {
    const t = performance.now();
    for (let i = 0; i < CHECKS; i++) write(1);
    return performance.now() - t;
  };
  const guarded = () => {
    const t = performance.now();
    for (let i = 0; i < CHECKS; i++) {
      const d = guard.check();
      if (d.allowed) write(d.epoch);
    }
    return performance.now() - t;
  };
  unguarded();
  guarded();
  const plainMs = unguarded();
  const guardMs = guarded();
  guard.stop();
  const nsPlain = (plainMs * 1e6) / CHECKS;
  const nsGuard = (guardMs * 1e6) / CHECKS;

  // 2. renew latency, sequential (the heartbeat renews one at a time), after a short warm-up.
  for (let i = 0; i < 50; i++) await store.renew('bench', 'us-east-1', acquired.lease.epoch);
  const lat: number[] = [];
  for (let i = 0; i < RENEWS; i++) {
    const t = performance.now();
    const r = await store.renew('bench', 'us-east-1', acquired.lease.epoch);
    lat.push(performance.now() - t);
    if (!r.ok) throw new Error(`renew refused: ${r.code}`);
  }
  lat.sort((a, b) => a - b);
  const p50 = pct(lat, 50);

  console.log(
    `check() warm:  ${fmt(nsGuard)} ns/call over ${CHECKS} calls (unguarded call ${fmt(nsPlain, 2)} ns)`,
  );
  console.log(
    `  guard overhead: ${fmt(nsGuard - nsPlain)} ns/write; guarded/unguarded ratio ${fmt(nsGuard / nsPlain)}×`,
  );
  console.log(
    `renew on DynamoDB Local (${RENEWS} sequential): p50 ${fmt(p50, 2)} ms, p90 ${fmt(pct(lat, 90), 2)} ms, p99 ${fmt(pct(lat, 99), 2)} ms, max ${fmt(lat.at(-1) ?? NaN, 2)} ms`,
  );
  console.log(
    `  one renew costs as much as ${Math.round((p50 * 1e6) / nsGuard).toLocaleString('en')} warm check() calls`,
  );
  if (sink === 42) console.log(''); // keeps the loops from being optimised away
} finally {
  await ddb.stop();
}
