import type { CutoverConfig } from '#core/config.js';
import { StepInputError } from '#core/failover-errors.js';
import { ownerOf } from '#core/ports.js';
import { howFarItGot } from '#core/progress.js';
import { type DnsCheck, planDnsCheck } from '#core/route.js';
import type { StepDeps } from './deps.js';
import { hookReport, hookSentence } from './hooks.js';
import { claimedBy, owned, recorded, type Trail } from './record.js';
import {
  causeMessage,
  type IncidentState,
  MAX_ATTEMPTS,
  type Poll,
  parseIncidentState,
  requireStep,
  stepResult,
  type TaskEvent,
} from './state.js';
import { withTimeout } from './timeout.js';
import { breakdown, stepTimings } from './timings.js';

export function regionConfig(config: CutoverConfig, region: string) {
  if (config.primary.region === region) return config.primary;
  if (config.standby.region === region) return config.standby;
  throw new StepInputError(
    `${region} is neither the primary (${config.primary.region}) nor the standby (${config.standby.region})`,
  );
}

/**
 * What the record's authoritative name servers answer, and whose endpoint that is. Skipped, with the reason,
 * without a resolver, without a record (no traffic section), or in mode accelerator (its addresses are static).
 */
async function checkDns(deps: StepDeps, s: IncidentState): Promise<DnsCheck> {
  const traffic = deps.config.traffic;
  if (!deps.dns) return { code: 'DNS_SKIPPED', reason: 'no DNS resolver in this runtime' };
  if (!traffic) return { code: 'DNS_SKIPPED', reason: 'traffic is not configured: no record to resolve' };
  if (traffic.mode === 'accelerator') {
    return {
      code: 'DNS_SKIPPED',
      reason: 'traffic mode accelerator: the record answers static anycast addresses',
    };
  }
  const dns = deps.dns;
  const type = traffic.recordType;
  const answer = await dns.resolve(traffic.recordName, type);
  const expected: Record<string, string[]> = {};
  for (const region of [s.to, s.from]) {
    expected[region] = await dns.valuesOf(
      new URL(regionConfig(deps.config, region).healthUrl).hostname,
      type,
    );
  }
  return planDnsCheck({
    to: s.to,
    from: s.from,
    answer: answer.code === 'ANSWERED' ? { answers: answer.answers } : { skipped: answer.reason },
    expected,
  });
}

/**
 * Verify the new primary through its public health endpoint, and the record at its zone's authoritative name
 * servers where that can be done (data plane only); polled, bounded. While DNS still answers the old region the
 * poll goes on; on its last attempt a healthy primary completes anyway, with the DNS lag in the outcome.
 */
export async function verify(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const prev = stepResult<{ attempt?: number; dnsSwitchedAt?: number | null }>(ev.state, 'verify');
  const attempt = (prev?.attempt ?? 0) + 1;
  const url = regionConfig(deps.config, s.to).healthUrl;
  return recorded(deps, owned(ev, s), 'verify', async () => {
    const [check, dns] = await Promise.all([
      deps.health.check(url),
      withTimeout(checkDns(deps, s), 10_000, {
        code: 'DNS_SKIPPED' as const,
        reason: 'the authoritative lookup took more than 10 s',
      }).catch((err: Error) => ({
        code: 'DNS_SKIPPED' as const,
        reason: `DNS lookup failed: ${err.message}`,
      })),
    ]);
    const last = attempt >= MAX_ATTEMPTS.verify;
    const dnsOld = dns.code === 'DNS_OLD_REGION';
    const done = check.healthy && (!dnsOld || last);
    const dnsSwitchedAt = prev?.dnsSwitchedAt ?? (dns.code === 'DNS_NEW_REGION' ? deps.clock.now() : null);
    return {
      outcome: !check.healthy
        ? 'unhealthy'
        : !dnsOld
          ? 'healthy'
          : last
            ? 'healthy-dns-old-region'
            : 'dns-old-region',
      audit: done || last,
      decision: dns,
      result: {
        url,
        ...check,
        dns,
        dnsSwitchedAt,
        attempt,
        maxAttempts: MAX_ATTEMPTS.verify,
        done,
      },
    };
  });
}

