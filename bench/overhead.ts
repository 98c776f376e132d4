import type { TimelineEvent } from '../infra/local/timeline.js';

/**
 * Where the overhead of one run went, in ms; the parts add up to the overhead exactly (each is the gap between
 * two moments on the timeline, and the moments follow each other).
 */
export interface OverheadParts {
  /** The fault until the first unhealthy observation the quorum's evidence starts from (probe phase). */
  first_observation: number;
  /** The end of the debounce window until the failover is requested: the observation that completes the
   * window, the vote's trip through the stream, and the aggregator's decision. */
  past_debounce: number;
  /** Failover Requested until the machine's first state (the rule, StartExecution). */
  start_execution: number;
  /** Claim and RecheckVotes, until StopTraffic starts. */
  claim_recheck: number;
  /** The old lease plus skew is over (or the fence step ended, if later) until the RPO guard starts. */
  after_lease: number;
  /** The RPO guard, until Promote starts. */
  rpo_guard: number;
  /** Promote until the database accepts writes. */
  promote: number;
  /** The database accepts writes until the lease is granted (status poll, GrantLease). */
  grant: number;
  /** The grant until the edge serves a request from the new primary (RouteTraffic, the health checks). */
  edge: number;
  /** That request until a client's write is acknowledged there (the RTO's end). */
  client: number;
}

export function overheadParts(
  events: readonly TimelineEvent[],
  r: { rto_ms: number | null; steps: { fence_ms: number | null }; config: { debounceMs: number } },
): OverheadParts | null {
  const fault = events.find((e) => e.type === 'fault_injected');
  if (!fault || r.rto_ms === null || r.steps.fence_ms === null) return null;
  const after = (pred: (e: TimelineEvent) => boolean) => events.find((e) => e.at >= fault.at && pred(e))?.at;
  const state = (name: string) => after((e) => e.type === 'state' && e.state === name);
  const requested = after((e) => e.type === 'failover_requested');
  const completed = events.find((e) => e.type === 'failover_completed');
  const timings = completed?.timings as { detectionMs?: number } | undefined;
  const claim = state('Claim');
  const stop = state('StopTraffic');
  const rpo = state('RpoGuard');
  const promote = state('Promote');
  const promoted = after((e) => e.type === 'promoted');
  const granted = after((e) => e.type === 'lease_granted');
  const served =
    granted === undefined
      ? undefined
      : events.find((e) => e.type === 'traffic_served' && e.at >= granted)?.at;
  const points = [requested, timings?.detectionMs, claim, stop, rpo, promote, promoted, granted, served];
  if (points.some((p) => p === undefined)) return null;
  const observed = requested! - timings!.detectionMs!;
  const end = fault.at + r.rto_ms;
  return {
    first_observation: observed - fault.at,
    past_debounce: requested! - observed - r.config.debounceMs,
    start_execution: claim! - requested!,
    claim_recheck: stop! - claim!,
    after_lease: rpo! - (stop! + r.steps.fence_ms),
    rpo_guard: promote! - rpo!,
    promote: promoted! - promote!,
    grant: granted! - promoted!,
    edge: served! - granted!,
    client: end - served!,
  };
}
