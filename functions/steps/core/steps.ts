import type { CutoverConfig } from '../../core/config.js';
import { decide } from '../../core/decide.js';
import { ValidationError } from '../../core/errors.js';
import { LeaseLostError, LeaseNotSafeYetError, StepInputError } from '../../core/failover-errors.js';
import type { FenceActionResult } from '../../core/failover-ports.js';
import type { Incident } from '../../core/incident.js';
import { safeToTakeAt } from '../../core/lease.js';
import { MANUAL_VERDICT } from '../../core/manual-failover.js';
import { ownerOf } from '../../core/ports.js';
import type { StepDeps } from './deps.js';
import { recorded, type Trail } from './record.js';
import {
  type FailoverInput,
  type IncidentState,
  MAX_ATTEMPTS,
  POLL_SECONDS,
  type Poll,
  parseFailoverInput,
  parseIncidentState,
  requireStep,
  stepResult,
  type TaskEvent,
} from './state.js';
import { breakdown, stepTimings } from './timings.js';

/**
 * The steps of both state machines. Each one is safe to run twice with the same input (Step Functions
 * retries a Task with its original input): it reads where it stands before it acts.
 */

const trail = (s: IncidentState): Trail => ({ application: s.application, incidentId: s.incidentId });

/**
 * The execution that the claim bound to the incident, as the claim stored it in the state (`claim` for a
 * failover, `start` for a failback); undefined when this execution never claimed it.
 */
export function claimedBy(ev: TaskEvent): string | undefined {
  const claim =
    stepResult<{ claimed?: boolean; executionArn?: string }>(ev.state, 'claim') ??
    stepResult<{ claimed?: boolean; executionArn?: string }>(ev.state, 'start');
  if (claim?.claimed !== true) return undefined;
  return claim.executionArn ?? ev.executionArn;
}

/** The trail of a step after the claim: it runs only while the incident is still bound to this execution. */
export function owned(ev: TaskEvent, s: IncidentState): Trail {
  const owner = claimedBy(ev);
  if (!owner) throw new StepInputError(`execution state has no claim of incident ${s.incidentId}`);
  return { ...trail(s), owner };
}

export function regionConfig(config: CutoverConfig, region: string) {
  if (config.primary.region === region) return config.primary;
  if (config.standby.region === region) return config.standby;
  throw new StepInputError(
    `${region} is neither the primary (${config.primary.region}) nor the standby (${config.standby.region})`,
  );
}

/** Step Functions' settings for the approval task, derived from the configuration. */
export function approvalSettings(config: CutoverConfig) {
  const timeoutSeconds = config.approval.timeoutSeconds;
  // HeartbeatSeconds must be below TimeoutSeconds (Task state reference). Nothing heartbeats while a person
  // decides, so it sits just under the timeout; the approval function may shorten it once it heartbeats.
  return {
    approvalTimeoutSeconds: timeoutSeconds,
    approvalHeartbeatSeconds: Math.max(1, timeoutSeconds - 1),
  };
}

/** Claim: requested → running, bound to this execution. A second execution for the incident ends here (I4). */
/** The fields of a failover input that must equal the stored incident's; each difference names its field. */
export function inputMismatch(input: FailoverInput, stored: Incident): { field: string; message: string }[] {
  const pairs: [string, unknown, unknown][] = [
    ['application', input.application, stored.application],
    ['kind', input.kind, stored.kind],
    ['epoch', input.epoch, stored.epoch],
    ['attempt', input.attempt, stored.attempt],
    ['from', input.from, stored.from],
    ['to', input.to, stored.to],
    ['needsApproval', input.needsApproval, stored.needsApproval],
    ['verdictKind', input.verdictKind, stored.verdictKind],
  ];
  return pairs
    .filter(([, a, b]) => a !== b)
    .map(([field, a, b]) => ({
      field,
      message: `is ${JSON.stringify(a)} but the incident says ${JSON.stringify(b)}`,
    }));
}