/** What every event of an execution's end says first: which incident, and its move from where to where. */
const about = (s: IncidentState) => ({
  incidentId: s.incidentId,
  application: s.application,
  kind: s.kind,
  from: s.from,
  to: s.to,
});

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
    const hooks = hookReport(ev.state);
    const detail = {
      ...about(s),
      epoch: lease?.epoch ?? null,
      reason: s.reason ?? '',
      completedAt: now,
      timings,
      steps: stepTimings(ev.state),
      ...(hooks ? { hooks } : {}),
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
    const traffic = trafficMoved(ev.state);
    // When the record's authoritative answer first named the new region (Verify), from the grant: the part
    // of the traffic phase that resolvers see, beside trafficMs (until the holder checks showed the switch).
    const dnsAt = stepResult<{ dnsSwitchedAt?: number | null }>(ev.state, 'verify')?.dnsSwitchedAt ?? null;
    const granted = stepResult<{ step?: { endedAt: number } }>(ev.state, 'lease')?.step?.endedAt ?? null;
    const dnsAfterGrantMs = dnsAt !== null && granted !== null ? Math.max(0, dnsAt - granted) : null;
    const notified = await notifyQuietly(
      deps,
      `${title(s.kind)} of ${s.application} from ${s.from} to ${s.to} completed in ${timings.totalMs} ms${traffic.movedByApi ? '' : `; traffic was NOT moved by API (${traffic.reason}): the health checks steer by the lease`}${hookSentence(hooks)}`,
      detail,
    );
    return {
      outcome: 'completed',
      result: { event: `${title(s.kind)} Completed`, timings, notified, traffic, dnsAfterGrantMs },
    };
  });
}

/**
 * Whether the traffic step's API calls went through. A failover's traffic change is best effort after the grant
 * (functions/steps/core/traffic.ts): the report says when it was not made, and why.
 */
function trafficMoved(state: Record<string, unknown>): { movedByApi: boolean; reason: string } {
  for (const key of ['route', 'stop'] as const) {
    const r = stepResult<{
      movedByApi?: boolean;
      error?: { message?: string };
      poll?: Record<string, unknown>;
    }>(state, key);
    const failed = r?.movedByApi === false ? r : r?.poll?.movedByApi === false ? r.poll : null;
    if (failed) {
      const message = (failed.error as { message?: string } | undefined)?.message ?? 'unknown error';
      return {
        movedByApi: false,
        reason: `${key === 'route' ? 'route-traffic' : 'stop-traffic'}: ${message}`,
      };
    }
  }
  return { movedByApi: true, reason: 'every traffic change went through' };
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
      ...about(s),
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
      result: { event: `${title(s.kind)} Aborted`, code: why.code, step: why.step, reason, fenced, notified },
    };
  });
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
    const lease = await deps.leases.read(application).catch(() => null);
    const targetWritable =
      to === null
        ? null
        : await withTimeout(
            deps.database.status(to).then(
              (d) => d.writable,
              () => null,
            ),
            3_000,
            null,
          );
    const progress = howFarItGot({
      epoch: typeof st.epoch === 'number' ? st.epoch : null,
      to,
      lease,
      reached: {
        fence: stepResult(st, 'fence') !== undefined,
        promoteStarted: stepResult(st, 'promote') !== undefined,
        promoteDone: stepResult<{ poll?: Poll }>(st, 'promote')?.poll?.done === true,
        leaseGranted: stepResult(st, 'lease') !== undefined,
        trafficStarted: stepResult(st, 'route') !== undefined,
      },
      targetWritable,
    });
    const detail = {
      incidentId,
      application,
      kind,
      from: str('from'),
      to,
      step: failedStep,
      error: failure.Error ?? 'Unknown',
      cause: causeMessage(failure.Cause),
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
    // The step, error and cause go into the audit entry too: `cutover status` reads them back from there.
    return {
      outcome: 'failed',
      result: {
        event: `${title(kind)} Failed`,
        step: failedStep,
        error: detail.error,
        cause: detail.cause,
        closed,
        notified,
        ...progress,
      },
    };
  });
}
