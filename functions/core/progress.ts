/**
 * How far a failover or failback got, for the people paged when it stops: fenced, promoted, lease granted,
 * traffic moved. One answer for the two places that stop an execution (the failure path of the state
 * machine, and the aggregator abandoning a stalled failback), from whatever each can see. Pure.
 *
 * What an execution remembers is corrected by a fresh read of the lease: a revoke or a grant whose answer was
 * lost happened all the same. A promotion that was started but whose end nobody saw counts as done unless the
 * target is known not to be writable ("may have": the page errs toward the data-loss side).
 */
export interface ProgressEvidence {
  /** The epoch the incident is keyed at (the lease epoch before the fence); null when unknown. */
  epoch: number | null;
  /** The target region; null when unknown. */
  to: string | null;
  /** A fresh read of the lease, null when missing or unreadable. */
  lease: { epoch: number; holder: string | null } | null;
  /** What the execution is known to have reached, from its state or from the last step it started. */
  reached: {
    fence: boolean;
    promoteStarted: boolean;
    promoteDone: boolean;
    leaseGranted: boolean;
    trafficStarted: boolean;
  };
  /** Whether the target's database answers writable now; null when not read or unreadable. */
  targetWritable: boolean | null;
}

export interface Progress {
  fenced: boolean;
  promoted: boolean;
  leaseGranted: boolean;
  trafficMoved: boolean;
}

export function howFarItGot(e: ProgressEvidence): Progress {
  // A fence takes the lease to epoch + 1 and the grant to epoch + 2 (functions/core/lease.ts): nothing else
  // moves the epoch while the incident is open, so a higher epoch is this incident's own doing.
  const moved = e.lease !== null && e.epoch !== null && e.lease.epoch > e.epoch;
  const granted =
    e.reached.leaseGranted ||
    (e.lease !== null &&
      e.epoch !== null &&
      e.to !== null &&
      e.lease.epoch >= e.epoch + 2 &&
      e.lease.holder === e.to);
  return {
    fenced: e.reached.fence || moved,
    promoted: granted || e.reached.promoteDone || (e.reached.promoteStarted && e.targetWritable !== false),
    leaseGranted: granted,
    trafficMoved: e.reached.trafficStarted,
  };
}
