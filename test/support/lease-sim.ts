import { isSafeToTake, type Lease, type LeaseTiming, mayWrite } from '#core/lease.js';

/**
 * A seeded, deterministic model of the lease: one authority (the MRSC item, linearizable), two application
 * regions with skewed clocks running the heartbeat and the write path, a control region running failovers
 * (revoke → wait → grant), and an opportunistic taker using acquire. Messages to the authority are delayed,
 * dropped, and cut by partitions; regions go unhealthy and stop renewing. The authority applies the same
 * conditions as DynamoLeaseStore, with the caller's clock read when the request is sent.
 *
 * The invariants are checked on the real (simulated) timeline:
 *   I1: at no real instant do two regions each believe they may write (mayWrite on their own clock);
 *   I2: no write under epoch e is accepted after a lease with a higher epoch was granted.
 */

export type Broken = 'noSkewMargin' | 'unconditionalRenew' | 'slowUnfencedWrites';

export interface SimOptions {
  seed: number;
  timing: LeaseTiming;
  durationMs: number;
  /** Upper bound of one-way delay to the authority. */
  maxDelayMs: number;
  dropRate: number;
  /** Upper bound of a write's time in flight after its check; the design assumes at most safetyMarginMs. */
  maxWriteDelayMs: number;
  broken?: Broken;
}

export interface Violation {
  invariant: 'I1' | 'I2';
  at: number;
  detail: string;
}

export interface SimResult {
  seed: number;
  violations: Violation[];
  stats: {
    grants: number;
    acceptedWrites: number;
    rejectedWrites: number;
    failovers: number;
    messages: number;
  };
  /** Enough to read a failing schedule: every grant, the clock offsets, and each region's views over time. */
  trace: {
    grants: { at: number; epoch: number; region: string }[];
    offsets: Record<string, number>;
    history: Record<string, { at: number; lease: Lease | null }[]>;
  };
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
  };
}

type Op =
  | { kind: 'read' }
  | { kind: 'acquire'; region: string; expected: number | null; now: number }
  | { kind: 'renew'; region: string; epoch: number; now: number }
  | { kind: 'revoke'; expected: number; now: number }
  | { kind: 'grant'; region: string; expected: number; now: number };

type OpResult =
  | { ok: true; lease: Lease | null }
  | { ok: false; code: 'LOST_RACE' | 'NOT_HOLDER' | 'NOT_SAFE_YET'; current: Lease | null };

const REGIONS = ['A', 'B'] as const;
type Region = (typeof REGIONS)[number];

