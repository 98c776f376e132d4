import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { CutoverConfig } from '../core/config.js';
import { decide, requestsFailover, type Verdict } from '../core/decide.js';
import { LostRaceError } from '../core/errors.js';
import type { Incident } from '../core/incident.js';
import type { Lease } from '../core/lease.js';
import {
  type Clock,
  type ControlStore,
  type EventPublisher,
  type LeaseStore,
  ownerOf,
  type VoteStore,
} from '../core/ports.js';
import { takeoverVerdict } from '../core/takeover.js';
import { type Vote, voteSchema } from '../core/vote.js';

/** The part of a DynamoDB stream record the aggregator reads (aws-lambda's DynamoDBRecord shape). */
export interface StreamRecord {
  eventID?: string;
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, unknown>; SequenceNumber?: string; Keys?: Record<string, unknown> };
}

export type ParsedRecord =
  | { ok: true; id: string; vote: Vote }
  | { ok: false; id: string; rule: 'NOT_A_VOTE_EVENT' | 'MALFORMED'; reason: string };

/**
 * A record that is not a valid vote is never counted. It is skipped by an explicit rule rather than failed,
 * because redelivering it cannot make it valid; the skip is logged and reported.
 */
export function parseStreamRecord(record: unknown, index: number): ParsedRecord {
  const r = (record ?? {}) as StreamRecord;
  const id = r.dynamodb?.SequenceNumber ?? r.eventID ?? `#${index}`;
  if (r.eventName === 'REMOVE') {
    return {
      ok: false,
      id,
      rule: 'NOT_A_VOTE_EVENT',
      reason: 'REMOVE (TTL expiry or delete) carries no vote',
    };
  }
  if (r.eventName !== 'INSERT' && r.eventName !== 'MODIFY') {
    return { ok: false, id, rule: 'MALFORMED', reason: `unknown eventName ${JSON.stringify(r.eventName)}` };
  }
  const image = r.dynamodb?.NewImage;
  if (!image || typeof image !== 'object') return { ok: false, id, rule: 'MALFORMED', reason: 'no NewImage' };
  let item: Record<string, unknown>;
  try {
    item = unmarshall(image as never);
  } catch (err) {
    return {
      ok: false,
      id,
      rule: 'MALFORMED',
      reason: `NewImage is not DynamoDB JSON: ${(err as Error).message}`,
    };
  }
  const { pk, sk, ...rest } = item;
  const parsed = voteSchema.safeParse(rest);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'} ${i.message}`).join('; ');
    return { ok: false, id, rule: 'MALFORMED', reason: `not a vote: ${why}` };
  }
  const vote = parsed.data;
  if (pk !== `${vote.application}#${vote.target}` || sk !== vote.voter) {
    return {
      ok: false,
      id,
      rule: 'MALFORMED',
      reason: `key ${String(pk)}/${String(sk)} does not match the vote`,
    };
  }
  return { ok: true, id, vote };
}

