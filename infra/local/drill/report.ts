import type { CutoverConfig } from '#core/config.js';
import type { TimelineEvent } from '../timeline.js';

export interface AckedWrite {
  id: string;
  region: string;
  epoch: number;
  at: number;
}

export interface FinalRow {
  id: string;
  epoch: number;
}

/**
 * The phases of the RTO, in ms by phase id (see `phasesOf`); null for a phase the drill never reached. `hooks_ms`:
 * the beforePromote hooks' share of promote, present only when the configuration has hooks (issue 15).
 */
export type StepTimings = { [K in PhaseId as `${K}_ms`]: number | null } & { hooks_ms?: number };

/** The numbers of report.json that anyone can recompute from timeline.jsonl, acked.jsonl and final-rows.jsonl. */
export interface DrillNumbers {
  rto_ms: number | null;
  lost_acked_writes: number;
  split_brain_writes: number;
  failover_executions: number;
  failovers_completed: number;
  acked_writes: number;
}

/**
 * The brief's definitions, as code:
 * - lost acked writes: acked ids missing from the final primary's rows;
 * - split-brain writes: writes acknowledged under an epoch lower than the newest epoch granted before the
 *   acknowledgement (the timeline's `lease_granted` events);
 * - failover executions: `execution_started` events of the failover machine; completed: `failover_completed`;
 * - RTO: from the fault (`fault_injected`) to the first write acknowledged by another region after it, or null
 *   when no other region ever acknowledged one.
 */
export function computeNumbers(
  timeline: readonly TimelineEvent[],
  acked: readonly AckedWrite[],
  finalRows: readonly FinalRow[],
): DrillNumbers {
  const present = new Set(finalRows.map((r) => r.id));
  const splitBrain = splitBrainWrites(timeline, acked).length;
  const fault = timeline.find((e) => e.type === 'fault_injected');
  const end = fault ? rtoEnd(fault, acked) : null;
  const rto = fault && end ? end.at - fault.at : null;
  return {
    rto_ms: rto,
    lost_acked_writes: acked.filter((a) => !present.has(a.id)).length,
    split_brain_writes: splitBrain,
    failover_executions: timeline.filter((e) => e.type === 'execution_started' && e.machine === 'failover')
      .length,
    failovers_completed: timeline.filter((e) => e.type === 'failover_completed').length,
    acked_writes: acked.length,
  };
}

/** Writes acknowledged under an epoch lower than the newest one granted before the acknowledgement. */
export function splitBrainWrites(
  timeline: readonly TimelineEvent[],
  acked: readonly AckedWrite[],
): AckedWrite[] {
  const grants = timeline
    .filter((e) => e.type === 'lease_granted')
    .map((e) => ({ at: e.at, epoch: Number(e.epoch) }));
  return acked.filter((a) => {
    let newest = Number.NEGATIVE_INFINITY;
    for (const g of grants) if (g.at <= a.at) newest = Math.max(newest, g.epoch);
    return a.epoch < newest;
  });
}

/** The RTO's end: the first write acknowledged after the fault by a region other than the faulted one. */
function rtoEnd(fault: TimelineEvent, acked: readonly AckedWrite[]): AckedWrite | null {
  const faultRegion = typeof fault.region === 'string' ? fault.region : null;
  if (faultRegion === null) return null;
  let first: AckedWrite | null = null;
  for (const a of acked)
    if (a.at >= fault.at && a.region !== faultRegion && (first === null || a.at < first.at)) first = a;
  return first;
}

export function parseJsonl<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export const PHASES = [
  {
    id: 'probe',
    label: 'first failed probe',
    holds: 'from the fault to the earliest failed probe among the watchers whose votes made the quorum',
  },
  {
    id: 'detection',
    label: 'detection',
    holds:
      'from that probe to the failover request: the debounce window and the quorum (the execution’s detectionMs)',
  },
  {
    id: 'claim_recheck',
    label: 'claim & re-check',
    holds:
      'from the request to the fence’s first step: the rule starts the execution, it claims the incident, asks for approval when needed and re-checks the votes',
  },
  {
    id: 'fence',
    label: 'fence',
    holds:
      'traffic stopped, writes drained, the lease revoked and the old lease plus the skew margin waited out',
  },
  {
    id: 'promote',
    label: 'promote',
    holds: 'the RPO guard, then the standby promoted until it accepts writes',
  },
  { id: 'grant', label: 'grant', holds: 'until the lease is granted to the new primary' },
  {
    id: 'traffic',
    label: 'traffic',
    holds:
      'from the grant to the first write acknowledged by the new primary: the edge’s health checks turn, resolvers’ cached answers run out, a client gets there',
  },
] as const;
export type PhaseId = (typeof PHASES)[number]['id'];