export async function claimIncident(ev: TaskEvent, deps: StepDeps) {
  const input = parseFailoverInput(ev.state);
  const executionArn = ev.executionArn;
  if (!executionArn) throw new StepInputError('claim needs the execution ARN ($$.Execution.Id)');
  return recorded(deps, trail(input), 'claim', async () => {
    const now = deps.clock.now();
    // The stored incident is the truth: an input typed into the console that disagrees with it (to skip the
    // approval or the re-check, or to aim at another region) is refused before anything changes.
    const stored = await deps.control.getIncident(input.incidentId);
    if (stored) {
      const issues = inputMismatch(input, stored);
      if (issues.length)
        throw new ValidationError(`the input does not match incident ${input.incidentId}`, issues);
    }
    const res = await deps.control.claimIncident(input.incidentId, executionArn, now);
    const settings = approvalSettings(deps.config);
    // An approval wait is no stall: the other control regions must not take the incident over during it.
    const quietUntil = input.needsApproval ? now + settings.approvalTimeoutSeconds * 1000 : undefined;
    const taken = res.claimed ? res.incident.takenOverFrom : undefined;
    if (res.claimed && quietUntil !== undefined) {
      await deps.control.recordProgress(input.incidentId, executionArn, {
        at: now,
        step: 'claim',
        quietUntil,
      });
    }
    if (res.claimed) {
      return {
        outcome: 'claimed',
        result: {
          claimed: true,
          executionArn,
          reason: `claimed by ${executionArn}${taken ? ` (taken over from ${taken})` : ''}`,
          settings,
        },
      };
    }
    // Step Functions retried a claim whose answer was lost: it is ours already.
    if (res.incident?.status === 'running' && res.incident.executionArn === executionArn) {
      return {
        outcome: 'claimed',
        result: { claimed: true, executionArn, reason: res.reason, settings },
      };
    }
    return { outcome: 'duplicate', result: { claimed: false, executionArn, reason: res.reason, settings } };
  });
}

/**
 * What an unanswered approval leads to. Only an ambiguous failover may proceed by policy; accepting data loss
 * or moving back to the original region always needs a person, so those abort.
 */
export function approvalTimeoutAction(
  machine: string,
  approval: string,
  configured: 'abort' | 'proceed',
): 'abort' | 'proceed' {
  return machine === 'failback' || approval === 'data-loss' ? 'abort' : configured;
}

/** After an approval timed out: the configured policy decides, and the decision is reported. */
export async function approvalTimedOut(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const info = stepResult<{ kind?: string }>(ev.state, 'approvalTimeout');
  const kind = info?.kind ?? 'failover';
  const configured = approvalTimeoutAction(
    s.kind,
    kind,
    deps.approvalTimeoutPolicy ?? deps.config.approval.timeoutPolicy,
  );
  return recorded(deps, owned(ev, s), 'approval-timeout', async () => {
    let policy = configured;
    let why = `the timeout policy is ${configured}`;
    if (configured === 'proceed') {
      // Proceeding without a person is an automatic failover: it needs what any automatic failover needs (I3).
      const now = deps.clock.now();
      const [pause, votes] = await Promise.all([
        deps.control.getPause(s.application),
        deps.votes.list(s.application, s.from),
      ]);
      const verdict = decide(votes, deps.config, now, { primary: s.from, standby: s.to });
      const sustained = verdict.evidence.sustainedUnhealthy.length;
      if (pause) {
        policy = 'abort';
        why = `the timeout policy is proceed, but automatic failover is paused by ${pause.pausedBy} (${pause.reason})`;
      } else if (sustained < deps.config.quorum) {
        policy = 'abort';
        why = `the timeout policy is proceed, but only ${sustained} fresh watchers see ${s.from} unhealthy over the debounce window (quorum ${deps.config.quorum})`;
      }
    }
    return {
      outcome: policy,
      result: {
        action: policy,
        kind,
        reason: `nobody answered the ${kind} approval within ${deps.config.approval.timeoutSeconds} s; ${why}`,
      },
    };
  });
}