export interface AggregatorDeps {
  config: CutoverConfig;
  /** The control region this aggregator runs in; recorded as the incident's requester. */
  region: string;
  votes: VoteStore;
  leases: LeaseStore;
  control: ControlStore;
  events: EventPublisher;
  clock: Clock;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export type AggregateAction =
  | { action: 'none'; code: string; reason: string }
  | { action: 'requested'; incidentId: string }
  | { action: 'duplicate'; incidentId: string | null; reason: string }
  | { action: 're-published'; incidentId: string }
  | { action: 'taken-over'; incidentId: string; code: string; from: string; reason: string }
  | { action: 'abandoned'; incidentId: string; code: 'FAILBACK_ABANDONED'; reason: string };

export interface AggregateResult {
  batchItemFailures: { itemIdentifier: string }[];
  skipped: { id: string; rule: string; reason: string }[];
  decisions: { application: string; verdict?: Verdict; outcome: AggregateAction }[];
}

export async function aggregate(records: readonly unknown[], deps: AggregatorDeps): Promise<AggregateResult> {
  const result: AggregateResult = { batchItemFailures: [], skipped: [], decisions: [] };
  const ids: string[] = [];
  for (const [i, record] of records.entries()) {
    const parsed = parseStreamRecord(record, i);
    if (!parsed.ok) {
      result.skipped.push({ id: parsed.id, rule: parsed.rule, reason: parsed.reason });
      deps.log?.('skipped stream record', { id: parsed.id, rule: parsed.rule, reason: parsed.reason });
      continue;
    }
    if (parsed.vote.application !== deps.config.application) {
      result.skipped.push({ id: parsed.id, rule: 'OTHER_APPLICATION', reason: parsed.vote.application });
      continue;
    }
    ids.push(parsed.id);
  }
  if (ids.length === 0) return result;
  try {
    // Every vote record only says "look again": the decision reads the current snapshot, not the records.
    result.decisions.push(await decideAndAct(deps));
  } catch (err) {
    deps.log?.('aggregation failed; the batch will be retried', { error: String(err) });
    result.batchItemFailures.push(...ids.map((itemIdentifier) => ({ itemIdentifier })));
  }
  return result;
}

async function decideAndAct(deps: AggregatorDeps): Promise<AggregateResult['decisions'][number]> {
  const { config, control, leases, votes, events, clock } = deps;
  const application = config.application;
  const lease = await leases.read(application);
  const takeover = await takeOverStalledIncident(deps, lease);
  if (takeover) return { application, outcome: takeover };
  if (lease && lease.holder === null) {
    return {
      application,
      outcome: {
        action: 'none',
        code: 'FENCE_IN_PROGRESS',
        reason: `the lease is revoked at epoch ${lease.epoch}: a failover holds the fence`,
      },
    };
  }
  const primary = lease?.holder ?? config.primary.region;
  const standby = primary === config.primary.region ? config.standby.region : config.primary.region;
  const [primaryVotes, standbyVotes, pause, last] = await Promise.all([
    votes.list(application, primary),
    votes.list(application, standby),
    control.getPause(application),
    control.lastCompletedFailover(application),
  ]);
  const now = clock.now();
  const verdict = decide([...primaryVotes, ...standbyVotes], config, now, {
    primary,
    standby,
    paused: pause !== null,
    ...(last?.closedAt === undefined ? {} : { lastFailoverAt: last.closedAt }),
  });
  deps.log?.(verdict.reason, { code: verdict.code, kind: verdict.kind });

  const change = await control.recordVerdict(application, verdict.kind, verdict.code, now);
  if (change.changed) {
    if (verdict.kind === 'suspect') {
      await events.publish('Primary Suspect', transitionDetail(application, verdict, now, change.previous));
    } else if (verdict.kind === 'healthy' && change.previous !== null) {
      await events.publish('Primary Recovered', transitionDetail(application, verdict, now, change.previous));
    }
  }
  if (!requestsFailover(verdict))
    return { application, verdict, outcome: { action: 'none', code: verdict.code, reason: verdict.reason } };

  const sustained = new Set(verdict.evidence.sustainedUnhealthy);
  const since = verdict.evidence.fresh.filter((v) => sustained.has(v.voter)).map((v) => v.since);
  const detectedAt = since.length ? Math.min(...since) : now;
  const epoch = lease?.epoch ?? 0;
  const request = {
    application,
    kind: 'failover' as const,
    epoch,
    from: primary,
    to: standby,
    verdictKind: verdict.kind,
    verdictCode: verdict.code,
    reason: verdict.reason,
    evidence: verdict.evidence,
    needsApproval: verdict.kind === 'failover-needs-approval',
    requestedAt: now,
    requestedBy: deps.region,
    detectedAt,
  };
  const created = await control.requestIncident(request, now);
  if (created.created) {
    await publishOnce(deps, created.incident);
    return { application, verdict, outcome: { action: 'requested', incidentId: created.incident.id } };
  }
  const existing = created.existing;
  // The winner crashed between creating the incident and putting the event: its retry (same region) puts it.
  if (
    existing &&
    existing.status === 'requested' &&
    !existing.publishedAt &&
    existing.requestedBy === deps.region &&
    (await publishOnce(deps, existing))
  ) {
    return { application, verdict, outcome: { action: 're-published', incidentId: existing.id } };
  }
  return {
    application,
    verdict,
    outcome: {
      action: 'duplicate',
      incidentId: existing?.id ?? null,
      reason: existing
        ? `incident ${existing.id} is already ${existing.status}`
        : 'lost the race for the incident',
    },
  };
}

/**
 * A failover in flight belongs to the control region whose execution claimed it; when that region dies, its
 * execution stops making progress and the incident would stay open with the lease revoked (no region may
 * write). The survivors read the open incident at every decision and, once it has shown no progress for
 * takeoverAfterMs, one of them takes it over with a conditional write and starts its own execution for it.
 * The incident in flight is keyed at the lease epoch (before the fence), one below (fenced) or two below
 * (granted, not yet completed).
 */
async function takeOverStalledIncident(
  deps: AggregatorDeps,
  lease: Lease | null,
): Promise<AggregateAction | null> {
  const { config, control, clock } = deps;
  const leaseEpoch = lease?.epoch ?? 0;
  const open = await control.openIncident(config.application, leaseEpoch - 2, leaseEpoch);
  if (!open) return null;
  // This region took it over but died (or failed) before its event was put: put it now.
  if (
    open.status === 'requested' &&
    open.takenOverFrom &&
    open.requestedBy === deps.region &&
    !open.publishedAt &&
    (await publishOnce(deps, open))
  ) {
    return { action: 're-published', incidentId: open.id };
  }
  const verdict = takeoverVerdict(open, deps.region, clock.now(), config.takeoverAfterMs);
  if (verdict.abandon) return abandonFailback(deps, open, verdict, lease);
  if (!verdict.take) return null;
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
    outcome: verdict.code,
    detail: {
      by: deps.region,
      from,
      status: open.status,
      progressStep: open.progressStep ?? null,
      idleMs: verdict.idleMs,
      takeovers: res.incident.takeovers ?? 1,
      reason: verdict.reason,
    },
  });
  // The same incident id: this region's machine claims it (requested → running) like any first execution.
  await publishOnce(deps, res.incident);
  deps.log?.(verdict.reason, { code: verdict.code, incidentId: open.id });
  return { action: 'taken-over', incidentId: open.id, code: verdict.code, from, reason: verdict.reason };
}

