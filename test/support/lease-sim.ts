import { ConditionalCheckFailedException, ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { type Fenced, type FencePlan, planFence, revoked } from '#core/fence.js';
import { grantOutcome } from '#core/grant.js';
import { planHeartbeat } from '#core/heartbeat.js';
import type { Lease, LeaseTiming } from '#core/lease.js';
import type { Clock } from '#core/ports.js';
import { LeaseGuard, type Timers } from '#guard/lease-guard.js';

/**
 * The lease simulation runs the real code on a simulated timeline: the real DynamoLeaseStore, whose document
 * client is a network to an in-memory authority that interprets the exact commands the store sends with
 * DynamoDB's conditional-write semantics; the real LeaseGuard with its clock and timers injected; the real
 * planHeartbeat as the keeper's plan (in the application's process, or in overlapping scheduled Lambda runs); and
 * the failover's real fence plan (planFence, revoked, safeToTakeAt) and grant decision (grantOutcome).
 *
 * Every component has its own clock, each within ±maxSkew of real time (drift, and jumps within the bound), so two
 * clocks can be up to 2 × maxSkew apart: then the design leaves exactly safetyMarginMs between the old holder's last
 * allowed write and the grant, and anything that eats into the margin shows. Requests are delayed, lost (before or
 * after they are applied), delivered twice and refused with ReplicatedWriteConflictException; processes pause;
 * scheduled starts are missed. Schedules are biased toward the dangerous windows: a holder cut off from the
 * authority with the slowest clock, a failover with the fastest clock granting the instant its wait ends.
 *
 * Properties, on the real timeline:
 *   I1: at no instant do the guards of two regions both allow a write;
 *   I2: no write under epoch e lands after a lease with a higher epoch was granted; and with the margin: every
 *       window in which a guard allowed writes under epoch e ends at least safetyMarginMs before any later grant;
 *   LIVENESS (liveness schedules: a healthy holder that reaches the authority within the fault budget of two
 *       failed renewals in a row): once the holder's guard first allows writes, it never refuses one.
 */

export type Mutant =
  // Shipped with the first simulation.
  | 'noSkewMargin'
  | 'unconditionalRenew'
  | 'slowUnfencedWrites'
  // Issue 11's subtle ones.
  | 'holderIgnoresMargin'
  | 'holderHalfSkew'
  | 'takerNoSkew'
  | 'slowFencedWrites'
  // Liveness: the keeper gives up on a renewal after one failed attempt; a scheduled run covers no missed start.
  | 'keeperNoRetry'
  | 'shortScheduledRun';

export const MUTANTS: readonly Mutant[] = [
  'noSkewMargin',
  'unconditionalRenew',
  'slowUnfencedWrites',
  'holderIgnoresMargin',
  'holderHalfSkew',
  'takerNoSkew',
  'slowFencedWrites',
  'keeperNoRetry',
  'shortScheduledRun',
];

/** The schedules a mutant can show in: a liveness mutant in liveness schedules, the rest in safety ones. */
export const MUTANT_SCHEDULES: Readonly<Record<Mutant, { family: Family; keeper?: KeeperMode }>> = {
  noSkewMargin: { family: 'safety' },
  unconditionalRenew: { family: 'safety' },
  slowUnfencedWrites: { family: 'safety' },
  holderIgnoresMargin: { family: 'safety' },
  holderHalfSkew: { family: 'safety' },
  takerNoSkew: { family: 'safety' },
  slowFencedWrites: { family: 'safety' },
  keeperNoRetry: { family: 'liveness' },
  shortScheduledRun: { family: 'liveness', keeper: 'scheduled' },
};

export type Family = 'safety' | 'liveness';
export type KeeperMode = 'process' | 'scheduled';

export interface SimTiming extends LeaseTiming {
  retryTimeoutMs: number;
}

export interface SimOptions {
  seed: number;
  mutant?: Mutant;
  /** Fixed by the seed unless given. */
  family?: Family;
  keeper?: KeeperMode;
  /** Keep a log of the schedule's steps (a replay). */
  trace?: boolean;
  /** Fixed by the seed and family unless given (a measurement off the tested path). */
  timing?: SimTiming;
}

export interface Violation {
  property: 'I1' | 'I2' | 'LIVENESS' | 'AUTHORITY';
  at: number;
  detail: string;
}

export interface SimResult {
  seed: number;
  family: Family;
  keeper: KeeperMode;
  timing: SimTiming;
  violations: Violation[];
  stats: {
    grants: number;
    failovers: number;
    renewals: number;
    acceptedWrites: number;
    refusedChecks: number;
    requests: number;
    lostReplies: number;
    duplicates: number;
    missedStarts: number;
    pauses: number;
    /** Real ms between an old holder's last allowed write and the next grant; the smallest seen. */
    minHandoverGapMs: number | null;
  };
  /** Enough to read a failing schedule. */
  trace: {
    offsets: Record<string, number>;
    grants: Grant[];
    windows: Window[];
    log: string[];
  };
}

interface Grant {
  at: number;
  epoch: number;
  region: string;
}

interface Window {
  region: string;
  epoch: number;
  from: number;
  to: number;
}

/** mulberry32: small, fast, and the same sequence on every machine. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
  };
}

/**
 * Scaled-down timings (the arithmetic is scale-free). `roomy` has the shipped proportions; `boundary` has the
 * longest retry timeout the configuration rule renewInterval + 3 × retryTimeout ≤ ttl − maxSkew − margin allows.
 */
export const TIMINGS: Readonly<Record<'roomy' | 'boundary', SimTiming>> = {
  roomy: { ttlMs: 3_000, renewIntervalMs: 1_000, retryTimeoutMs: 200, maxSkewMs: 200, safetyMarginMs: 100 },
  boundary: {
    ttlMs: 3_000,
    renewIntervalMs: 1_000,
    retryTimeoutMs: 566,
    maxSkewMs: 200,
    safetyMarginMs: 100,
  },
};

const APP = 'sim';
const TABLE = 'sim-control';
const REGIONS = ['A', 'B'] as const;
type Region = (typeof REGIONS)[number];
/** One scheduled start every this many renew intervals (60 s against the shipped 10 s). */
const PERIOD_INTERVALS = 6;

/** An expression or command this authority does not model: a failed schedule, never a guess. */
export class UnsupportedCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedCommandError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The authority: one table, the commands DynamoLeaseStore sends, DynamoDB's semantics for them.

type Item = Record<string, string | number>;
type Comparison = { kind: 'compare'; name: string; op: '=' | '<>' | '<' | '<=' | '>' | '>='; value: string };
type Term = { kind: 'exists' | 'not_exists'; name: string } | Comparison;
interface ParsedUpdate {
  set: { name: string; value: string }[];
  remove: string[];
}

const parsedConditions = new Map<string, Term[]>();
const parsedUpdates = new Map<string, ParsedUpdate>();

function parseCondition(expr: string): Term[] {
  const cached = parsedConditions.get(expr);
  if (cached) return cached;
  if (/\b(OR|NOT|BETWEEN|IN)\b|#/.test(expr)) throw new UnsupportedCommandError(`condition: ${expr}`);
  const terms = expr.split(/\s+AND\s+/).map((raw): Term => {
    const term = raw.trim();
    const fn = /^attribute_(not_)?exists\((\w+)\)$/.exec(term);
    if (fn) return { kind: fn[1] ? 'not_exists' : 'exists', name: fn[2] as string };
    const cmp = /^(\w+)\s*(=|<>|<=|>=|<|>)\s*(:\w+)$/.exec(term);
    if (cmp) {
      const op = cmp[2] as Extract<Term, { kind: 'compare' }>['op'];
      return { kind: 'compare', name: cmp[1] as string, op, value: cmp[3] as string };
    }
    throw new UnsupportedCommandError(`condition term: ${term}`);
  });
  parsedConditions.set(expr, terms);
  return terms;
}

function parseUpdate(expr: string): ParsedUpdate {
  const cached = parsedUpdates.get(expr);
  if (cached) return cached;
  const m = /^SET\s+(.+?)(?:\s+REMOVE\s+(.+))?$/.exec(expr.trim());
  if (!m || /#|\bif_not_exists\b|\blist_append\b|[+-]/.test(expr)) {
    throw new UnsupportedCommandError(`update: ${expr}`);
  }
  const set = (m[1] as string).split(',').map((a) => {
    const s = /^\s*(\w+)\s*=\s*(:\w+)\s*$/.exec(a);
    if (!s) throw new UnsupportedCommandError(`update action: ${a}`);
    return { name: s[1] as string, value: s[2] as string };
  });
  const remove = m[2] ? m[2].split(',').map((n) => n.trim()) : [];
  if (remove.some((n) => !/^\w+$/.test(n))) throw new UnsupportedCommandError(`update REMOVE: ${m[2]}`);
  const parsed = { set, remove };
  parsedUpdates.set(expr, parsed);
  return parsed;
}

/** DynamoDB compares only values of one type; a missing attribute or a type mismatch makes the term false. */
function holds(term: Term, item: Item | undefined, values: Record<string, unknown>): boolean {
  const v = item?.[term.name];
  if (term.kind === 'exists') return v !== undefined;
  if (term.kind === 'not_exists') return v === undefined;
  return compare(term as Comparison, v, values[(term as Comparison).value]);
}

function compare(term: Comparison, v: unknown, w: unknown): boolean {
  if (v === undefined || typeof v !== typeof w) return false;
  const a = v as number | string;
  const b = w as number | string;
  switch (term.op) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

/** The low-level (AttributeValue) shape, which the document client leaves untranslated on an error's Item. */
function raw(item: Item): Record<string, { S: string } | { N: string }> {
  return Object.fromEntries(
    Object.entries(item).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: v }]),
  );
}