export interface Phase {
  id: PhaseId;
  label: string;
  holds: string;
  start_at: number;
  end_at: number;
  ms: number;
}

/**
 * The RTO cut into consecutive phases between named points of the timeline: the fault, the earliest failed probe
 * of the quorum and the request (both from the `Failover Requested` event), the fence's start and end and the
 * promotion (the execution's own step records, as its timings give them from the request), the new primary's
 * lease grant, and the first write it acknowledged (the RTO's end). Each point is clamped between the one before
 * it and the RTO's end, so the phases of a failover that completed add up to the RTO exactly. A failover that
 * never completed has the phases it reached; one without a fault, none.
 */
export function phasesOf(timeline: readonly TimelineEvent[], acked: readonly AckedWrite[]): Phase[] {
  const fault = timeline.find((e) => e.type === 'fault_injected');
  if (!fault) return [];
  const end = rtoEnd(fault, acked)?.at ?? null;
  const request = timeline.find((e) => e.type === 'failover_requested' && e.at >= fault.at);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const requestedAt = num(request?.requestedAt) ?? request?.at ?? null;
  const detectedAt = num(request?.detectedAt) ?? requestedAt;
  const completed = timeline.find(
    (e) =>
      e.type === 'failover_completed' &&
      e.at >= fault.at &&
      (request?.incidentId === undefined || e.incidentId === request.incidentId),
  );
  const t = (completed?.timings ?? {}) as Record<string, unknown>;
  const after = (from: number | null, ms: unknown) =>
    from === null || num(ms) === null ? null : from + num(ms)!;
  const fenceStart = completed ? after(requestedAt, t.decisionMs) : null;
  const fenceEnd = after(fenceStart, t.fenceMs);
  const promoted = after(fenceEnd, t.promoteMs);
  const to = completed?.to;
  const granted =
    promoted === null
      ? null
      : (timeline.find((e) => e.type === 'lease_granted' && e.region === to && e.at >= fault.at)?.at ?? null);
  const raw = [detectedAt, requestedAt, fenceStart, fenceEnd, promoted, granted, end];
  const phases: Phase[] = [];
  let previous = fault.at;
  for (const [i, p] of PHASES.entries()) {
    const at = raw[i];
    if (at === null || at === undefined) break;
    const clamped = end === null ? Math.max(previous, at) : Math.min(end, Math.max(previous, at));
    phases.push({ ...p, start_at: previous, end_at: clamped, ms: clamped - previous });
    previous = clamped;
  }
  return phases;
}

/** The phases by id, as report.json's `steps` gives them. */
export function stepTimings(phases: readonly Phase[]): StepTimings {
  const out = Object.fromEntries(PHASES.map((p) => [`${p.id}_ms`, null])) as unknown as StepTimings;
  for (const p of phases) out[`${p.id}_ms`] = p.ms;
  return out;
}

/** The beforePromote hooks' phase (part of promote) from the completed event, when the configuration has hooks. */
export function hooksMs(events: readonly TimelineEvent[]): Pick<StepTimings, 'hooks_ms'> {
  const completed = events.find((e) => e.type === 'failover_completed');
  const hooks = completed?.hooks as { name: string; durationMs: number }[] | undefined;
  const before = hooks?.find((h) => h.name === 'hooks-before-promote');
  return before ? { hooks_ms: before.durationMs } : {};
}

/** A time relative to the fault ("+3.21 s", "−0.40 s"), or ISO 8601 when there was no fault. */
export function relativeTime(at: number, faultAt: number | null): string {
  if (faultAt === null) return new Date(at).toISOString();
  const d = (at - faultAt) / 1000;
  return `${d < 0 ? '−' : '+'}${Math.abs(d).toFixed(2)} s`;
}

/** One expectation a scenario checked: what it expects, whether it held, and what the drill saw. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The sentences of the failed checks: report.json's `reasons`. */
export const reasonsOf = (checks: readonly Check[]): string[] =>
  checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

/** Why an acknowledged write is missing from the final primary. */
export type LossCause =
  | 'replication-lag'
  | 'dying-primary'
  | 'older-than-lag'
  | 'isolated-primary'
  | 'after-new-lease'
  | 'planned-failback'
  | 'unexplained';

export interface LostGroup {
  cause: LossCause;
  region: string;
  count: number;
  first_at: number;
  last_at: number;
  allowed: boolean;
  /** "61 acknowledged by …: allowed in this scenario". */
  sentence: string;
  ids: string[];
}