/** Re-check: a quorum of fresh watchers sees the primary healthy again → a false alarm, abort before acting. */
export async function recheckVotes(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(deps, owned(ev, s), 'recheck', async () => {
    // An operator's failover was decided by a person, not by the votes: `from` being healthy is no false alarm
    // then (giving the lease back to a recovered primary while the standby is up is one such case).
    if (ev.state.verdictKind === MANUAL_VERDICT.kind) {
      return {
        outcome: 'manual',
        result: {
          recovered: false,
          code: MANUAL_VERDICT.code,
          reason: `requested by ${String(ev.state.requestedBy)}: an operator decided, the votes are not rechecked`,
          healthyVoters: [],
        },
      };
    }
    const now = deps.clock.now();
    const votes = await deps.votes.list(s.application, s.from);
    const verdict = decide(votes, deps.config, now, { primary: s.from, standby: s.to });
    const healthyVoters = verdict.evidence.fresh.filter((v) => v.healthy).map((v) => v.voter);
    const recovered = healthyVoters.length >= deps.config.quorum;
    const reason = recovered
      ? `false alarm: ${healthyVoters.length} fresh watchers (quorum ${deps.config.quorum}) see ${s.from} healthy again (${healthyVoters.join(', ')})`
      : `still failing over: ${verdict.reason}`;
    return {
      outcome: recovered ? 'false-alarm' : 'proceed',
      result: { recovered, code: recovered ? 'PRIMARY_RECOVERED' : verdict.code, reason, healthyVoters },
    };
  });
}

const newPoll = (maxAttempts: number, done = false): Poll => ({ attempt: 0, maxAttempts, done });

/** Takes the old primary out of DNS rotation; the status loop waits for INSYNC (the drain). */
export async function stopTraffic(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(deps, owned(ev, s), 'stop-traffic', async () => {
    const change = await deps.traffic.stopTraffic(s.from);
    return {
      outcome: change.changeId ? 'submitted' : 'nothing-to-change',
      result: { ...change, poll: newPoll(MAX_ATTEMPTS.traffic, change.changeId === null) },
    };
  });
}

/** One poll of a Route 53 change; `of` names the step whose change it is (stop or route). */
export async function trafficStatus(ev: TaskEvent & { of?: string }, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const of = ev.of === 'stop' || ev.of === 'route' ? ev.of : null;
  if (!of)
    throw new StepInputError(`traffic status needs "of": "stop" or "route", got ${JSON.stringify(ev.of)}`);
  const change = requireStep<{ changeId: string | null; poll: Poll }>(ev.state, of);
  return recorded(deps, owned(ev, s), `${of}-traffic-status`, async () => {
    const attempt = change.poll.attempt + 1;
    const status = change.changeId ? await deps.traffic.changeStatus(change.changeId) : 'INSYNC';
    const done = status === 'INSYNC';
    return {
      outcome: status.toLowerCase(),
      audit: done || attempt >= change.poll.maxAttempts,
      result: { attempt, maxAttempts: change.poll.maxAttempts, done, status, changeId: change.changeId },
    };
  });
}