function validationError(message: string): Error {
  const e = new Error(message);
  e.name = 'ValidationException';
  return e;
}

export class MemoryAuthority {
  private readonly items = new Map<string, Item>();
  /** Called after each applied write with the item before and after. */
  onWrite: (before: Item | undefined, after: Item) => void = () => {};

  /** Applies one command as DynamoDB would, or throws what DynamoDB (or this model's limits) would throw. */
  apply(command: unknown): Record<string, unknown> {
    if (command instanceof GetCommand) return this.get(command.input);
    if (command instanceof UpdateCommand) return this.update(command.input);
    throw new UnsupportedCommandError(`command ${(command as object)?.constructor?.name}`);
  }

  private key(input: { TableName?: string | undefined; Key?: Record<string, unknown> | undefined }): string {
    if (input.TableName !== TABLE) {
      const e = new Error(`Requested resource not found: ${input.TableName}`);
      e.name = 'ResourceNotFoundException';
      throw e;
    }
    const k = input.Key ?? {};
    if (Object.keys(k).length !== 2 || typeof k.pk !== 'string' || typeof k.sk !== 'string') {
      throw validationError('The provided key element does not match the schema');
    }
    return `${k.pk}\u0000${k.sk}`;
  }

  private get(input: GetCommand['input']): Record<string, unknown> {
    const key = this.key(input);
    // MRSC serves strongly consistent reads only when asked; an eventually consistent one is not modelled.
    if (input.ConsistentRead !== true) throw new UnsupportedCommandError('GetItem without ConsistentRead');
    if (input.ProjectionExpression || input.AttributesToGet) throw new UnsupportedCommandError('projection');
    const item = this.items.get(key);
    return item ? { Item: { ...item } } : {};
  }