export interface LossContext {
  faultAt: number | null;
  lagAtFaultMs: number | null;
  /** Scheduling slack on top of the measured lag (the lag is sampled, not known to the ms). */
  slackMs?: number;
  /** The causes this scenario allows. */
  allowed: readonly LossCause[];
}

/**
 * Each lost acknowledged write with its cause, grouped by cause and region: acknowledged inside the replication
 * lag before the fault (asynchronous replication loses these by design), before that, by a killed primary in the
 * moments it took to die, by a primary still running after the fault but before the lease passed on (an isolated
 * primary serving its clients until its lease runs out), by it after the lease passed on, during a planned
 * failback, or none of these.
 */
export function attributeLost(
  lost: readonly AckedWrite[],
  timeline: readonly TimelineEvent[],
  ctx: LossContext,
): LostGroup[] {
  const { faultAt } = ctx;
  const window = (ctx.lagAtFaultMs ?? 0) + (ctx.slackMs ?? 300);
  const fault = timeline.find((e) => e.type === 'fault_injected');
  const faulted = typeof fault?.region === 'string' ? fault.region : null;
  const handover = timeline.find(
    (e) => e.type === 'lease_granted' && faultAt !== null && e.at >= faultAt && e.region !== faulted,
  );
  const failback = timeline.find((e) => e.type === 'failback_window_open');
  const causeOf = (w: AckedWrite): LossCause => {
    if (failback && w.at >= failback.at) return 'planned-failback';
    if (faultAt === null) return 'unexplained';
    if (w.at < faultAt) return w.at >= faultAt - window ? 'replication-lag' : 'older-than-lag';
    if (w.region !== faulted) return 'unexplained';
    if (handover && w.at >= handover.at) return 'after-new-lease';
    return fault?.kind === 'region_killed' ? 'dying-primary' : 'isolated-primary';
  };
  const groups = new Map<string, AckedWrite[]>();
  for (const w of [...lost].sort((a, b) => a.at - b.at)) {
    const key = `${causeOf(w)}\u0000${w.region}`;
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }
  return [...groups.entries()].map(([key, ws]) => {
    const cause = key.split('\u0000')[0] as LossCause;
    const region = ws[0]!.region;
    const first = ws[0]!.at;
    const last = ws.at(-1)!.at;
    const allowed = ctx.allowed.includes(cause);
    const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const n = ws.length;
    const head: Record<LossCause, string> = {
      'replication-lag': `${n} acknowledged by ${region} in the last ${window} ms before the fault, inside the replication lag (${ctx.lagAtFaultMs ?? 0} ms at the fault)`,
      'older-than-lag': `${n} acknowledged by ${region} more than ${window} ms before the fault, earlier than the replication lag explains`,
      'dying-primary': `${n} acknowledged by ${region} in the ${last - (faultAt ?? last)} ms after the fault while it was being killed, committed there and never replicated`,
      'isolated-primary': `${n} acknowledged by the ${fault?.kind === 'partitioned' ? 'isolated' : 'old'} primary ${region} to its clients in the ${secs(last - (faultAt ?? last))} after the fault, before its lease ran out`,
      'after-new-lease': `${n} acknowledged by ${region} after the lease passed to ${String(handover?.region)} at ${relativeTime(handover?.at ?? last, faultAt)}`,
      'planned-failback': `${n} acknowledged by ${region} during the planned failback`,
      unexplained: `${n} acknowledged by ${region} between ${relativeTime(first, faultAt)} and ${relativeTime(last, faultAt)}, for no known reason`,
    };
    return {
      cause,
      region,
      count: n,
      first_at: first,
      last_at: last,
      allowed,
      sentence: `${head[cause]}: ${allowed ? 'allowed' : 'not allowed'} in this scenario`,
      ids: ws.map((w) => w.id),
    };
  });
}