/** The failback's steps in the order they run (progressStep is the last one started). */
const FAILBACK_STEPS = [
  'claim',
  'start',
  'preconditions',
  'approval-failback',
  'fence',
  'drain-replication',
  'promote',
  'promote-status',
  'grant-lease',
  'route-traffic',
  'verify',
  'notify',
];

/**
 * A failback is not taken over (the operator decides whether to move the primary back), but one whose execution
 * stopped making progress (its control region died, or it never got claimed) must not hold its epoch: no
 * failover, automatic or manual, could be opened there. It is closed as `failed` with reopenAfter = now, only
 * while it is still bound to the execution judged stalled (or to none), so of racing regions one closes it;
 * that one audits it and puts `Failback Failed`, which pages. How far it got is read from the lease (fenced,
 * granted) and from the last step it started (promoted, traffic moved: "may have", for the people paged).
 */
async function abandonFailback(
  deps: AggregatorDeps,
  open: Incident,
  verdict: { code: 'FAILBACK_ABANDONED'; reason: string; idleMs: number },
  lease: Lease | null,
): Promise<AggregateAction | null> {
  const { control, events, clock } = deps;
  const now = clock.now();
  const owner = open.executionArn ?? null;
  // The region in the reason tells the winner from a region whose close was a no-op on an already failed one.
  const closeReason = `${verdict.reason}; closed by the aggregator in ${deps.region}`;
  let closed: Incident;
  try {
    closed = await control.closeIncident({
      id: open.id,
      status: 'failed',
      reason: closeReason,
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
  if (closed.closedAt !== now || closed.closeReason !== closeReason) {
    deps.log?.('abandon lost', { incidentId: open.id, reason: `already closed: ${closed.closeReason}` });
    return null;
  }
  const reached = (step: string) =>
    FAILBACK_STEPS.indexOf(open.progressStep ?? '') >= FAILBACK_STEPS.indexOf(step);
  const fenced = lease !== null && lease.epoch > open.epoch;
  const leaseGranted = lease !== null && lease.epoch >= open.epoch + 2 && lease.holder === open.to;
  const progress = {
    fenced,
    promoted: leaseGranted || reached('promote'),
    leaseGranted,
    trafficMoved: reached('route-traffic'),
  };
  const step = open.progressStep ?? 'start';
  await control.appendAudit(open.application, open.id, {
    at: now,
    step: 'abandon',
    outcome: verdict.code,
    detail: {
      by: deps.region,
      executionArn: owner,
      status: open.status,
      progressStep: open.progressStep ?? null,
      idleMs: verdict.idleMs,
      ...progress,
      reason: verdict.reason,
    },
  });
  await events.publish('Failback Failed', {
    incidentId: open.id,
    application: open.application,
    kind: 'failback',
    from: open.from,
    to: open.to,
    step,
    error: 'FailbackAbandoned',
    cause: `${verdict.reason}; the lease is ${lease ? `${lease.holder ?? 'revoked'} at epoch ${lease.epoch}` : 'missing'}`,
    ...progress,
    failedAt: now,
    timings: {
      detectionMs: null,
      decisionMs: null,
      fenceMs: null,
      promoteMs: null,
      trafficMs: null,
      verifyMs: null,
      totalMs: Math.max(0, now - open.requestedAt),
      approvalMs: null,
    },
    steps: [],
  });
  deps.log?.(verdict.reason, { code: verdict.code, incidentId: open.id });
  return { action: 'abandoned', incidentId: open.id, code: verdict.code, reason: verdict.reason };
}

/**
 * Puts the incident's `Failover Requested` event at most once per attempt: the publication is claimed with a
 * conditional write first, and released if the put fails so that the batch's retry can put it. A crash between
 * the claim and the put leaves a requested, unclaimed incident that another region takes over.
 */
async function publishOnce(deps: AggregatorDeps, incident: Incident): Promise<boolean> {
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

function transitionDetail(application: string, verdict: Verdict, at: number, previous: string | null) {
  return {
    application,
    target: verdict.evidence.target,
    kind: verdict.kind,
    previous,
    code: verdict.code,
    reason: verdict.reason,
    evidence: verdict.evidence,
    at,
  };
}

export function failoverRequestedDetail(
  incident: import('../core/incident.js').Incident,
): Record<string, unknown> {
  return {
    incidentId: incident.id,
    application: incident.application,
    kind: incident.kind,
    from: incident.from,
    to: incident.to,
    epoch: incident.epoch,
    attempt: incident.attempt,
    needsApproval: incident.needsApproval,
    verdictKind: incident.verdictKind,
    verdictCode: incident.verdictCode,
    reason: incident.reason,
    evidence: incident.evidence,
    detectedAt: incident.detectedAt ?? incident.requestedAt,
    requestedAt: incident.requestedAt,
    requestedBy: incident.requestedBy,
  };
}