  private update(input: UpdateCommand['input']): Record<string, unknown> {
    const key = this.key(input);
    if (input.ExpressionAttributeNames) throw new UnsupportedCommandError('ExpressionAttributeNames');
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const update = parseUpdate(input.UpdateExpression ?? '');
    const terms = input.ConditionExpression ? parseCondition(input.ConditionExpression) : [];
    const used = new Set([
      ...update.set.map((s) => s.value),
      ...terms.flatMap((t) => (t.kind === 'compare' ? [t.value] : [])),
    ]);
    for (const u of used) {
      if (!(u in values)) {
        throw validationError(`An expression attribute value used in expression is not defined: ${u}`);
      }
    }
    for (const v of Object.keys(values)) {
      if (!used.has(v)) throw validationError(`Value provided in ExpressionAttributeValues unused: ${v}`);
    }
    for (const name of [...update.set.map((s) => s.name), ...update.remove]) {
      if (name === 'pk' || name === 'sk') throw validationError(`Cannot update attribute ${name}: key`);
    }
    for (const v of Object.values(values)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new UnsupportedCommandError(`value ${v}`);
    }
    const before = this.items.get(key);
    if (!terms.every((t) => holds(t, before, values))) {
      const onFail = input.ReturnValuesOnConditionCheckFailure;
      if (onFail !== undefined && onFail !== 'ALL_OLD' && onFail !== 'NONE') {
        throw new UnsupportedCommandError(`ReturnValuesOnConditionCheckFailure ${onFail}`);
      }
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
        ...(onFail === 'ALL_OLD' && before ? { Item: raw(before) } : {}),
      });
    }
    const k = input.Key as { pk: string; sk: string };
    const after: Item = { ...(before ?? { pk: k.pk, sk: k.sk }) };
    for (const s of update.set) after[s.name] = values[s.value] as string | number;
    for (const r of update.remove) delete after[r];
    this.items.set(key, after);
    this.onWrite(before, after);
    const rv = input.ReturnValues;
    if (rv === 'ALL_NEW') return { Attributes: { ...after } };
    if (rv === undefined || rv === 'NONE') return {};
    throw new UnsupportedCommandError(`ReturnValues ${rv}`);
  }

  lease(): Item | undefined {
    const item = this.items.get(`${APP}\u0000lease`);
    return item ? { ...item } : undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The simulated world: real time, clocks, processes, network.

class EventQueue {
  private heap: { t: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  get size() {
    return this.heap.length;
  }
  push(t: number, fn: () => void): void {
    const h = this.heap;
    const e = { t, seq: this.seq++, fn };
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as (typeof h)[number];
      if (pe.t < e.t || (pe.t === e.t && pe.seq < e.seq)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = e;
  }
  pop(): { t: number; fn: () => void } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      const less = (x: (typeof h)[number], y: (typeof h)[number]) =>
        x.t < y.t || (x.t === y.t && x.seq < y.seq);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        let m = i;
        let best = last;
        const hl = h[l];
        const hr = h[l + 1];
        if (hl && less(hl, best)) {
          m = l;
          best = hl;
        }
        if (hr && less(hr, best)) m = l + 1;
        if (m === i) break;
        h[i] = h[m] as (typeof h)[number];
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

/** A clock within ±bound of real time: an offset that drifts a few milliseconds at a time and sometimes jumps. */
class SimClock implements Clock {
  constructor(
    private readonly world: { now: number },
    public offset: number,
    readonly bound: number,
    public drift: -1 | 0 | 1,
  ) {}
  now(): number {
    return this.world.now + this.offset;
  }
  step(by: number): void {
    if (this.drift === 0) return;
    const next = this.offset + by * this.drift;
    if (Math.abs(next) > this.bound) this.drift = this.drift === 1 ? -1 : 1;
    else this.offset = next;
  }
  jump(to: number): void {
    this.offset = Math.max(-this.bound, Math.min(this.bound, to));
  }
}

/** How many requests may fail before one succeeds again; `write`: only an answered write counts as success. */
interface Budget {
  max: number;
  failures: number;
  resetOn: 'any' | 'write';
}

/** A process: timers and replies are held while it is paused (a GC pause, a frozen container). */
interface Proc {
  name: string;
  clock: SimClock;
  pausedUntil: number;
}

export async function simulate(o: SimOptions): Promise<SimResult> {
  // The simulated components throw thousands of errors (timeouts, conditional failures) that nobody prints;
  // capturing their stacks was half the run time.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await run(o);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

async function run(o: SimOptions): Promise<SimResult> {
  const r = rng(o.seed);
  const forced = o.mutant ? MUTANT_SCHEDULES[o.mutant] : undefined;
  const family: Family = o.family ?? forced?.family ?? (r.chance(0.7) ? 'safety' : 'liveness');
  const keeperMode: KeeperMode = o.keeper ?? forced?.keeper ?? (r.chance(0.7) ? 'process' : 'scheduled');
  // Liveness is proved with the shipped proportions. At the rule's boundary the guard, which learns a renewal only
  // by reading it, can still see the third attempt too late when one of its own reads is lost (docs/architecture.md,
  // "How it is proved"): safety is checked there, liveness is not.
  const timing: SimTiming =
    o.timing ?? (family === 'safety' && r.chance(0.5) ? TIMINGS.boundary : TIMINGS.roomy);
  const S = timing.maxSkewMs;
  const M = timing.safetyMarginMs;
  const mutant = o.mutant;
  const safety = family === 'safety';

  const world = { now: 0 };
  const queue = new EventQueue();
  const at = (t: number, fn: () => void) => queue.push(Math.max(t, world.now), fn);
  const log: string[] = [];
  // The trace costs string building on every step: only a replay asks for it.
  const note = (s: () => string) => {
    if (o.trace && log.length < 2_000) log.push(`${world.now} ${s()}`);
  };
  let settled = false; // set when a promise was settled: the microtasks must run before the next event
  let dirty = true; // set when a guard's decision may have changed: a reply, a timer, a clock step

  // Long enough for a failover (ttl + skew after the revoke), or for a missed scheduled start and its cover.
  const intervals = safety ? r.int(7, 12) : keeperMode === 'scheduled' ? r.int(14, 22) : r.int(8, 14);
  const durationMs = intervals * timing.renewIntervalMs;

  // ----- clocks: the dangerous pairing (holder slow, taker fast) is drawn often.
  const adversarial = r.chance(0.7);
  const offsets: Record<string, number> = {};
  const clocks: SimClock[] = [];
  const newClock = (name: string, lean: -1 | 0 | 1): SimClock => {
    const extreme = adversarial && lean !== 0 && r.chance(0.85);
    const offset = extreme ? lean * S : r.chance(0.3) ? r.pick([-S, S]) : r.int(-S, S);
    const drift = extreme ? 0 : r.pick([-1, 0, 1] as const);
    const c = new SimClock(world, offset, S, drift);
    clocks.push(c);
    offsets[name] = offset;
    return c;
  };
  const proc = (name: string, lean: -1 | 0 | 1): Proc => ({
    name,
    clock: newClock(name, lean),
    pausedUntil: 0,
  });

  // ----- faults, as real-time windows.
  const span = (maxLen: number, latest = durationMs): readonly [number, number] => {
    const from = r.int(timing.renewIntervalMs, Math.max(timing.renewIntervalMs, latest));
    return [from, from + r.int(100, maxLen)] as const;
  };
  const inside = (ws: readonly (readonly [number, number])[], t: number) =>
    ws.some(([a, b]) => t >= a && t < b);
  const partitions: Record<'A' | 'B' | 'C', (readonly [number, number])[]> = { A: [], B: [], C: [] };
  const unhealthy: Record<Region, (readonly [number, number])[]> = { A: [], B: [] };
  const pauses: Record<Region, (readonly [number, number])[]> = { A: [], B: [] };
  if (safety) {
    // The dangerous case first: the primary cut off from the authority while a failover runs.
    // Early enough for the failover to wait out the lease and grant before the schedule ends.
    if (r.chance(0.75))
      partitions.A.push(span(4 * timing.ttlMs, durationMs - timing.ttlMs - 2 * timing.renewIntervalMs));
    if (r.chance(0.3)) partitions.B.push(span(2 * timing.ttlMs));
    if (r.chance(0.2)) partitions.C.push(span(timing.ttlMs));
    if (r.chance(0.4)) unhealthy.A.push(span(3 * timing.ttlMs));
    if (r.chance(0.2)) unhealthy.B.push(span(2 * timing.ttlMs));
    for (const region of REGIONS) if (r.chance(0.3)) pauses[region].push(span(timing.ttlMs));
  }
  // Per-request faults. Liveness schedules keep them within the budget the configuration rule allows for.
  const faults = safety
    ? { lostRequest: 0.05, lostReply: 0.08, duplicate: 0.08, conflict: 0.03, maxDelay: 60 }
    : { lostRequest: 0.08, lostReply: 0.12, duplicate: 0.1, conflict: 0.04, maxDelay: 40 };
  const fastNetwork = r.chance(0.7); // the failover's requests arrive at once: the grant lands at the earliest instant

  // ----- the authority and what it saw.
  const authority = new MemoryAuthority();
  const grants: Grant[] = [];
  const violations: Violation[] = [];
  authority.onWrite = (before, after) => {
    const holder = after.holder;
    if (typeof holder === 'string' && (before?.epoch !== after.epoch || before?.holder !== holder)) {
      grants.push({ at: world.now, epoch: Number(after.epoch), region: holder });
      note(() => `grant ${holder}@${after.epoch} exp ${after.expiresAt}`);
    }
  };

  const stats = {
    grants: 0,
    failovers: 0,
    renewals: 0,
    acceptedWrites: 0,
    refusedChecks: 0,
    requests: 0,
    lostReplies: 0,
    duplicates: 0,
    missedStarts: 0,
    pauses: 0,
    minHandoverGapMs: null as number | null,
  };

  // ----- processes: timers and delivery respect pauses.
  /** Runs fn in process p once it is not paused; `settles` when fn settles a promise whose chain must run. */
  const deliver = (p: Proc, fn: () => void, settles = true) => {
    const run = () => {
      if (world.now < p.pausedUntil) at(p.pausedUntil, run);
      else {
        fn();
        if (settles) settled = true;
        dirty = true;
      }
    };
    run();
  };
  const timersOf = (p: Proc) => {
    const schedule = (fn: () => void, ms: number, settles: boolean) => {
      const handle = { cancelled: false, unref() {} };
      at(world.now + Math.max(0, Math.ceil(ms)), () =>
        deliver(
          p,
          () => {
            if (!handle.cancelled) fn();
          },
          settles,
        ),
      );
      return handle;
    };
    return {
      // The guard's timer calls refresh(), which sends its read before its first await: nothing to drain.
      setTimeout: (fn: () => void, ms: number) => schedule(fn, ms, false),
      clearTimeout: (h: unknown) => {
        (h as { cancelled: boolean }).cancelled = true;
      },
      sleep: (ms: number) => new Promise<void>((resolve) => schedule(resolve, ms, true)),
    } satisfies Timers & { sleep(ms: number): Promise<void> };
  };

  /**
   * The network between one process and the authority, as a document client. `budget` (liveness schedules) caps
   * how many requests may fail between two that succeed (for a keeper: between two answered writes).
   */
  const clientOf = (p: Proc, region: string, budget?: Budget): DynamoDBDocumentClient => {
    const send = (command: unknown) =>
      new Promise((resolve, reject) => {
        stats.requests++;
        let done = false;
        const settle = (fn: () => void) => {
          if (done) return;
          done = true;
          deliver(p, fn);
        };
        const cutAt = (t: number) => inside(partitions[region as keyof typeof partitions] ?? [], t);
        const cut = () => cutAt(world.now);
        const mayFail = !budget || budget.failures < budget.max;
        const lostRequest = mayFail && r.chance(faults.lostRequest);
        const lostReply = mayFail && !lostRequest && r.chance(faults.lostReply);
        const conflict = mayFail && !lostRequest && !lostReply && r.chance(faults.conflict);
        const duplicate = r.chance(faults.duplicate);
        const fast = fastNetwork && p.name.startsWith('C');
        const delay = () => (fast ? 0 : r.chance(0.3) ? 0 : r.int(1, faults.maxDelay));
        const failed = lostRequest || lostReply || conflict;
        if (budget && failed) budget.failures++;
        else if (budget && (budget.resetOn === 'any' || command instanceof UpdateCommand))
          budget.failures = 0;
        const [there, back] = [delay(), delay()];
        const sent = world.now;
        const answered =
          !lostRequest &&
          !lostReply &&
          there + back < timing.retryTimeoutMs &&
          ![sent, sent + there, sent + there + back].some(cutAt);
        // The SDK's request timeout, enforced (issue 11, item 2): a lost request or reply ends in an error.
        if (!answered) {
          at(sent + timing.retryTimeoutMs, () => {
            if (done) return;
            const e = new Error(`request timed out after ${timing.retryTimeoutMs} ms`);
            e.name = 'TimeoutError';
            settle(() => reject(e));
          });
        }
        if (lostRequest || cut()) return;
        at(world.now + there, () => {
          if (cut()) return;
          if (conflict) {
            settle(() =>
              reject(new ReplicatedWriteConflictException({ message: 'conflict', $metadata: {} })),
            );
            return;
          }
          let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
          try {
            outcome = { ok: true, value: authority.apply(command) };
          } catch (error) {
            outcome = { ok: false, error };
            if (error instanceof UnsupportedCommandError || (error as Error).name === 'ValidationException') {
              violations.push({ property: 'AUTHORITY', at: world.now, detail: String(error) });
            }
          }
          if (duplicate) {
            stats.duplicates++;
            at(world.now + r.int(0, faults.maxDelay), () => {
              try {
                authority.apply(command);
              } catch {
                // The duplicate's answer goes nowhere.
              }
            });
          }
          if (lostReply) {
            stats.lostReplies++;
            return;
          }
          at(world.now + back, () => {
            if (cut()) return;
            settle(() => (outcome.ok ? resolve(outcome.value) : reject(outcome.error)));
          });
        });
      });
    return { send } as unknown as DynamoDBDocumentClient;
  };

  /** The unconditional-renew mutant rewrites the store's renewal on its way out. */
  const mutateRenew = (client: DynamoDBDocumentClient): DynamoDBDocumentClient => {
    if (mutant !== 'unconditionalRenew') return client;
    return {
      send: (command: unknown) => {
        if (
          command instanceof UpdateCommand &&
          command.input.UpdateExpression === 'SET expiresAt = :exp, updatedAt = :now'
        ) {
          const { ':epoch': _e, ...values } = command.input.ExpressionAttributeValues ?? {};
          return client.send(
            new UpdateCommand({
              ...command.input,
              UpdateExpression: 'SET holder = :region, expiresAt = :exp, updatedAt = :now',
              ConditionExpression: undefined,
              ExpressionAttributeValues: values,
            }),
          );
        }
        return client.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
  };

  const storeOf = (p: Proc, region: string, t: LeaseTiming, budget?: Budget) =>
    new DynamoLeaseStore(mutateRenew(clientOf(p, region, budget)), TABLE, t, p.clock, {
      attempts: 1,
      baseDelayMs: 0,
    });

  // ----- the application regions: a process with the guard (and the keeper, in process mode).
  const holderTiming: LeaseTiming =
    mutant === 'noSkewMargin'
      ? { ...timing, maxSkewMs: 0, safetyMarginMs: 0 }
      : mutant === 'holderIgnoresMargin'
        ? { ...timing, safetyMarginMs: 0 }
        : mutant === 'holderHalfSkew'
          ? { ...timing, maxSkewMs: Math.floor(S / 2) }
          : timing;
  // Reads may fail once in a row in liveness schedules: the guard re-reads every half interval.
  // Liveness schedules: a guard's read fails at most once in a row (it re-reads every half interval), and a
  // region's keepers fail at most twice between two answered writes: the two failed renewals the rule allows for.
  const budget = (max: number, resetOn: Budget['resetOn']): Budget | undefined =>
    safety ? undefined : { max, failures: 0, resetOn };
  const keeperBudget: Record<Region, Budget | undefined> = { A: budget(2, 'write'), B: budget(2, 'write') };

  const apps = {} as Record<Region, { proc: Proc; guard: LeaseGuard }>;
  for (const region of REGIONS) {
    const p = proc(region, region === 'A' ? -1 : 0);
    const guard = new LeaseGuard({
      store: storeOf(p, region, holderTiming, budget(1, 'any')),
      application: APP,
      region,
      timing: holderTiming,
      clock: p.clock,
      timers: timersOf(p),
    });
    apps[region] = { proc: p, guard };
    at(r.int(0, 50), () => {
      void guard.start();
      settled = true;
    });
    for (const [from, to] of pauses[region]) {
      at(from, () => {
        stats.pauses++;
        p.pausedUntil = Math.max(p.pausedUntil, to);
        note(() => `${region} paused until ${to}`);
      });
    }
  }

  /**
   * The keeper's loop (the shape of functions/commons/heartbeat-loop.ts, with two retries per renewal). In the
   * application's process it feeds the guard every lease it reads or writes, as LeaseKeeper does with its `guard`
   * option (guard.observe, functions/guard/lease-keeper.ts); a scheduled run has no guard beside it.
   */
  const keeper = (p: Proc, region: Region, untilMs: number, guard?: LeaseGuard) => {
    const store = storeOf(p, region, timing, keeperBudget[region]);
    const timers = timersOf(p);
    let known: Lease | null | undefined;
    const tick = async () => {
      const healthy = !inside(unhealthy[region], world.now);
      // Unlike functions/commons/heartbeat-loop.ts, whose failed read loses the whole tick, a read is retried
      // within the tick like a renewal: a fresh scheduled run starts with a read, and two lost reads in a row
      // would otherwise cost two renew intervals (the simulation found this at the shipped proportions).
      for (let attempt = 1; healthy && known === undefined; attempt++) {
        try {
          known = await store.read(APP);
          if (known) guard?.observe(known);
        } catch {
          if (attempt === 3) return;
        }
      }
      const plan = planHeartbeat({
        lease: known ?? null,
        healthy,
        healthDetail: healthy ? 'ok' : 'unhealthy spell',
        region,
        primaryRegion: 'A',
      });
      if (plan.action === 'none') {
        if (plan.code !== 'UNHEALTHY_NOT_RENEWING') known = undefined;
        return;
      }
      if (plan.action === 'acquire') {
        try {
          const res = await store.acquire(APP, region, null);
          known = res.ok ? res.lease : undefined;
          if (res.ok) guard?.observe(res.lease);
        } catch {
          known = undefined;
        }
        return;
      }
      for (let attempt = 1; attempt <= (mutant === 'keeperNoRetry' ? 1 : 3); attempt++) {
        try {
          const res = await store.renew(APP, region, plan.epoch);
          stats.renewals++;
          known = res.ok ? res.lease : undefined;
          if (res.ok) guard?.observe(res.lease);
          note(() => `${p.name} renew #${attempt} ${res.ok ? `ok exp ${res.lease.expiresAt}` : res.code}`);
          return;
        } catch (err) {
          // A timeout may have renewed it; the next attempt is conditional anyway.
          note(() => `${p.name} renew #${attempt} failed: ${(err as Error).cause ?? err}`);
        }
      }
    };
    const loop = async () => {
      while (world.now < untilMs) {
        const started = p.clock.now();
        await tick();
        const elapsed = p.clock.now() - started;
        await timers.sleep(Math.min(timing.renewIntervalMs, Math.max(0, timing.renewIntervalMs - elapsed)));
      }
    };
    void loop();
    settled = true;
  };

  if (keeperMode === 'process') {
    for (const region of REGIONS) {
      at(r.int(0, 100), () => keeper(apps[region].proc, region, durationMs, apps[region].guard));
    }
  } else {
    // EventBridge Scheduler starts a run every period; each lasts two periods and an interval (the configuration
    // rule's least), on a host of its own with a clock of its own. Liveness schedules miss at most one in a row.
    const period = PERIOD_INTERVALS * timing.renewIntervalMs;
    const runMs = (mutant === 'shortScheduledRun' ? 1 : 2) * period + timing.renewIntervalMs;
    for (const region of REGIONS) {
      let missedInARow = 0;
      for (let start = -2 * period; start < durationMs; start += period) {
        // Runs that began before the schedule's start are still going at 0: they join at once.
        const miss = start >= 0 && r.chance(0.2) && (safety || missedInARow < 1);
        missedInARow = miss ? missedInARow + 1 : 0;
        if (miss) {
          stats.missedStarts++;
          continue;
        }
        const begin = Math.max(0, start + r.int(0, 200));
        const end = start + runMs;
        if (end <= 0) continue;
        const run = proc(`${region}-run${start}`, 0);
        at(begin, () => keeper(run, region, Math.min(end, durationMs)));
      }
    }
  }

  // ----- writes: the guard's check, then the data layer with the epoch as fencing token.
  const slow = mutant === 'slowUnfencedWrites' || mutant === 'slowFencedWrites';
  const fencing = mutant !== 'slowUnfencedWrites';
  const maxWriteDelay = slow ? 4 * M : M;
  let maxLanded = 0;
  const write = (region: Region) => {
    const { proc: p, guard } = apps[region];
    if (world.now < p.pausedUntil || world.now >= durationMs) return;
    const d = guard.check();
    if (!d.allowed) {
      stats.refusedChecks++;
      return;
    }
    // The design's assumption is a write that lands within the margin of its check; the slow mutants break it.
    const delay = r.chance(0.5) ? maxWriteDelay : r.int(0, maxWriteDelay);
    at(world.now + delay, () => {
      if (fencing && d.epoch < maxLanded) return;
      maxLanded = Math.max(maxLanded, d.epoch);
      stats.acceptedWrites++;
      const newer = grants.find((g) => g.epoch > d.epoch && g.at < world.now);
      if (newer) {
        violations.push({
          property: 'I2',
          at: world.now,
          detail: `a write by ${region} under epoch ${d.epoch} landed at ${world.now}, after epoch ${newer.epoch} was granted to ${newer.region} at ${newer.at}`,
        });
      }
    });
  };
  for (const region of REGIONS) {
    const writer = () => {
      write(region);
      if (world.now < durationMs) at(world.now + r.int(30, 500), writer);
    };
    at(r.int(0, 100), writer);
  }

  // ----- failovers: the fence plan, the revoke, the wait, the grant and its outcome, with retries.
  const controllers = [proc('C1', 1), proc('C2', 1)];
  const failoverTiming: LeaseTiming = mutant === 'takerNoSkew' ? { ...timing, maxSkewMs: 0 } : timing;
  const failover = async (c: Proc, incident: { epoch: number; from: string; to: string }) => {
    const store = storeOf(c, 'C', failoverTiming);
    const timers = timersOf(c);
    let fenced: Fenced | undefined;
    for (let attempt = 0; attempt < 40 && world.now < durationMs; attempt++) {
      try {
        if (!fenced) {
          const lease = await store.read(APP);
          const plan: FencePlan = planFence({ lease, ...incident }, failoverTiming, c.clock.now());
          note(() => `${c.name} fence ${plan.code}`);
          if (plan.code === 'LEASE_LOST') return;
          if (plan.code === 'REVOKE') {
            const res = await store.revoke(APP, plan.epoch);
            if (!res.ok) continue; // re-read: an earlier attempt may have revoked it
            fenced = revoked(plan, res.lease, failoverTiming);
          } else {
            fenced = plan;
          }
        }
        // The Wait state, on this clock; the grant's condition re-checks it on the authority.
        const wait = fenced.safeToTakeAt - c.clock.now();
        if (wait > 0) await timers.sleep(wait);
        if (fenced.fencedEpoch === null) return;
        const result = await store.grant(APP, incident.to, fenced.fencedEpoch);
        const outcome = grantOutcome({
          to: incident.to,
          fencedEpoch: fenced.fencedEpoch,
          result,
          now: c.clock.now(),
        });
        note(() => `${c.name} grant ${outcome.code}`);
        if (outcome.code !== 'NOT_SAFE_YET') return;
        await timers.sleep(r.int(1, 20));
      } catch {
        await timers.sleep(r.int(1, 100));
      }
    }
  };
  if (safety) {
    // Incidents come while the primary is cut off or unhealthy, or at any time (the watchers can be wrong).
    const starts = [
      ...partitions.A.map(([from]) => from + r.int(0, timing.ttlMs)),
      ...unhealthy.A.map(([from]) => from + r.int(0, timing.ttlMs)),
      ...(r.chance(0.4) ? [r.int(timing.ttlMs, durationMs)] : []),
    ];
    for (const start of starts) {
      at(start, () => {
        const item = authority.lease();
        if (!item || typeof item.holder !== 'string') return;
        const from = item.holder;
        const incident = { epoch: Number(item.epoch), from, to: from === 'A' ? 'B' : 'A' };
        stats.failovers++;
        note(() => `incident at epoch ${incident.epoch}: ${from} → ${incident.to}`);
        void failover(controllers[0] as Proc, incident);
        // A second control region takes the same incident over now and then: the fence must find its own work.
        if (r.chance(0.3))
          at(world.now + r.int(0, 2 * timing.ttlMs), () => void failover(controllers[1] as Proc, incident));
        settled = true;
      });
    }
  }

  // ----- clocks move.
  for (const c of clocks) {
    const tick = () => {
      dirty = true;
      c.step(r.int(1, 3));
      if (r.chance(0.02)) c.jump(r.chance(0.5) ? r.pick([-S, S]) : c.offset + r.int(-S, S));
      if (world.now < durationMs) at(world.now + r.int(300, 1_500), tick);
    };
    at(r.int(0, 200), tick);
  }

  // ----- run, tracking each guard's write windows exactly (they change only at events, and run out with time).
  const open: Record<Region, { from: number; until: number; epoch: number } | null> = { A: null, B: null };
  const windows: Window[] = [];
  /** Records the open window up to t; it stays open after t until it runs out or the next evaluation. */
  const close = (region: Region, t: number) => {
    const w = open[region];
    if (!w) return;
    const to = Math.min(w.until, t);
    if (to > w.from) {
      const last = lastWindow[region];
      if (last && last.epoch === w.epoch && last.to === w.from) last.to = to;
      else {
        const added = { region, epoch: w.epoch, from: w.from, to };
        windows.push(added);
        lastWindow[region] = added;
      }
    }
    open[region] = w.until > t ? { ...w, from: t } : null;
  };
  const lastWindow: Record<Region, Window | undefined> = { A: undefined, B: undefined };
  const lastInstant: Record<Region, number> = { A: -1, B: -1 };
  const evaluate = () => {
    for (const region of REGIONS) {
      const { guard, proc: p } = apps[region];
      const d = guard.check();
      const until = d.allowed ? world.now + (d.validUntil - p.clock.now()) : -1;
      open[region] = d.allowed ? { from: world.now, until, epoch: d.epoch } : null;
      // A write at the last instant its guard allows one: the dangerous one.
      if (d.allowed && until - 1 !== lastInstant[region] && until - 1 > world.now) {
        const t = until - 1;
        lastInstant[region] = t;
        at(t, () => {
          if (lastInstant[region] === t) write(region);
        });
      }
    }
  };

  for (let e = queue.pop(); e; e = queue.pop()) {
    if (e.t > durationMs + timing.ttlMs) break;
    for (const region of REGIONS) close(region, e.t);
    world.now = e.t;
    e.fn();
    if (settled) {
      settled = false;
      // Let the real code's promise chains run to their next wait before the next event.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (dirty) {
      dirty = false;
      evaluate();
    }
  }
  const end = Math.min(world.now, durationMs);
  for (const region of REGIONS) close(region, end);

  // ----- the properties.
  stats.grants = grants.length;
  const a = windows.filter((w) => w.region === 'A');
  const b = windows.filter((w) => w.region === 'B');
  for (const x of a) {
    for (const y of b) {
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (from < to) {
        violations.push({
          property: 'I1',
          at: from,
          detail: `A (epoch ${x.epoch}) and B (epoch ${y.epoch}) both allowed writes during [${from}, ${to})`,
        });
      }
    }
  }
  for (const g of grants) {
    for (const w of windows) {
      if (w.region === g.region || w.epoch >= g.epoch) continue;
      // A window under an older epoch must end safetyMarginMs before the grant, even one a late read opened.
      const gap = g.at - w.to;
      if (stats.minHandoverGapMs === null || gap < stats.minHandoverGapMs) stats.minHandoverGapMs = gap;
      if (gap < M) {
        violations.push({
          property: 'I2',
          at: w.to,
          detail: `${w.region} allowed writes under epoch ${w.epoch} until ${w.to}, only ${gap} ms before epoch ${g.epoch} was granted to ${g.region} at ${g.at} (margin ${M})`,
        });
      }
    }
  }
  if (!safety) {
    // The holder is healthy, never paused or cut off, and within the fault budget: once writing, always writing.
    const first = a[0];
    if (!first) {
      violations.push({ property: 'LIVENESS', at: end, detail: 'the healthy primary never allowed a write' });
    } else {
      let reach = first.to;
      for (const w of a.slice(1)) {
        if (w.from > reach) {
          violations.push({
            property: 'LIVENESS',
            at: reach,
            detail: `the healthy holder A refused writes during [${reach}, ${w.from})`,
          });
        }
        reach = Math.max(reach, w.to);
      }
      if (reach < end) {
        violations.push({
          property: 'LIVENESS',
          at: reach,
          detail: `the healthy holder A refused writes from ${reach} to the end (${end})`,
        });
      }
    }
  }

  return {
    seed: o.seed,
    family,
    keeper: keeperMode,
    timing,
    violations,
    stats,
    trace: { offsets, grants, windows, log },
  };
}
