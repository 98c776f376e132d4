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

export interface StepTimings {
  detection_ms: number | null;
  decision_ms: number | null;
  fence_ms: number | null;
  promote_ms: number | null;
  traffic_ms: number | null;
  /** The beforePromote hooks' phase, part of promote_ms; null without hooks (issue 15). */
  hooks_ms?: number | null;
}

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
  const grants = timeline
    .filter((e) => e.type === 'lease_granted')
    .map((e) => ({ at: e.at, epoch: Number(e.epoch), region: String(e.region) }))
    .sort((a, b) => a.at - b.at);
  let splitBrain = 0;
  for (const a of acked) {
    let newest = Number.NEGATIVE_INFINITY;
    for (const g of grants) if (g.at <= a.at) newest = Math.max(newest, g.epoch);
    if (a.epoch < newest) splitBrain++;
  }
  const fault = timeline.find((e) => e.type === 'fault_injected');
  let rto: number | null = null;
  if (fault) {
    const faultRegion = typeof fault.region === 'string' ? fault.region : null;
    const after = acked
      .filter((a) => a.at >= fault.at && faultRegion !== null && a.region !== faultRegion)
      .sort((x, y) => x.at - y.at)[0];
    rto = after ? after.at - fault.at : null;
  }
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

export function parseJsonl<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/**
 * The traffic phase as the clients saw it: from the lease grant to the failover's target until the first client
 * request the front door had served (2xx) by that region: the health checkers saw its holder check, the
 * resolvers' cached answers ran out, and a client got there. Not the router's call or its INSYNC. Null when no
 * failover completed after the fault or no client request was served by its target.
 */
export function trafficPhaseMs(timeline: readonly TimelineEvent[], faultAt: number | null): number | null {
  const completed = timeline.find(
    (e) => e.type === 'failover_completed' && (faultAt === null || e.at >= faultAt),
  );
  const to = completed?.to;
  if (typeof to !== 'string') return null;
  const grant = timeline.find(
    (e) => e.type === 'lease_granted' && e.region === to && (faultAt === null || e.at >= faultAt),
  );
  if (!grant) return null;
  const served = timeline.find((e) => e.type === 'traffic_served' && e.region === to && e.at >= grant.at);
  return served ? served.at - grant.at : null;
}