/** report.json. */
export interface DrillReportOf<S extends string = string> {
  scenario: S;
  seed: number;
  verdict: 'pass' | 'fail';
  /** Every expectation the scenario checked, held (ok) or broken, with what the drill saw. */
  checks: Check[];
  /** The broken checks as sentences ("name: detail"); empty on a pass. */
  reasons: string[];
  /** The fault, epoch ms (null for a scenario without one); the summary gives times relative to it. */
  fault_at: number | null;
  rto_ms: number | null;
  /** The RTO as consecutive phases between named points of the timeline; they add up to rto_ms. */
  phases: Phase[];
  /** The phases' ms by id. */
  steps: StepTimings;
  lost_acked_writes: number;
  /** The lost acknowledged writes by cause, each allowed or not by the scenario. */
  lost_writes: LostGroup[];
  split_brain_writes: number;
  failover_executions: number;
  failovers_completed: number;
  acked_writes: number;
  lag_at_fault_ms: number | null;
  /** Peak resident memory of the drill's whole process tree (an upper bound: shared pages count per process). */
  peak_memory_mib: number | null;
  approve: boolean;
  replication: 'synchronous' | 'asynchronous';
  duration_ms: number;
  config: CutoverConfig;
  /** The configuration rehearsed: a file given with --config, or the compressed example. */
  config_source: string;
  /** Every timing of the configuration (and AWS's edge timings) was divided by this. */
  time_scale: number;
  /** AWS's edge timings were divided by this (the time scale unless a benchmark set it apart). */
  edge_time_scale: number;
  /**
   * The front door's clients: writes a second asked, acknowledged writes a second achieved over their whole run
   * (outage included), and before the first fault (the steady load; null without a fault).
   */
  write_rate: {
    asked_per_s: number;
    achieved_per_s: number | null;
    before_fault_per_s: number | null;
    /** Writes the clients saw acknowledged in the second before the fault (null when they ran under 2 s). */
    last_second_before_fault?: number | null;
  };
  /**
   * Set when the report is a game day's in AWS (`cutover gameday`, bin/gameday-command.ts): what its RTO means
   * there, and no write numbers (nothing in AWS counts acknowledged writes).
   */
  gameday?: { rto_means: string; account: string; execution: string | null };
}

const fmtMs = (v: number | null) => (v === null ? '—' : `${v.toLocaleString('en-US')} ms`);

/**
 * The summary `cutover drill` prints: the numbers, the RTO's phases (they add up to it) with their times relative
 * to the fault, each lost write's cause, and every check the scenario made with ✓ or ✗.
 */
export function formatSummary(r: DrillReportOf, out: string): string {
  const rel = (at: number) => relativeTime(at, r.fault_at);
  const rows: [string, string][] = [
    [
      'scenario',
      `${r.scenario} (seed ${r.seed}${r.approve ? ', --approve' : ''}, ${r.replication} replication)`,
    ],
    ['configuration', `${r.config_source} (timings ÷ ${r.time_scale})`],
    [
      'write rate',
      `${r.write_rate.achieved_per_s ?? '—'} acknowledged/s achieved over the run, ${r.write_rate.before_fault_per_s ?? '—'}/s before the fault${r.write_rate.last_second_before_fault == null ? '' : `, ${r.write_rate.last_second_before_fault} in its last second`} (${r.write_rate.asked_per_s}/s asked)`,
    ],
    ['verdict', r.verdict === 'pass' ? '✓ PASS' : '✗ FAIL'],
    ['fault', r.fault_at === null ? '—' : `at ${new Date(r.fault_at).toISOString()} (times below: from it)`],
    [
      'RTO',
      `${fmtMs(r.rto_ms)}${r.rto_ms === null ? '' : ' (to the first write the new primary acknowledged)'}`,
    ],
  ];
  for (const p of r.phases) {
    rows.push([`  ${p.label}`, `${fmtMs(p.ms).padStart(9)}  ${rel(p.start_at)} → ${rel(p.end_at)}`]);
    if (p.id === 'promote' && r.steps.hooks_ms !== undefined)
      rows.push(['    of which hooks', fmtMs(r.steps.hooks_ms).padStart(9)]);
  }
  rows.push(
    ['acknowledged writes', String(r.acked_writes)],
    [
      'lost acknowledged writes',
      `${r.lost_acked_writes}${r.lag_at_fault_ms === null ? '' : ` (replication lag at the fault ${fmtMs(r.lag_at_fault_ms)})`}`,
    ],
  );
  for (const g of r.lost_writes) rows.push(['', g.sentence]);
  rows.push(
    ['split-brain writes', String(r.split_brain_writes)],
    ['failover executions', String(r.failover_executions)],
    ['failovers completed', String(r.failovers_completed)],
    ['peak memory (process tree)', r.peak_memory_mib === null ? '—' : `${r.peak_memory_mib} MiB`],
    ['artifacts', out],
    ['report page', `${out.replace(/\/$/, '')}/report.html`],
  );
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  const checks = r.checks.length
    ? r.checks.map((c) => `    ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`)
    : r.reasons.map((x) => `    ✗ ${x}`);
  return `\n${lines.join('\n')}\n  checks\n${checks.join('\n')}\n`;
}
