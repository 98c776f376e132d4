import { decide } from '../../core/decide.js';
import { ValidationError } from '../../core/errors.js';
import { StepInputError } from '../../core/failover-errors.js';
import type { Incident } from '../../core/incident.js';
import type { StepDeps } from './deps.js';
import { recorded } from './record.js';
import {
  failbackConfigIssues,
  MAX_ATTEMPTS,
  parseFailbackInput,
  parseIncidentState,
  stepResult,
  type TaskEvent,
} from './state.js';
import { approvalSettings, owned } from './steps.js';

/**
 * The first state of the failback machine. It validates the operator's input and checks it against the
 * configuration and the lease before anything changes: a wrong or partial input fails here, naming the field.
 * Then it opens the failback incident (the same conditional put as a failover's, so a failback never runs
 * beside a failover or another failback at the same epoch) and claims it for this execution.
 *
 * Its result replaces the execution state, which from here on has the failover's shape.
 */
export async function startFailback(ev: TaskEvent, deps: StepDeps) {
  const input = parseFailbackInput(ev.state);
  const c = deps.config;
  const issues = failbackConfigIssues(input, c);
  if (issues.length) throw new ValidationError('invalid failback input', issues);
  const lease = await deps.leases.read(input.application);
  if (!lease || lease.holder !== input.from) {
    throw new ValidationError('invalid failback input', [
      {
        field: 'from',
        message: `must be the region that holds the lease; ${lease?.holder ?? 'nobody'} holds it at epoch ${lease?.epoch ?? '-'}`,
      },
    ]);
  }
  const executionArn = ev.executionArn;
  if (!executionArn) throw new StepInputError('the failback needs the execution ARN ($$.Execution.Id)');
  const now = deps.clock.now();
  const trafficSteps = input.trafficSteps ?? c.traffic?.failbackSteps ?? [100];
  const created = await deps.control.requestIncident(
    {
      application: input.application,
      kind: 'failback',
      epoch: lease.epoch,
      from: input.from,
      to: input.to,
      verdictKind: 'healthy',
      verdictCode: 'FAILBACK_REQUESTED',
      reason: input.reason,
      evidence: { minHealthyMinutes: input.minHealthyMinutes, maxLagMs: input.maxLagMs, trafficSteps },
      needsApproval: true,
      requestedAt: now,
      requestedBy: input.requestedBy,
    },
    now,
  );
  const base = {
    application: input.application,
    kind: 'failback' as const,
    from: input.from,
    to: input.to,
    epoch: lease.epoch,
    reason: input.reason,
    requestedAt: now,
    requestedBy: input.requestedBy,
    minHealthyMinutes: input.minHealthyMinutes,
    maxLagMs: input.maxLagMs,
    trafficSteps,
  };
  // Step Functions retries this Task on StoreError, TransientError and States.Timeout: a retry whose create or
  // claim landed (the answer was lost) finds the incident it made and carries on with it, rather than ending as
  // a Duplicate that would leave the incident open with nobody running it.
  const incident = created.created
    ? created.incident
    : created.existing && isOwnRetry(created.existing, input, executionArn)
      ? created.existing
      : null;
  if (!incident) {
    const e = created.created ? null : created.existing;
    return {
      ...base,
      incidentId: e?.id ?? null,
      start: {
        claimed: false,
        reason: e ? `incident ${e.id} (${e.kind}) is already ${e.status}` : 'lost the race for the incident',
        step: { name: 'start', startedAt: now, endedAt: deps.clock.now(), outcome: 'duplicate' },
      },
    };
  }
  const start = await recorded(
    deps,
    { application: incident.application, incidentId: incident.id },
    'start',
    async () => {
      const settings = approvalSettings(c);
      if (incident.status === 'running' && incident.executionArn === executionArn) {
        return {
          outcome: 'claimed',
          result: {
            claimed: true,
            executionArn,
            reason: `already claimed by ${executionArn} (a retried start)`,
            settings,
          },
        };
      }
      const res = await deps.control.claimIncident(incident.id, executionArn, deps.clock.now());
      // The claim landed on an earlier attempt of this Task: it is ours already.
      const ours =
        !res.claimed && res.incident?.executionArn === executionArn && res.incident.status === 'running';
      const claimed = res.claimed || ours;
      return {
        outcome: claimed ? 'claimed' : 'duplicate',
        result: {
          claimed,
          executionArn,
          reason: res.claimed ? `claimed by ${executionArn}` : res.reason,
          settings,
        },
      };
    },
  );
  return {
    ...base,
    requestedAt: incident.requestedAt,
    incidentId: incident.id,
    attempt: incident.attempt,
    start,
  };
}

