import { abandonClose, abandonPlan } from '#core/abandon.js';
import { LostRaceError } from '#core/errors.js';
import { failbackAbandonedDetail, failoverRequestedDetail } from '#core/events.js';
import { type InFlightPlan, inFlightPlan } from '#core/in-flight.js';
import { type Incident, inFlightEpochs, isFenced } from '#core/incident.js';
import type { Lease } from '#core/lease.js';
import { ownerOf, type PauseRecord } from '#core/ports.js';
import type { AggregateAction, AggregatorDeps } from './aggregator-deps.js';

/**
 * A failover in flight belongs to the control region whose execution claimed it; when that region dies, its
 * execution stops making progress and the incident would stay open with the lease revoked (no region may
 * write). The survivors read the open incident at every decision and, once it has shown no progress for
 * takeoverAfterMs, one of them takes it over with a conditional write and starts its own execution for it.
 * The pause, read before, holds a takeover unless the incident is fenced already (`inFlightPlan`).
 * Returns null when the decision on the votes should go on.
 */
export async function actOnIncidentInFlight(
  deps: AggregatorDeps,
  lease: Lease | null,
  pause: PauseRecord | null,
): Promise<AggregateAction | null> {
  const { config, control, clock } = deps;
  const { fromEpoch, toEpoch } = inFlightEpochs(lease?.epoch ?? 0);
  const open = await control.openIncident(config.application, fromEpoch, toEpoch);
  if (!open) return null;
  const plan = inFlightPlan(open, deps.region, clock.now(), config.takeoverAfterMs, {
    pause,
    fenced: isFenced(lease, open.epoch),
  });
  switch (plan.act) {
    case 're-publish':
      // Claimed by another delivery meanwhile: it is this region's own request, so nothing else is due.
      return (await publishOnce(deps, open)) ? { action: 're-published', incidentId: open.id } : null;
    case 'abandon':
      return abandonFailback(deps, open, plan, lease);
    case 'take-over':
      return takeOver(deps, open, plan);
    case 'hold':
      deps.log?.(plan.reason, { code: plan.code, incidentId: open.id });
      return { action: 'none', code: plan.code, reason: plan.reason };
    case 'leave':
      return null;
  }
}

async function takeOver(
  deps: AggregatorDeps,
  open: Incident,
  plan: Extract<InFlightPlan, { act: 'take-over' }>,
): Promise<AggregateAction | null> {
  const { control, clock } = deps;
  const res = await control.takeOverIncident(open, deps.region, clock.now());
  if (!res.takenOver) {
    // Another survivor won, or the execution moved after all: the next decision reads the new state.
    deps.log?.('takeover lost', { incidentId: open.id, reason: res.reason });
    return null;
  }
  const from = open.executionArn ?? open.requestedBy;
  await control.appendAudit(open.application, open.id, {
    at: clock.now(),
    step: 'takeover',
    outcome: plan.code,
    detail: {
      by: deps.region,
      from,
      status: open.status,
      progressStep: open.progressStep ?? null,
      idleMs: plan.idleMs,
      takeovers: res.incident.takeovers ?? 1,
      reason: plan.reason,
    },
  });
  // The same incident id: this region's machine claims it (requested → running) like any first execution.
  await publishOnce(deps, res.incident);
  deps.log?.(plan.reason, { code: plan.code, incidentId: open.id });
  return { action: 'taken-over', incidentId: open.id, code: plan.code, from, reason: plan.reason };
}

/**
 * A failback is not taken over (the operator decides whether to move the primary back), but one whose execution
 * stopped making progress (its control region died, or it never got claimed) must not hold its epoch: no
 * failover, automatic or manual, could be opened there. It is closed as `failed` with reopenAfter = now, only
 * while it is still bound to the execution judged stalled (or to none), so of racing regions one closes it;
 * that one audits it and puts `Failback Failed`, which pages.
 */
async function abandonFailback(
  deps: AggregatorDeps,
  open: Incident,
  verdict: Extract<InFlightPlan, { act: 'abandon' }>,
  lease: Lease | null,
): Promise<AggregateAction | null> {
  const { control, events, clock } = deps;
  const now = clock.now();
  const owner = open.executionArn ?? null;
  const plan = abandonPlan(open, verdict, lease, deps.region);
  let closed: Incident;
  try {
    closed = await control.closeIncident({
      id: open.id,
      status: 'failed',
      reason: plan.closeReason,
      now,
      reopenAfter: now,
      owner: ownerOf(owner),
    });
  } catch (err) {
    const current = await control.getIncident(open.id);
    const stillAsSeen =
      current !== null &&
      (current.status === 'requested' || current.status === 'running') &&
      current.executionArn === open.executionArn;
    if (err instanceof LostRaceError || !stillAsSeen) {
      // Claimed, closed or abandoned meanwhile: the next decision reads the new state.
      deps.log?.('abandon lost', { incidentId: open.id, reason: (err as Error).message });
      return null;
    }
    throw err;
  }
  const close = abandonClose(closed, plan, now);
  if (!close.won) {
    deps.log?.('abandon lost', { incidentId: open.id, reason: close.reason });
    return null;
  }
  await control.appendAudit(open.application, open.id, {
    at: now,
    step: 'abandon',
    outcome: plan.code,
    detail: {
      by: deps.region,
      executionArn: owner,
      status: open.status,
      progressStep: open.progressStep ?? null,
      idleMs: verdict.idleMs,
      ...plan.progress,
      reason: plan.reason,
    },
  });
  await events.publish('Failback Failed', failbackAbandonedDetail(open, plan, lease, now));
  deps.log?.(plan.reason, { code: plan.code, incidentId: open.id });
  return { action: 'abandoned', incidentId: open.id, code: plan.code, reason: plan.reason };
}

/**
 * Puts the incident's `Failover Requested` event at most once per attempt: the publication is claimed with a
 * conditional write first, and released if the put fails so that the batch's retry can put it. A crash between
 * the claim and the put leaves a requested, unclaimed incident that another region takes over.
 */
export async function publishOnce(deps: AggregatorDeps, incident: Incident): Promise<boolean> {
  const claimedAt = deps.clock.now();
  if (!(await deps.control.claimPublish(incident.id, claimedAt))) return false;
  try {
    await deps.events.publish('Failover Requested', failoverRequestedDetail(incident));
  } catch (err) {
    await deps.control.releasePublish(incident.id, claimedAt).catch(() => undefined);
    throw err;
  }
  return true;
}
