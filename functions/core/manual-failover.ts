import type { RebuildMark } from './eligibility.js';
import { eligibility } from './eligibility.js';
import type { Incident } from './incident.js';

/** How an incident says that an operator, not a quorum of watchers, decided the failover. */
export const MANUAL_VERDICT = { kind: 'manual', code: 'MANUAL' } as const;

export const operatorRequester = (who: string) => `operator:${who}`;

/** The lease as an operator's command sees it: valid means held and not yet expired on the reader's clock. */
export interface LeaseView {
  holder: string | null;
  epoch: number;
  expiresAt: number;
  valid: boolean;
}

export interface ManualFailoverSnapshot {
  regions: { primary: string; standby: string };
  lease: LeaseView | null;
  /** The newest open incident keyed at the lease epoch, one or two below: the window a failover in flight uses. */
  open: Incident | null;
  /** The rebuild mark of the region asked for: a failover left it and nothing showed it replicating since. */
  rebuild: RebuildMark | null;
  /** The end of the last completed failover or failback, and the configured cool-down. */
  cooldown: { lastMoveAt: number | null; cooldownMs: number; now: number };
}

export interface ManualFailoverAsk {
  to: string;
  /** `operator:<who>`, as the incident will record it. */
  requestedBy: string;
  /** The operator says that the writes the target never received will be lost (`--accept-data-loss`). */
  acceptDataLoss?: boolean;
  /** The operator overrides the cool-down (`--override-cooldown`); the request's reason is the reason. */
  overrideCooldown?: boolean;
}

export type ManualFailoverVerdict =
  | {
      go: true;
      code: 'MANUAL_FAILOVER';
      epoch: number;
      from: string;
      to: string;
      reason: string;
      /** What the operator overrode, for the incident's evidence (the audit trail). */
      overrides: { dataLoss: string | null; cooldown: string | null };
    }
  | { go: true; code: 'RESTART_UNSTARTED'; incident: Incident; reason: string }
  | {
      go: false;
      code:
        | 'NOT_AN_APPLICATION_REGION'
        | 'NO_LEASE'
        | 'TARGET_HOLDS_LEASE'
        | 'INCIDENT_OPEN'
        | 'TARGET_NOT_REPLICA'
        | 'INSIDE_COOLDOWN';
      reason: string;
    };

const describeOpen = (i: Incident) =>
  `incident ${i.id} (${i.kind} ${i.from} → ${i.to}) is ${i.status}` +
  (i.executionArn
    ? `, held by execution ${i.executionArn}`
    : `, requested by ${i.requestedBy} and not yet claimed`);

/**
 * Whether an operator may start a failover to `ask.to`, from what the control table holds. Pure: the decision
 * and its sentence; the caller writes the incident with the aggregator's conditional put, which settles any race.
 *
 * `from` is the other application region: the lease holder when there is one, and otherwise the region that the
 * failover takes traffic away from. The incident is keyed at the current lease epoch, so a revoked lease (a
 * failover that failed after its fence) is fenced once more from that epoch and then granted.
 */
export function manualFailoverVerdict(
  s: ManualFailoverSnapshot,
  ask: ManualFailoverAsk,
): ManualFailoverVerdict {
  const { primary, standby } = s.regions;
  if (ask.to !== primary && ask.to !== standby) {
    return {
      go: false,
      code: 'NOT_AN_APPLICATION_REGION',
      reason: `${ask.to} is not an application region: --to must be ${primary} (primary) or ${standby} (standby)`,
    };
  }
  const from = ask.to === primary ? standby : primary;
  const l = s.lease;
  if (!l) {
    // Nothing holds writes, so there is nothing to fence, and a failover would only hand a first lease to a
    // region nobody checked. The lease is created by the keeper of the configured primary on its first tick.
    return {
      go: false,
      code: 'NO_LEASE',
      reason: `no lease exists for this application: no region accepts writes, so there is nothing to fail over from. Bootstrap it: start the LeaseKeeper (or the scheduled heartbeat) in the configured primary ${primary}, which creates the lease at epoch 1 on its first healthy tick, then check with \`cutover status\`. If ${primary} cannot come up, make ${ask.to} the configured primary and start its keeper instead`,
    };
  }
  if (l && l.holder === ask.to) {
    return {
      go: false,
      code: 'TARGET_HOLDS_LEASE',
      reason: l.valid
        ? `${ask.to} already holds a valid lease at epoch ${l.epoch}: there is nothing to fail over to`
        : `${ask.to} holds the lease at epoch ${l.epoch}, expired and not renewed: its heartbeat renews it once the region is healthy, and a failover to it would find no other holder to fence`,
    };
  }
  const open = s.open;
  if (open) {
    // The command itself stopped between creating its request and starting the machine: start it again,
    // under the same execution name, rather than leave it to the aggregator's takeover.
    if (
      open.status === 'requested' &&
      !open.executionArn &&
      open.publishedAt === undefined &&
      open.verdictCode === MANUAL_VERDICT.code &&
      open.requestedBy === ask.requestedBy &&
      open.to === ask.to
    ) {
      return {
        go: true,
        code: 'RESTART_UNSTARTED',
        incident: open,
        reason: `${describeOpen(open)}: it is this operator's own request, never handed to the state machine; starting it again`,
      };
    }
    return {
      go: false,
      code: 'INCIDENT_OPEN',
      reason: `${describeOpen(open)}; wait for it to finish (\`cutover status\` shows its step): a failover whose execution stops making progress is taken over by another control region`,
    };
  }
  const target = eligibility({
    to: ask.to,
    primary: from,
    mark: s.rebuild,
    database: null,
    lag: null,
    promotedByThisIncident: false,
  });
  if (!target.eligible && !ask.acceptDataLoss) {
    return {
      go: false,
      code: 'TARGET_NOT_REPLICA',
      reason: `${target.reason}. Rebuild ${ask.to} as a replica of ${from} first, or pass --accept-data-loss to promote it as it is`,
    };
  }
  const c = s.cooldown;
  const cooling = c.lastMoveAt !== null && c.now - c.lastMoveAt < c.cooldownMs;
  if (cooling && !ask.overrideCooldown) {
    return {
      go: false,
      code: 'INSIDE_COOLDOWN',
      reason: `the last failover or failback ended ${c.now - (c.lastMoveAt ?? 0)} ms ago, inside the cool-down of ${c.cooldownMs} ms; pass --override-cooldown to go on (the --reason is recorded as the override's reason)`,
    };
  }
  const overrides = {
    dataLoss: target.eligible ? null : `DATA LOSS accepted: ${target.reason}`,
    cooldown: cooling
      ? `cool-down overridden: the last failover or failback ended ${c.now - (c.lastMoveAt ?? 0)} ms ago (cool-down ${c.cooldownMs} ms)`
      : null,
  };
  const epoch = l.epoch;
  const lease =
    l.holder === null
      ? `the lease is revoked at epoch ${epoch} with no holder`
      : `${l.holder} holds the lease at epoch ${epoch}${l.valid ? ' (valid: it is fenced first)' : ' (expired)'}`;
  return {
    go: true,
    code: 'MANUAL_FAILOVER',
    epoch,
    from,
    to: ask.to,
    reason: [
      `${lease}; failing over from ${from} to ${ask.to} at epoch ${epoch}, as requested by ${ask.requestedBy}`,
      overrides.dataLoss,
      overrides.cooldown,
    ]
      .filter((x) => x !== null)
      .join('; '),
    overrides,
  };
}