/**
 * Whether an incident that already exists at the epoch is this execution's own, left by an earlier attempt of
 * StartFailback: a failback bound to this very execution, or a failback request that no execution holds and
 * that this same input made (same from, to and requester). Another execution's incident is never adopted.
 */
function isOwnRetry(
  existing: Incident,
  input: { from: string; to: string; requestedBy: string },
  executionArn: string,
): boolean {
  if (existing.kind !== 'failback') return false;
  if (existing.status === 'running') return existing.executionArn === executionArn;
  return (
    existing.status === 'requested' &&
    existing.executionArn === undefined &&
    existing.from === input.from &&
    existing.to === input.to &&
    existing.requestedBy === input.requestedBy
  );
}

/**
 * Preconditions of a planned failback: the lease is still where the operator said; the original region has
 * been healthy for N minutes by a quorum of fresh votes; its database is a replica (not writable) of the
 * current primary, with lag under the threshold. Any unmet one aborts before anything changes.
 */
export async function failbackPreconditions(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const minHealthyMinutes = Number(ev.state.minHealthyMinutes ?? 10);
  const maxLagMs = Number(ev.state.maxLagMs ?? 1000);
  return recorded(deps, owned(ev, s), 'preconditions', async () => {
    const now = deps.clock.now();
    const unmet: { code: string; reason: string }[] = [];
    const lease = await deps.leases.read(s.application);
    if (!lease || lease.holder !== s.from || lease.epoch !== s.epoch) {
      unmet.push({
        code: 'LEASE_MOVED',
        reason: `expected ${s.from} to hold the lease at epoch ${s.epoch}; found ${lease?.holder ?? 'nobody'} at ${lease?.epoch ?? '-'}`,
      });
    }
    const votes = await deps.votes.list(s.application, s.to);
    const verdict = decide(votes, deps.config, now, { primary: s.to, standby: s.from });
    const since = now - minHealthyMinutes * 60_000;
    const healthyVoters = verdict.evidence.fresh
      .filter((v) => v.healthy && v.since <= since)
      .map((v) => v.voter);
    if (healthyVoters.length < deps.config.quorum) {
      unmet.push({
        code: 'NOT_HEALTHY_LONG_ENOUGH',
        reason: `${healthyVoters.length} fresh watchers (quorum ${deps.config.quorum}) have seen ${s.to} healthy for ${minHealthyMinutes} min`,
      });
    }
    const db = await deps.database.status(s.to);
    if (db.writable) {
      unmet.push({
        code: 'NOT_REPLICATING',
        reason: `the database in ${s.to} is writable, not a replica: ${db.detail}`,
      });
    }
    const lagMs = await deps.lag.lagMs(s.to);
    if (lagMs === null || lagMs > maxLagMs) {
      unmet.push({
        code: 'LAG_OVER_THRESHOLD',
        reason: `replication lag of ${s.to} is ${lagMs === null ? 'unknown' : `${lagMs} ms`}, threshold ${maxLagMs} ms`,
      });
    }
    const met = unmet.length === 0;
    // The approval comes next and always asks a person: announce the wait, so that no control region judges
    // this execution dead while it waits (a failback without progress is abandoned, functions/core/takeover.ts).
    const settings = stepResult<{ settings?: { approvalTimeoutSeconds?: number } }>(
      ev.state,
      'start',
    )?.settings;
    const approvalMs =
      (settings?.approvalTimeoutSeconds ?? approvalSettings(deps.config).approvalTimeoutSeconds) * 1000;
    return {
      outcome: met ? 'met' : 'unmet',
      ...(met ? { quietUntil: deps.clock.now() + approvalMs } : {}),
      result: {
        met,
        unmet,
        reason: met ? 'all preconditions met' : unmet.map((u) => u.reason).join('; '),
        evidence: {
          holder: lease?.holder ?? null,
          leaseEpoch: lease?.epoch ?? null,
          healthyVoters,
          lagMs,
          database: db.detail,
        },
      },
    };
  });
}

/** After the fence of a planned failback: wait until the original region has replayed everything (lag 0). */
export async function drainReplication(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = stepResult<{ attempt?: number }>(ev.state, 'replication');
  const attempt = (prev?.attempt ?? 0) + 1;
  return recorded(deps, owned(ev, s), 'drain-replication', async () => {
    const lagMs = await deps.lag.lagMs(s.to);
    const done = lagMs === 0;
    return {
      outcome: done ? 'drained' : 'lagging',
      audit: done || attempt >= MAX_ATTEMPTS.replication,
      result: { lagMs, attempt, maxAttempts: MAX_ATTEMPTS.replication, done },
    };
  });
}
