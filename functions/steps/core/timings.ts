import { runResultKeys } from '#core/step-registry.js';
import type { StepRecord } from './state.js';

/**
 * The phases of one execution, in ms. They are cut at fixed boundaries, so they add up to `totalMs`:
 * detection (first unhealthy observation → failover requested), decision (→ the first fencing step starts:
 * claim, approval, re-check), fence (→ the old lease plus skew is over), promote (→ the database is writable:
 * RPO guard or replication drain, promotion), traffic (→ the lease is granted and Route 53 is INSYNC),
 * verify (→ the new primary answered healthy through its public endpoint).
 */
export interface TimingBreakdown {
  detectionMs: number | null;
  decisionMs: number | null;
  fenceMs: number | null;
  promoteMs: number | null;
  trafficMs: number | null;
  verifyMs: number | null;
  totalMs: number | null;
  /** From the claim to the approval decision, when a person was asked. Part of decisionMs. */
  approvalMs: number | null;
}

export interface StepTiming extends StepRecord {
  key: string;
  durationMs: number;
}

interface Recorded {
  step?: StepRecord;
  poll?: { step?: StepRecord };
}

const rec = (state: Record<string, unknown>, key: string): Recorded | undefined => {
  const v = state[key];
  return v && typeof v === 'object' ? (v as Recorded) : undefined;
};

/** The record of a step, widened to the end of its poll loop when it has one. */
function span(state: Record<string, unknown>, key: string): { startedAt: number; endedAt: number } | null {
  const r = rec(state, key);
  if (!r?.step) return null;
  const end = r.poll?.step ? Math.max(r.step.endedAt, r.poll.step.endedAt) : r.step.endedAt;
  return { startedAt: r.step.startedAt, endedAt: end };
}

/**
 * The record of every step of the run so far, in run order (the step registry's); a poll's record is widened
 * to the end of its loop.
 */
export function stepTimings(state: Record<string, unknown>): StepTiming[] {
  const out: StepTiming[] = [];
  for (const key of runResultKeys(state.kind === 'failback' ? 'failback' : 'failover')) {
    const r = rec(state, key);
    if (!r?.step) continue;
    const s = span(state, key)!;
    const outcome = r.poll?.step?.outcome ?? r.step.outcome;
    out.push({ key, ...r.step, endedAt: s.endedAt, outcome, durationMs: s.endedAt - s.startedAt });
  }
  return out;
}

export function breakdown(state: Record<string, unknown>, now: number): TimingBreakdown {
  const num = (k: string) => (typeof state[k] === 'number' ? (state[k] as number) : null);
  const detectedAt = num('detectedAt');
  const requestedAt = num('requestedAt');
  const fenceStart = span(state, 'stop')?.startedAt ?? span(state, 'fence')?.startedAt ?? null;
  const fence = rec(state, 'fence') as (Recorded & { safeToTakeAt?: number }) | undefined;
  const fenceSpan = span(state, 'fence');
  const fenceEnd = fenceSpan ? Math.max(fenceSpan.endedAt, fence?.safeToTakeAt ?? 0) : null;
  const promoted = span(state, 'promote')?.endedAt ?? null;
  const routed = span(state, 'route')?.endedAt ?? null;
  const verified = span(state, 'verify')?.endedAt ?? null;
  const claimed = span(state, 'claim')?.endedAt ?? span(state, 'start')?.endedAt ?? null;
  const approval = state.approval as { at?: number } | undefined;
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, b - a));
  const origin = detectedAt ?? requestedAt;
  return {
    detectionMs: diff(detectedAt, requestedAt),
    decisionMs: diff(requestedAt, fenceStart),
    fenceMs: diff(fenceStart, fenceEnd),
    promoteMs: diff(fenceEnd, promoted),
    trafficMs: diff(promoted, routed),
    verifyMs: diff(routed, verified),
    totalMs: diff(origin, verified ?? now),
    approvalMs: typeof approval?.at === 'number' ? diff(claimed, approval.at) : null,
  };
}