export function simulate(o: SimOptions): SimResult {
  const r = rng(o.seed);
  const t0 = o.timing;
  const S = t0.maxSkewMs;
  const holderTiming: LeaseTiming =
    o.broken === 'noSkewMargin' ? { ...t0, maxSkewMs: 0, safetyMarginMs: 0 } : t0;

  // Clock offsets: the extremes ±maxSkew are the interesting cases, so they are drawn often.
  const offset = (): number => {
    const k = r.int(0, 2);
    return k === 0 ? -S : k === 1 ? S : r.int(-S, S);
  };
  const off: Record<string, number> = { A: offset(), B: offset(), C: offset() };

  // Event queue ordered by (time, insertion).
  const queue: { t: number; seq: number; fn: () => void }[] = [];
  let seq = 0;
  let now = 0;
  const at = (t: number, fn: () => void) => {
    const e = { t, seq: seq++, fn };
    let i = queue.length;
    queue.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = queue[p] as (typeof queue)[number];
      if (pe.t < e.t || (pe.t === e.t && pe.seq < e.seq)) break;
      queue[i] = pe;
      i = p;
    }
    queue[i] = e;
  };
  const pop = () => {
    const top = queue[0];
    const last = queue.pop();
    if (queue.length && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const rr = l + 1;
        let m = i;
        const cand = (j: number) => queue[j] as (typeof queue)[number];
        const less = (x: (typeof queue)[number], y: (typeof queue)[number]) =>
          x.t < y.t || (x.t === y.t && x.seq < y.seq);
        let best = last;
        if (l < queue.length && less(cand(l), best)) {
          m = l;
          best = cand(l);
        }
        if (rr < queue.length && less(cand(rr), best)) m = rr;
        if (m === i) break;
        queue[i] = cand(m);
        i = m;
      }
      queue[i] = last;
    }
    return top;
  };
  const clock = (who: string) => now + (off[who] ?? 0);

  // Faults: partitions from the authority and unhealthy spells, as real-time windows per region.
  const windows = (count: number, maxLen: number) =>
    Array.from({ length: count }, () => {
      const from = r.int(0, o.durationMs);
      return [from, from + r.int(100, maxLen)] as const;
    });
  const partitions: Record<string, (readonly [number, number])[]> = {
    A: windows(r.int(0, 2), 3 * t0.ttlMs),
    B: windows(r.int(0, 2), 3 * t0.ttlMs),
    C: windows(r.int(0, 1), t0.ttlMs),
  };
  const unhealthy: Record<string, (readonly [number, number])[]> = {
    A: windows(r.int(0, 2), 3 * t0.ttlMs),
    B: windows(r.int(0, 1), 2 * t0.ttlMs),
  };
  const inside = (ws: readonly (readonly [number, number])[] | undefined, t: number) =>
    (ws ?? []).some(([a, b]) => t >= a && t < b);

  // The authority.
  let item: Lease | null = null;
  const grants: { at: number; epoch: number; region: string }[] = [];
  const copy = (l: Lease | null) => (l ? { ...l } : null);
  const apply = (op: Op): OpResult => {
    switch (op.kind) {
      case 'read':
        return { ok: true, lease: copy(item) };
      case 'acquire': {
        const free =
          op.expected === null
            ? item === null
            : item !== null && item.epoch === op.expected && item.expiresAt <= op.now - S;
        if (!free) return { ok: false, code: 'LOST_RACE', current: copy(item) };
        item = {
          application: 'sim',
          holder: op.region,
          epoch: (op.expected ?? 0) + 1,
          expiresAt: op.now + t0.ttlMs,
          updatedAt: op.now,
        };
        grants.push({ at: now, epoch: item.epoch, region: op.region });
        return { ok: true, lease: copy(item) };
      }
      case 'renew': {
        if (o.broken === 'unconditionalRenew' && item) {
          item = { ...item, holder: op.region, expiresAt: op.now + t0.ttlMs, updatedAt: op.now };
          return { ok: true, lease: copy(item) };
        }
        if (item && item.holder === op.region && item.epoch === op.epoch) {
          if (item.expiresAt < op.now + t0.ttlMs)
            item = { ...item, expiresAt: op.now + t0.ttlMs, updatedAt: op.now };
          return { ok: true, lease: copy(item) };
        }
        return { ok: false, code: 'NOT_HOLDER', current: copy(item) };
      }
      case 'revoke': {
        if (!item || item.epoch !== op.expected) return { ok: false, code: 'LOST_RACE', current: copy(item) };
        item = { ...item, holder: null, epoch: item.epoch + 1, updatedAt: op.now };
        return { ok: true, lease: copy(item) };
      }
      case 'grant': {
        if (item && item.epoch === op.expected && item.holder === null) {
          if (item.expiresAt > op.now - S) return { ok: false, code: 'NOT_SAFE_YET', current: copy(item) };
          item = {
            ...item,
            holder: op.region,
            epoch: item.epoch + 1,
            expiresAt: op.now + t0.ttlMs,
            updatedAt: op.now,
          };
          grants.push({ at: now, epoch: item.epoch, region: op.region });
          return { ok: true, lease: copy(item) };
        }
        return { ok: false, code: 'LOST_RACE', current: copy(item) };
      }
    }
  };

  let messages = 0;
  const delay = () => r.int(0, o.maxDelayMs);
  const lost = (who: string, t: number) => inside(partitions[who], t) || r.chance(o.dropRate);
  /** Sends an operation; the reply (if any) arrives later. The caller's clock was read when it built `op`. */
  const call = (who: string, op: Op, reply: (res: OpResult) => void) => {
    messages++;
    if (lost(who, now)) return;
    at(now + delay(), () => {
      const res = apply(op);
      if (lost(who, now)) return;
      at(now + delay(), () => reply(res));
    });
  };

  // Each application region's view of the lease (what its write guard decides from), with its history.
  const belief: Record<Region, Lease | null> = { A: null, B: null };
  const history: Record<Region, { at: number; lease: Lease | null }[]> = { A: [], B: [] };
  const learn = (who: Region, l: Lease | null) => {
    const b = belief[who];
    // Replies can arrive out of order: never step back to an older view.
    if (b && l && (l.epoch < b.epoch || (l.epoch === b.epoch && l.expiresAt < b.expiresAt))) return;
    if (b && !l) return;
    belief[who] = l;
    history[who].push({ at: now, lease: l });
  };

  // Heartbeat: every renew interval, renew while healthy (and holding); otherwise read to learn.
  const heartbeat = (who: Region) => {
    if (now > o.durationMs) return;
    if (!inside(unhealthy[who], now)) {
      const b = belief[who];
      if (b?.holder === who) {
        call(who, { kind: 'renew', region: who, epoch: b.epoch, now: clock(who) }, (res) =>
          learn(who, res.ok ? res.lease : res.current),
        );
      } else if (who === 'A' && history.A.length === 0) {
        call(who, { kind: 'acquire', region: who, expected: null, now: clock(who) }, (res) =>
          learn(who, res.ok ? res.lease : res.current),
        );
      } else {
        call(who, { kind: 'read' }, (res) => learn(who, res.ok ? res.lease : res.current));
      }
    }
    at(now + t0.renewIntervalMs, () => heartbeat(who));
  };

  // Writes: the guard's check on the region's own clock, then the data layer some time later.
  let maxSeen = 0;
  const accepted: { at: number; epoch: number; region: Region }[] = [];
  let rejectedWrites = 0;
  const fenced = o.broken !== 'slowUnfencedWrites';
  const writeDelayMax =
    o.broken === 'slowUnfencedWrites' ? 10 * o.maxWriteDelayMs + 10 * t0.safetyMarginMs : o.maxWriteDelayMs;
  const writer = (who: Region) => {
    if (now > o.durationMs) return;
    const d = mayWrite(belief[who], who, clock(who), holderTiming);
    if (d.allowed) {
      const epoch = d.epoch;
      at(now + r.int(0, writeDelayMax), () => {
        if (fenced && epoch < maxSeen) {
          rejectedWrites++;
          return;
        }
        maxSeen = Math.max(maxSeen, epoch);
        accepted.push({ at: now, epoch, region: who });
      });
    }
    at(now + r.int(30, 250), () => writer(who));
  };

  // Failovers from the control region: read, revoke, wait out expiry + maxSkew on its clock, grant. A lost
  // message is noticed by a watchdog and the failover starts again from a fresh read; every step is conditional.
  let failovers = 0;
  const failover = () => {
    let revokedEpoch: number | null = null;
    let target: Region = REGIONS[r.int(0, 1)] as Region;
    let done = false;
    let gen = 0;
    let steps = 0;
    const watch = () => {
      const g = ++gen;
      at(now + 4 * o.maxDelayMs + 50, () => {
        if (!done && gen === g) step();
      });
      return g;
    };
    const step = () => {
      if (done || now > o.durationMs || ++steps > 50) return;
      const g = watch();
      call('C', { kind: 'read' }, (res) => {
        if (gen !== g) return;
        const cur = res.ok ? res.lease : res.current;
        if (!cur) {
          done = true;
        } else if (revokedEpoch === null && cur.holder !== null) {
          const g2 = watch();
          call('C', { kind: 'revoke', expected: cur.epoch, now: clock('C') }, (rv) => {
            if (gen !== g2) return;
            if (!rv.ok || !rv.lease) {
              done = true;
              return;
            }
            failovers++;
            revokedEpoch = rv.lease.epoch;
            target = cur.holder === 'A' ? 'B' : 'A';
            grant(rv.lease);
          });
        } else if (cur.holder === null && (revokedEpoch === null || cur.epoch === revokedEpoch)) {
          revokedEpoch = cur.epoch;
          grant(cur);
        } else {
          done = true; // granted (our reply was lost) or someone else moved the lease on
        }
      });
    };
    const grant = (revoked: Lease) => {
      ++gen; // no watchdog while waiting out the old lease
      at(now + Math.max(0, revoked.expiresAt + S - clock('C')), () => {
        const g = watch();
        call('C', { kind: 'grant', region: target, expected: revoked.epoch, now: clock('C') }, (res) => {
          if (gen !== g) return;
          if (!res.ok && res.code === 'NOT_SAFE_YET') {
            ++gen;
            at(now + 20, () => grant(revoked));
          } else {
            done = true;
          }
        });
      });
    };
    step();
  };

  // An opportunistic taker: acquires a lease that was not renewed, as LeaseStore.acquire allows.
  const taker = (who: Region) => {
    if (now > o.durationMs) return;
    call(who, { kind: 'read' }, (res) => {
      const cur = res.ok ? res.lease : res.current;
      if (cur && isSafeToTake(cur, clock(who), t0)) {
        call(who, { kind: 'acquire', region: who, expected: cur.epoch, now: clock(who) }, (a) => {
          if (a.ok) learn(who, a.lease);
        });
      }
    });
    at(now + r.int(t0.ttlMs, 4 * t0.ttlMs), () => taker(who));
  };

  at(0, () => heartbeat('A'));
  at(r.int(0, t0.renewIntervalMs), () => heartbeat('B'));
  at(r.int(0, 50), () => writer('A'));
  at(r.int(0, 50), () => writer('B'));
  for (let i = r.int(1, 4); i > 0; i--) at(r.int(t0.ttlMs, o.durationMs), failover);
  at(r.int(t0.ttlMs, 3 * t0.ttlMs), () => taker('B'));

  for (let e = pop(); e; e = pop()) {
    now = e.t;
    e.fn();
  }

  return {
    seed: o.seed,
    violations: [...checkI1(history, off, holderTiming, now), ...checkI2(accepted, grants)],
    stats: { grants: grants.length, acceptedWrites: accepted.length, rejectedWrites, failovers, messages },
    trace: { grants, offsets: off, history },
  };
}