/** Step Functions waits to whole seconds and truncates milliseconds (Wait state reference): round up. */
export function waitTimestamp(atMs: number): string {
  return new Date(Math.ceil(atMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The fence: revoke the lease (epoch + 1, no holder), so the old primary's renewals and guarded writes stop,
 * then hand the Wait state the instant the old lease is over on any clock (expiresAt + maxSkew).
 */
export async function fence(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(deps, owned(ev, s), 'fence', async () => {
    const lease = await deps.leases.read(s.application);
    let fencedEpoch: number | null;
    let expiresAt: number;
    let previousHolder: string | null;
    let outcome: string;
    if (!lease) {
      fencedEpoch = null;
      expiresAt = deps.clock.now();
      previousHolder = null;
      outcome = 'no-lease';
    } else if (lease.epoch === s.epoch) {
      if (lease.holder !== null && lease.holder !== s.from) {
        throw new LeaseLostError(`lease epoch ${lease.epoch} is held by ${lease.holder}, not by ${s.from}`);
      }
      const res = await deps.leases.revoke(s.application, s.epoch);
      if (!res.ok) {
        throw new LeaseLostError(
          `could not revoke the lease at epoch ${s.epoch}: ${res.code}, now epoch ${res.current?.epoch} held by ${res.current?.holder}`,
        );
      }
      fencedEpoch = res.lease.epoch;
      expiresAt = res.lease.expiresAt;
      previousHolder = lease.holder;
      outcome = 'revoked';
    } else if (lease.epoch === s.epoch + 1 && lease.holder === null) {
      // Revoked by an earlier attempt of this step whose answer was lost, or by the execution this one took
      // the incident over from; only the execution bound to the incident gets here (I4). The old lease is
      // waited out all the same: nothing says the earlier attempt's wait ever ran.
      fencedEpoch = lease.epoch;
      expiresAt = lease.expiresAt;
      previousHolder = s.from;
      outcome = 'already-revoked';
    } else if (lease.epoch === s.epoch + 2 && lease.holder === s.to) {
      // Granted already, by the execution this one took over: the incident keyed at epoch e is the only one
      // that can grant e + 2 (a revoked lease cannot be acquired), so the fence and its wait are behind us.
      fencedEpoch = s.epoch + 1;
      expiresAt = deps.clock.now();
      previousHolder = s.from;
      outcome = 'already-granted';
    } else {
      throw new LeaseLostError(
        `the lease moved: expected epoch ${s.epoch}, found epoch ${lease.epoch} held by ${lease.holder ?? 'nobody'}`,
      );
    }
    const safeAt =
      lease && outcome !== 'already-granted' ? safeToTakeAt({ expiresAt }, deps.config.lease) : expiresAt;
    // Active fence actions call into the old region, which may be down: bounded, and never a reason to stop.
    const actions: FenceActionResult[] =
      s.kind === 'failover' && deps.fenceActions
        ? await withTimeout(deps.fenceActions.fence(s.from), deps.fenceActionTimeoutMs ?? 10_000, [
            { target: s.from, ok: false, detail: 'fence actions timed out' },
          ])
        : [];
    return {
      outcome,
      quietUntil: safeAt,
      result: {
        fencedEpoch,
        previousHolder,
        expiresAt,
        safeToTakeAt: safeAt,
        waitUntil: waitTimestamp(safeAt),
        actions,
      },
    };
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([
      p.catch((e: Error) => [{ target: 'fence', ok: false, detail: e.message }] as T),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export type RpoAction = 'promote' | 'wait' | 'ask' | 'abort' | 'proceed';

/** Pure: what to do with a lag reading. Unknown lag is treated as over budget, never as zero. */
export function rpoAction(
  lagMs: number | null,
  budgetMs: number,
  attempt: number,
  maxAttempts: number,
  policy: CutoverConfig['approval']['ambiguousPolicy'],
): RpoAction {
  if (lagMs !== null && lagMs <= budgetMs) return 'promote';
  if (attempt < maxAttempts) return 'wait';
  return policy === 'ask' ? 'ask' : policy;
}

/**
 * RPO guard, after the fence: no new writes reach the old primary, so the lag can only shrink. Polls a few
 * times; still over budget (or unknown) → the configured policy: ask a person, abort, or proceed.
 */
export async function rpoGuard(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = stepResult<{ attempt?: number }>(ev.state, 'rpo');
  const attempt = (prev?.attempt ?? 0) + 1;
  return recorded(deps, owned(ev, s), 'rpo-guard', async () => {
    const lagMs = await deps.lag.lagMs(s.to);
    const budgetMs = deps.config.rpoBudgetMs;
    // Promoted already by the execution this one took over: the data-loss decision was taken and cannot be
    // undone, and a promoted database has no replication lag to read (unknown, so never within budget).
    const db = lagMs === null || lagMs > budgetMs ? await deps.database.status(s.to) : null;
    if (db?.writable) {
      return {
        outcome: 'already-promoted',
        result: {
          lagMs,
          budgetMs,
          attempt,
          maxAttempts: MAX_ATTEMPTS.rpo,
          action: 'promote' as RpoAction,
          reason: `the database in ${s.to} is writable already (${db.detail}); promoted by an earlier execution`,
        },
      };
    }
    const policy = deps.config.approval.ambiguousPolicy;
    const action = rpoAction(lagMs, budgetMs, attempt, MAX_ATTEMPTS.rpo, policy);
    const lag = lagMs === null ? 'unknown' : `${lagMs} ms`;
    const reason =
      action === 'promote'
        ? `replication lag ${lag} is within the RPO budget of ${budgetMs} ms`
        : `replication lag ${lag} is over the RPO budget of ${budgetMs} ms after ${attempt} readings${action === 'wait' ? '' : `; policy ${policy}`}`;
    return {
      outcome: action,
      audit: action !== 'wait',
      ...(action === 'ask'
        ? { quietUntil: deps.clock.now() + deps.config.approval.timeoutSeconds * 1000 }
        : {}),
      result: { lagMs, budgetMs, attempt, maxAttempts: MAX_ATTEMPTS.rpo, action, reason },
    };
  });
}

/** Promote the database of the target region: unplanned for a failover, planned (no data loss) for a failback. */
export async function promote(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const mode = s.kind === 'failback' ? 'planned' : 'unplanned';
  const maxAttempts = Math.ceil((deps.config.database?.promoteTimeoutSeconds ?? 900) / POLL_SECONDS.promote);
  return recorded(deps, owned(ev, s), 'promote', async () => {
    // A retried promote must not promote twice: RDS refuses PromoteReadReplica on a non-replica.
    const before = await deps.database.status(s.to);
    if (before.writable) {
      return {
        outcome: 'already-writable',
        result: {
          mode,
          detail: before.detail,
          poll: { ...newPoll(maxAttempts, true), detail: before.detail },
        },
      };
    }
    const res = await deps.database.promote(s.to, mode);
    return { outcome: 'submitted', result: { mode, detail: res.detail, poll: newPoll(maxAttempts) } };
  });
}

export async function promoteStatus(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = requireStep<{ poll: Poll }>(ev.state, 'promote');
  return recorded(deps, owned(ev, s), 'promote-status', async () => {
    const attempt = prev.poll.attempt + 1;
    const st = await deps.database.status(s.to);
    return {
      outcome: st.writable ? 'writable' : 'not-writable',
      audit: st.writable || attempt >= prev.poll.maxAttempts,
      result: { attempt, maxAttempts: prev.poll.maxAttempts, done: st.writable, detail: st.detail },
    };
  });
}

/** Grant the lease to the new primary at the fenced epoch + 1; only possible once the old lease is over. */
export async function grantLease(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const f = requireStep<{ fencedEpoch: number | null }>(ev.state, 'fence');
  return recorded(deps, owned(ev, s), 'grant-lease', async () => {
    const res =
      f.fencedEpoch === null
        ? await deps.leases.acquire(s.application, s.to, null)
        : await deps.leases.grant(s.application, s.to, f.fencedEpoch);
    if (res.ok) {
      return {
        outcome: 'granted',
        result: { holder: res.lease.holder, epoch: res.lease.epoch, expiresAt: res.lease.expiresAt },
      };
    }
    const cur = res.current;
    const expected = (f.fencedEpoch ?? 0) + 1;
    if (cur && cur.holder === s.to && cur.epoch === expected) {
      return {
        outcome: 'granted',
        result: { holder: cur.holder, epoch: cur.epoch, expiresAt: cur.expiresAt },
      };
    }
    if (res.code === 'NOT_SAFE_YET') {
      throw new LeaseNotSafeYetError(
        `the revoked lease of epoch ${cur?.epoch} expires at ${cur?.expiresAt}; not safe on this clock at ${deps.clock.now()}`,
      );
    }
    throw new LeaseLostError(
      `could not grant the lease to ${s.to}: ${res.code}, lease at epoch ${cur?.epoch} held by ${cur?.holder ?? 'nobody'}`,
    );
  });
}

/**
 * Route traffic to the new primary, in the weighted steps of a failback or all at once for a failover. It
 * re-reads the lease first: traffic never goes to a region that does not hold it.
 */
export async function routeTraffic(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const steps =
    s.kind === 'failback'
      ? ((ev.state.trafficSteps as number[] | undefined) ?? deps.config.traffic?.failbackSteps ?? [100])
      : [100];
  const prev = stepResult<{ index: number }>(ev.state, 'route');
  const index = prev ? prev.index + 1 : 0;
  const weight = steps[index];
  if (weight === undefined) throw new StepInputError(`no traffic step ${index} in ${JSON.stringify(steps)}`);
  return recorded(deps, owned(ev, s), 'route-traffic', async () => {
    const lease = await deps.leases.read(s.application);
    if (!lease || lease.holder !== s.to) {
      throw new LeaseLostError(
        `${s.to} does not hold the lease (epoch ${lease?.epoch} held by ${lease?.holder ?? 'nobody'}); no traffic goes to it`,
      );
    }
    const change = await deps.traffic.routeTo(s.to, weight);
    return {
      outcome: `weight-${weight}`,
      result: {
        index,
        weight,
        last: index === steps.length - 1,
        ...change,
        poll: newPoll(MAX_ATTEMPTS.traffic, change.changeId === null),
      },
    };
  });
}

/** Verify the new primary through its public health endpoint; polled, bounded. */
export async function verify(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = stepResult<{ attempt?: number }>(ev.state, 'verify');
  const attempt = (prev?.attempt ?? 0) + 1;
  const url = regionConfig(deps.config, s.to).healthUrl;
  return recorded(deps, owned(ev, s), 'verify', async () => {
    const check = await deps.health.check(url);
    return {
      outcome: check.healthy ? 'healthy' : 'unhealthy',
      audit: check.healthy || attempt >= MAX_ATTEMPTS.verify,
      result: { url, ...check, attempt, maxAttempts: MAX_ATTEMPTS.verify, done: check.healthy },
    };
  });
}

const title = (kind: string) => (kind === 'failback' ? 'Failback' : 'Failover');

async function notifyQuietly(
  deps: StepDeps,
  message: string,
  detail: Record<string, unknown>,
): Promise<boolean> {
  // Slack being down must not turn a finished failover into a failed one; the event on the bus is the record.
  try {
    await deps.notifier.notify(message, detail);
    return true;
  } catch (err) {
    deps.log?.('notify failed', { error: (err as Error).message });
    return false;
  }
}

/** Notify: close the incident as completed, then put the event with every step's timing (I5). */
export async function complete(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(deps, owned(ev, s), 'notify', async () => {
    const now = deps.clock.now();
    const timings = breakdown(ev.state, now);
    const lease = stepResult<{ epoch: number }>(ev.state, 'lease');
    const detail = {
      incidentId: s.incidentId,
      application: s.application,
      kind: s.kind,
      from: s.from,
      to: s.to,
      epoch: lease?.epoch ?? null,
      reason: s.reason ?? '',
      completedAt: now,
      timings,
      steps: stepTimings(ev.state),
    };
    // Close first: a retry after a failed publish finds it closed (a no-op) and publishes again.
    await deps.control.closeIncident({
      id: s.incidentId,
      status: 'completed',
      reason: `${s.kind} to ${s.to} verified`,
      now,
      owner: ownerOf(claimedBy(ev)),
    });
    await deps.events.publish(`${title(s.kind)} Completed`, detail);
    const notified = await notifyQuietly(
      deps,
      `${title(s.kind)} of ${s.application} from ${s.from} to ${s.to} completed in ${timings.totalMs} ms`,
      detail,
    );
    return { outcome: 'completed', result: { event: `${title(s.kind)} Completed`, timings, notified } };
  });
}

/** Abort: nothing more is done; the incident is closed as aborted with why, and reported. */
export async function abort(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const why = requireStep<{ code: string; step: string; reason?: string }>(ev.state, 'abortWith');
  return recorded(deps, owned(ev, s), 'abort', async () => {
    const now = deps.clock.now();
    const fenced = stepResult(ev.state, 'fence') !== undefined;
    const reason = why.reason || why.code;
    // A failback abort may be retried at once by the operator; an aborted failover waits out reopenAfterMs.
    const reopenAfter = s.kind === 'failback' ? now : now + deps.config.reopenAfterMs;
    await deps.control.closeIncident({
      id: s.incidentId,
      status: 'aborted',
      reason: `${why.code}: ${reason}`,
      now,
      reopenAfter,
      owner: ownerOf(claimedBy(ev)),
    });
    const detail = {
      incidentId: s.incidentId,
      application: s.application,
      kind: s.kind,
      from: s.from,
      to: s.to,
      code: why.code,
      step: why.step,
      reason,
      fenced,
      abortedAt: now,
      timings: breakdown(ev.state, now),
      steps: stepTimings(ev.state),
    };
    await deps.events.publish(`${title(s.kind)} Aborted`, detail);
    const warning = fenced
      ? ' The lease was already revoked: no region may write until it is granted again.'
      : '';
    const notified = await notifyQuietly(
      deps,
      `${title(s.kind)} of ${s.application} aborted at ${why.step}: ${reason}.${warning}`,
      detail,
    );
    return {
      outcome: why.code,
      result: { event: `${title(s.kind)} Aborted`, code: why.code, fenced, notified },
    };
  });
}

/** The Lambda error's Cause is a JSON string ({errorType, errorMessage, trace}); locally it is the message. */
export function causeMessage(cause: unknown): string {
  if (typeof cause !== 'string') return JSON.stringify(cause ?? null);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  return cause;
}

/**
 * The failure path: report which step failed and why, close the incident as failed, and page. The event says
 * how far the execution got (fenced, promoted, lease granted, traffic moved), because that is what the
 * people paged need to know first.
 */
export async function reportFailure(ev: TaskEvent, deps: StepDeps) {
  const st = ev.state;
  const str = (k: string) => (typeof st[k] === 'string' ? (st[k] as string) : null);
  const incidentId = str('incidentId');
  const application = str('application') ?? deps.config.application;
  const kind = str('kind') === 'failback' ? 'failback' : 'failover';
  // The failure Pass states put {step, Error, Cause} here: from a Catch, or from a poll out of attempts.
  const failure = stepResult<{ step?: string; Error?: string; Cause?: unknown }>(st, 'failure') ?? {};
  const error = { Error: failure.Error, Cause: failure.Cause };
  const failedStep = failure.step ?? 'unknown';
  // A claimed incident is reported only while it is still this execution's: a superseded execution's
  // failure (ExecutionSupersededError, or anything after it) must not close the incident it lost.
  const owner = claimedBy(ev);
  const t: Trail | null = incidentId ? { application, incidentId, ...(owner ? { owner } : {}) } : null;
  return recorded(deps, t, 'report-failure', async () => {
    const now = deps.clock.now();
    // What the execution remembers, corrected by a fresh read: a revoke or a promotion whose answer was lost
    // (the call landed, its retries ran out) happened all the same, and the page must say so.
    const to = str('to');
    const epoch = typeof st.epoch === 'number' ? st.epoch : null;
    const lease = await deps.leases.read(application).catch(() => null);
    const moved = lease !== null && epoch !== null && lease.epoch > epoch;
    const writable =
      to === null
        ? false
        : await Promise.race([
            deps.database.status(to).then(
              (d) => d.writable,
              () => false,
            ),
            new Promise<boolean>((r) => setTimeout(() => r(false), 3_000).unref?.()),
          ]);
    const progress = {
      fenced: stepResult(st, 'fence') !== undefined || moved,
      promoted:
        stepResult(st, 'lease') !== undefined ||
        stepResult<{ poll?: Poll }>(st, 'promote')?.poll?.done === true ||
        (stepResult(st, 'promote') !== undefined && writable),
      leaseGranted: stepResult(st, 'lease') !== undefined || (moved && lease?.holder === to),
      trafficMoved: stepResult(st, 'route') !== undefined,
    };
    const detail = {
      incidentId,
      application,
      kind,
      from: str('from'),
      to: str('to'),
      step: failedStep,
      error: error.Error ?? 'Unknown',
      cause: causeMessage(error.Cause),
      ...progress,
      failedAt: now,
      timings: breakdown(st, now),
      steps: stepTimings(st),
    };
    let closed = false;
    if (incidentId) {
      const incident = await deps.control.getIncident(incidentId);
      // Unclaimed (the claim itself failed): only a request that no execution holds is closed.
      const closable = owner
        ? incident?.status === 'running'
        : incident?.status === 'requested' && !incident.executionArn;
      if (incident && closable) {
        // A failed failover may be requested again after reopenAfterMs (it pages each time); a failback is
        // the operator's to restart at once.
        await deps.control.closeIncident({
          id: incidentId,
          status: 'failed',
          reason: `${failedStep}: ${detail.error}: ${detail.cause}`,
          now,
          reopenAfter: kind === 'failback' ? now : now + deps.config.reopenAfterMs,
          owner: ownerOf(owner),
        });
        closed = true;
      }
    }
    await deps.events.publish(`${title(kind)} Failed`, detail);
    const notified = await notifyQuietly(
      deps,
      `${title(kind)} of ${application} FAILED at ${failedStep}: ${detail.error}: ${detail.cause}`,
      detail,
    );
    return { outcome: 'failed', result: { event: `${title(kind)} Failed`, closed, notified, ...progress } };
  });
}
