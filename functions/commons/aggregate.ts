import { decide, type Verdict } from '#core/decide.js';
import { MalformedItemError } from '#core/errors.js';
import { transitionDetail } from '#core/events.js';
import type { IncidentRequest, VerdictChange } from '#core/ports.js';
import { announcement, lostPut, requestPlan, rolesOf } from '#core/verdict-action.js';
import type { AggregateAction, AggregatorDeps } from './aggregator-deps.js';
import { actOnIncidentInFlight, publishOnce } from './in-flight.js';
import { type Skip, sortBatch } from './stream-record.js';

export type { AggregateAction, AggregatorDeps } from './aggregator-deps.js';

export interface AggregateResult {
  batchItemFailures: { itemIdentifier: string }[];
  skipped: Skip[];
  decisions: { application: string; verdict?: Verdict; outcome: AggregateAction }[];
}

/**
 * One stream batch: records that are not votes of this application are skipped by rule; the others only say
 * "look again", so one decision reads the current snapshot. When it fails, every counted record is reported
 * as a batch item failure and redelivered.
 */
export async function aggregate(records: readonly unknown[], deps: AggregatorDeps): Promise<AggregateResult> {
  const { counted, skipped } = sortBatch(records, deps.config.application);
  for (const s of skipped) {
    if (s.rule !== 'OTHER_APPLICATION') deps.log?.('skipped stream record', { ...s });
  }
  const result: AggregateResult = { batchItemFailures: [], skipped, decisions: [] };
  if (counted.length === 0) return result;
  try {
    result.decisions.push(await decideAndAct(deps));
  } catch (err) {
    deps.log?.('aggregation failed; the batch will be retried', { error: String(err) });
    result.batchItemFailures.push(...counted.map((itemIdentifier) => ({ itemIdentifier })));
  }
  return result;
}

/**
 * Only the stored verdict's kind is compared, as the verdict store reads only the kind of the item a change
 * replaced: an item whose code or since is missing or malformed counts as "different", so the conditional write
 * below decides (and rewrites it whole) instead of the batch being retried forever with nothing decided.
 */
async function storedVerdictKind(deps: AggregatorDeps, application: string): Promise<string | null> {
  try {
    return (await deps.control.getVerdict(application))?.kind ?? null;
  } catch (err) {
    if (err instanceof MalformedItemError) {
      deps.log?.('stored verdict is malformed; deciding as if it differed', { error: err.message });
      return null;
    }
    throw err;
  }
}

async function decideAndAct(deps: AggregatorDeps): Promise<AggregateResult['decisions'][number]> {
  const { config, control, leases, votes, events, clock } = deps;
  const application = config.application;
  const regions = [config.primary.region, config.standby.region];
  // One round trip for every read that does not depend on another: the pause is still read before anything
  // may act on it, a takeover included; the votes are the same strongly consistent reads, only issued sooner
  // (wasted when an incident is in flight). Each stage is a round trip to the tables, and a batch's decisions
  // happen one after another: two round trips in the steady state instead of four are what the aggregator's
  // throughput is made of (npm run bench:aggregator, docs/overhead.md).
  const [lease, pause, recorded, last, ...listed] = await Promise.all([
    leases.read(application),
    control.getPause(application),
    storedVerdictKind(deps, application),
    control.lastCompletedFailover(application),
    ...regions.map((r) => votes.list(application, r)),
  ]);
  // The votes are judged as of when they were read, not one round trip later (staleness, I3).
  const now = clock.now();
  const roles = rolesOf(lease, { primary: config.primary.region, standby: config.standby.region });
  const [inFlight, standbyRebuild] = await Promise.all([
    actOnIncidentInFlight(deps, lease, pause),
    roles.decide ? control.getRebuild(application, roles.standby) : Promise.resolve(null),
  ]);
  if (inFlight) return { application, outcome: inFlight };
  if (!roles.decide)
    return { application, outcome: { action: 'none', code: roles.code, reason: roles.reason } };

  const { primary, standby } = roles;
  const votesOf = (region: string) => {
    const i = regions.indexOf(region);
    return i >= 0 ? Promise.resolve(listed[i]!) : votes.list(application, region);
  };
  const [primaryVotes, standbyVotes] = await Promise.all([votesOf(primary), votesOf(standby)]);
  const verdict = decide([...primaryVotes, ...standbyVotes], config, now, {
    primary,
    standby,
    paused: pause !== null,
    standbyRebuild,
    ...(last?.closedAt === undefined ? {} : { lastFailoverAt: last.closedAt }),
  });
  deps.log?.(verdict.reason, { code: verdict.code, kind: verdict.kind });

  // The stored verdict already says this: nothing to record or announce (the conditional put would be refused).
  // A different one is written conditionally as before, so a transition still has exactly one author.
  const recording: Promise<VerdictChange> =
    recorded === verdict.kind
      ? Promise.resolve({ changed: false, previous: recorded })
      : control.recordVerdict(application, verdict.kind, verdict.code, now);
  const announce = async () => {
    const change = await recording;
    const news = announcement(verdict.kind, change);
    if (news.announce) {
      await events.publish(news.detailType, transitionDetail(application, verdict, now, change.previous));
    }
  };
  const plan = requestPlan(verdict, {
    application,
    region: deps.region,
    now,
    epoch: roles.epoch,
    primary,
    standby,
  });
  if (plan.act === 'nothing') {
    await announce();
    return { application, verdict, outcome: { action: 'none', code: plan.code, reason: plan.reason } };
  }
  // A verdict that asks for a failover is announced by its request, not by its record: the request goes out
  // alongside the record instead of one round trip after it. Either failing fails the batch, which is retried;
  // the retry finds the incident (and re-puts its event if it was never put: lostPut below).
  recording.catch(() => undefined);
  const outcome = await requestFailover(deps, plan.request, now);
  await announce();
  return { application, verdict, outcome };
}

async function requestFailover(
  deps: AggregatorDeps,
  request: IncidentRequest,
  now: number,
): Promise<AggregateAction> {
  const { control } = deps;
  const created = await control.requestIncident(request, now);
  if (created.created) {
    await publishOnce(deps, created.incident);
    return { action: 'requested', incidentId: created.incident.id };
  }
  let lost = lostPut(created.existing, deps.region);
  if (lost.act === 're-publish') {
    // The winner crashed between creating the incident and putting the event: its retry (same region) puts it.
    if (created.existing && (await publishOnce(deps, created.existing))) {
      return { action: 're-published', incidentId: lost.incidentId };
    }
    lost = lost.otherwise;
  }
  return { action: 'duplicate', incidentId: lost.incidentId, reason: lost.reason };
}