/** Real-time intervals in which a region believed it may write, from its view history and clock offset. */
function writeWindows(
  who: Region,
  hist: { at: number; lease: Lease | null }[],
  offset: number,
  t: LeaseTiming,
  end: number,
): { from: number; to: number; epoch: number }[] {
  const out: { from: number; to: number; epoch: number }[] = [];
  hist.forEach((h, i) => {
    const next = hist[i + 1]?.at ?? end;
    // mayWrite at real time x uses the clock reading x + offset; find where it is allowed from h.at on.
    const d = mayWrite(h.lease, who, h.at + offset, t);
    if (!d.allowed) return;
    const to = Math.min(next, d.validUntil - offset);
    if (to > h.at) out.push({ from: h.at, to, epoch: d.epoch });
  });
  return out;
}

function checkI1(
  history: Record<Region, { at: number; lease: Lease | null }[]>,
  off: Record<string, number>,
  t: LeaseTiming,
  end: number,
): Violation[] {
  const a = writeWindows('A', history.A, off.A ?? 0, t, end);
  const b = writeWindows('B', history.B, off.B ?? 0, t, end);
  const out: Violation[] = [];
  for (const x of a) {
    for (const y of b) {
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (from < to) {
        out.push({
          invariant: 'I1',
          at: from,
          detail: `A (epoch ${x.epoch}, clock ${off.A}) and B (epoch ${y.epoch}, clock ${off.B}) both believed they may write during [${from}, ${to})`,
        });
      }
    }
  }
  return out;
}

function checkI2(
  accepted: { at: number; epoch: number; region: Region }[],
  grants: { at: number; epoch: number; region: string }[],
): Violation[] {
  const out: Violation[] = [];
  for (const w of accepted) {
    const newer = grants.find((g) => g.epoch > w.epoch && g.at < w.at);
    if (newer) {
      out.push({
        invariant: 'I2',
        at: w.at,
        detail: `write by ${w.region} under epoch ${w.epoch} accepted at ${w.at}, after epoch ${newer.epoch} was granted to ${newer.region} at ${newer.at}`,
      });
    }
  }
  return out;
}
