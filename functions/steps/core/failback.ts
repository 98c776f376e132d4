import { claimOutcome } from '#core/claim.js';
import { decide } from '#core/decide.js';
import { ValidationError } from '#core/errors.js';
import { drain, failbackCooldown, isOwnRetry, preconditions } from '#core/failback.js';
import { StepInputError } from '#core/failover-errors.js';
import { approvalSettings } from './claim.js';
import { fencedAt, targetEligibility } from './database.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import {
  failbackConfigIssues,
  MAX_ATTEMPTS,
  parseFailbackInput,
  parseIncidentState,
  stepResult,
  type TaskEvent,
} from './state.js';

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
  const last = await deps.control.lastCompletedFailover(input.application);
  const cooldown = failbackCooldown({
    lastMoveAt: last?.closedAt ?? null,
    cooldownMs: c.cooldownMs,
    now,
    override: input.overrideCooldown ?? false,
  });
  if (!cooldown.go) {
    throw new ValidationError('invalid failback input', [
      { field: 'overrideCooldown', message: cooldown.reason },
    ]);
  }
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
      evidence: {
        minHealthyMinutes: input.minHealthyMinutes,
        maxLagMs: input.maxLagMs,
        trafficSteps,
        ...(cooldown.override
          ? { overrideCooldown: { by: input.requestedBy, reason: input.reason, detail: cooldown.override } }
          : {}),
      },
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
      const d = claimOutcome(res, executionArn);
      return {
        outcome: d.claimed ? 'claimed' : 'duplicate',
        decision: d,
        result: { claimed: d.claimed, executionArn, reason: d.reason, settings },
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
 * Preconditions of a planned failback (core/failback.ts decides): reads the lease, the votes about the original
 * region, its database and its lag; any unmet one aborts before anything changes.
 */
export async function failbackPreconditions(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const minHealthyMinutes = Number(ev.state.minHealthyMinutes ?? 10);
  const maxLagMs = Number(ev.state.maxLagMs ?? 1000);
  return recorded(deps, owned(ev, s), 'preconditions', async () => {
    const now = deps.clock.now();
    const lease = await deps.leases.read(s.application);
    const votes = await deps.votes.list(s.application, s.to);
    const verdict = decide(votes, deps.config, now, { primary: s.to, standby: s.from });
    const db = await deps.database.status(s.to);
    const lag = await deps.lag.read(s.to);
    const lagMs = lag.lagMs;
    // The region a failover left is marked for rebuild; a reading that shows it replicating clears the mark.
    const target = await targetEligibility(s, deps, { database: db, lag });
    const d = preconditions({
      from: s.from,
      to: s.to,
      epoch: s.epoch,
      quorum: deps.config.quorum,
      minHealthyMinutes,
      maxLagMs,
      now,
      lease,
      fresh: verdict.evidence.fresh,
      database: db,
      lagMs,
      target,
    });
    // The approval comes next and always asks a person: announce the wait, so that no control region judges
    // this execution dead while it waits (a failback without progress is abandoned, functions/core/takeover.ts).
    const settings = stepResult<{ settings?: { approvalTimeoutSeconds?: number } }>(
      ev.state,
      'start',
    )?.settings;
    const approvalMs =
      (settings?.approvalTimeoutSeconds ?? approvalSettings(deps.config).approvalTimeoutSeconds) * 1000;
    return {
      outcome: d.met ? 'met' : 'unmet',
      decision: d,
      ...(d.met ? { quietUntil: deps.clock.now() + approvalMs } : {}),
      result: {
        met: d.met,
        unmet: d.unmet,
        reason: d.reason,
        evidence: {
          holder: lease?.holder ?? null,
          leaseEpoch: lease?.epoch ?? null,
          healthyVoters: d.healthyVoters,
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
    const lag = await deps.lag.read(s.to);
    const lagMs = lag.lagMs;
    const d = drain(s.to, lag, fencedAt(ev.state));
    return {
      outcome: d.done ? 'drained' : 'lagging',
      decision: d,
      audit: d.done || attempt >= MAX_ATTEMPTS.replication,
      result: { lagMs, readAt: lag.at, attempt, maxAttempts: MAX_ATTEMPTS.replication, done: d.done },
    };
  });
}
