import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { abandonClose, abandonPlan, FAILBACK_ORDER, failbackReached } from '../../functions/core/abandon.js';
import { type DecisionContext, decide, type Verdict } from '../../functions/core/decide.js';
import { inFlightPlan } from '../../functions/core/in-flight.js';
import { type Incident, incidentId } from '../../functions/core/incident.js';
import type { IncidentRequest } from '../../functions/core/ports.js';
import { announcement, lostPut, requestPlan, rolesOf } from '../../functions/core/verdict-action.js';
import type { Vote } from '../../functions/core/vote.js';
import { exampleConfig, vote } from '../support/fixtures.js';

const config = exampleConfig();
const NOW = 1_800_000_000_000;
const AFTER = config.takeoverAfterMs;
const P = config.primary.region;
const S = config.standby.region;
const REGIONS = { primary: P, standby: S };
const [HERE, THERE] = config.controlRegions as [string, string];
const ARN = 'arn:aws:states:us-east-2:123456789012:execution:cutover-failback:abc';

const at = (region: string, epoch = 0) => ({ application: 'orders', region, now: NOW, epoch, ...REGIONS });

/** Votes about the primary (some down for the whole window) and the standby (healthy), all fresh. */
const snapshot = (down: string[]): Vote[] => [
  ...config.watchers.map((voter) =>
    down.includes(voter)
      ? vote({ voter, target: P, healthy: false, streakSince: NOW - 61_000, detail: 'refused' }, NOW)
      : vote({ voter, target: P }, NOW),
  ),
  ...config.watchers.map((voter) => vote({ voter, target: S }, NOW)),
];
const quorumDown = decide(snapshot(config.watchers), config, NOW, { primary: P, standby: S });

/** The incident this region requests at epoch 1 when a quorum sees the primary down. */
function incident(partial: Partial<Incident> = {}): Incident {
  const plan = requestPlan(quorumDown, at(HERE, 1));
  if (plan.act !== 'request') throw new Error('a quorum down must request');
  return { ...fromRequest(plan.request, incidentId('orders', 1, 1)), ...partial };
}

/** Any snapshot of watcher votes: each watcher may say anything about either region, or nothing, fresh. */
const anyVotes = fc
  .array(
    fc.record({
      voter: fc.constantFrom(...config.watchers),
      target: fc.constantFrom(P, S),
      healthy: fc.boolean(),
      streakMs: fc.nat(120_000),
      ageMs: fc.nat(config.voteStalenessMs),
    }),
    { maxLength: 12 },
  )
  .map((rows) =>
    rows.map((r, i) =>
      vote(
        {
          voter: r.voter,
          target: r.target,
          healthy: r.healthy,
          seq: i + 1,
          observedAt: NOW - r.ageMs,
          streakSince: NOW - r.ageMs - r.streakMs,
        },
        NOW,
      ),
    ),
  );
const anyPolicy = fc.constantFrom('ask', 'abort', 'proceed') as fc.Arbitrary<'ask' | 'abort' | 'proceed'>;
const withPolicy = (ambiguousPolicy: 'ask' | 'abort' | 'proceed') => ({
  ...config,
  approval: { ...config.approval, ambiguousPolicy },
});

describe('rolesOf', () => {
  it('judges the lease holder as the primary, the configured primary before any lease', () => {
    expect(rolesOf(null, REGIONS)).toMatchObject({
      decide: true,
      code: 'NO_LEASE',
      primary: P,
      standby: S,
      epoch: 0,
    });
    expect(rolesOf({ holder: S, epoch: 3 }, REGIONS)).toMatchObject({
      decide: true,
      code: 'LEASE_HELD',
      primary: S,
      standby: P,
      epoch: 3,
    });
  });

  it('stands aside while a failover holds the fence (FENCE_IN_PROGRESS)', () => {
    expect(rolesOf({ holder: null, epoch: 4 }, REGIONS)).toEqual({
      decide: false,
      code: 'FENCE_IN_PROGRESS',
      reason: 'the lease is revoked at epoch 4: a failover holds the fence',
    });
  });
});

describe('announcement', () => {
  it('announces a change to suspect, and a recovery from anything but nothing', () => {
    expect(announcement('suspect', { changed: true, previous: 'healthy' })).toMatchObject({
      announce: true,
      detailType: 'Primary Suspect',
      reason: 'suspect after healthy',
    });
    expect(announcement('healthy', { changed: true, previous: 'suspect' })).toMatchObject({
      announce: true,
      detailType: 'Primary Recovered',
      reason: 'healthy after suspect',
    });
    expect(announcement('healthy', { changed: true, previous: null }).code).toBe('FIRST_HEALTHY');
    expect(announcement('failover', { changed: true, previous: 'suspect' }).code).toBe('REQUESTS_FAILOVER');
  });

  it('never announces a verdict that did not change (property)', () => {
    const kinds = fc.constantFrom(
      'healthy',
      'suspect',
      'failover',
      'failover-needs-approval',
    ) as fc.Arbitrary<Verdict['kind']>;
    fc.assert(
      fc.property(kinds, fc.option(fc.string(), { nil: null }), (kind, previous) => {
        expect(announcement(kind, { changed: false, previous })).toEqual({
          announce: false,
          code: 'UNCHANGED',
          reason: `still ${kind}`,
        });
      }),
    );
  });
});

describe('requestPlan', () => {
  it('requests a failover keyed at the lease epoch, detected when the first sustaining voter saw it down', () => {
    const plan = requestPlan(quorumDown, at(HERE, 2));
    expect(plan).toMatchObject({ act: 'request', code: 'QUORUM_UNHEALTHY', reason: quorumDown.reason });
    if (plan.act !== 'request') return;
    expect(plan.request).toMatchObject({
      epoch: 2,
      from: P,
      to: S,
      needsApproval: false,
      requestedBy: HERE,
      requestedAt: NOW,
      detectedAt: NOW - 61_000,
    });
  });

  it('requests nothing for a verdict that asks for no failover, with the verdict as its reason', () => {
    const verdict = decide(snapshot(config.watchers.slice(0, 2)), config, NOW, { primary: P, standby: S });
    expect(requestPlan(verdict, at(HERE))).toEqual({
      act: 'nothing',
      code: 'UNHEALTHY_BELOW_QUORUM',
      reason: verdict.reason,
    });
  });

  it('a paused application never requests an automatic failover, whatever the votes and the policy', () => {
    fc.assert(
      fc.property(anyVotes, anyPolicy, (votes, policy) => {
        const ctx: DecisionContext = { primary: P, standby: S, paused: true };
        const plan = requestPlan(decide(votes, withPolicy(policy), NOW, ctx), at(HERE));
        if (plan.act === 'request') expect(plan.request.needsApproval).toBe(true);
      }),
    );
    // With every watcher seeing the primary down: only a person may let it go on.
    const paused = decide(snapshot(config.watchers), withPolicy('proceed'), NOW, {
      ...REGIONS,
      paused: true,
    });
    expect(requestPlan(paused, at(HERE)).act).toBe('nothing');
  });

  it('a stale or abstaining vote never contributes: adding one changes no plan', () => {
    const stranger = fc.constantFrom('eu-north-1', 'me-south-1');
    const extra = fc.record({
      voter: fc.oneof(stranger, fc.constantFrom(...config.watchers)),
      target: fc.constantFrom(P, S),
      healthy: fc.boolean(),
      ageMs: fc.integer({ min: config.voteStalenessMs + 1, max: 10 * config.voteStalenessMs }),
      fresh: fc.boolean(),
    });
    fc.assert(
      fc.property(anyVotes, fc.array(extra, { maxLength: 6 }), anyPolicy, (votes, extras, policy) => {
        const voted = new Set(votes.map((v) => `${v.target}/${v.voter}`));
        const added = extras
          // A watcher's stale vote is one it has no newer vote beside; a stranger may even be fresh.
          .filter((e) => !config.watchers.includes(e.voter) || !voted.has(`${e.target}/${e.voter}`))
          .map((e) => {
            const observedAt = e.fresh && !config.watchers.includes(e.voter) ? NOW - 1_000 : NOW - e.ageMs;
            return vote(
              {
                voter: e.voter,
                target: e.target,
                healthy: e.healthy,
                observedAt,
                streakSince: observedAt - 90_000,
              },
              NOW,
            );
          });
        const plan = (vs: Vote[]) =>
          requestPlan(decide(vs, withPolicy(policy), NOW, { primary: P, standby: S }), at(HERE));
        expect(plan([...votes, ...added])).toEqual(plan(votes));
      }),
    );
  });

  it('never two requests for one epoch: of any deliveries from any regions, one creates it and one event is put', () => {
    const delivery = fc.record({ region: fc.constantFrom(HERE, THERE), putFails: fc.boolean() });
    fc.assert(
      fc.property(fc.array(delivery, { minLength: 1, maxLength: 10 }), fc.nat(5), (deliveries, epoch) => {
        // A model of the control table: the conditional put and the claimed publication.
        const incidents = new Map<string, Incident>();
        const put: string[] = [];
        let creator: string | null = null;
        let creatorPut = false;
        for (const d of deliveries) {
          const plan = requestPlan(quorumDown, at(d.region, epoch));
          if (plan.act !== 'request') throw new Error('a quorum down must request');
          const id = incidentId(plan.request.application, plan.request.epoch, 1);
          const publish = (i: Incident) => {
            if (i.publishedAt !== undefined || d.putFails) return;
            incidents.set(id, { ...i, publishedAt: NOW });
            put.push(id);
          };
          const existing = incidents.get(id) ?? null;
          if (!existing) {
            const created = fromRequest(plan.request, id);
            incidents.set(id, created);
            creator = d.region;
            publish(created);
          } else if (lostPut(existing, d.region).act === 're-publish') {
            publish(existing);
          }
          if (d.region === creator && !d.putFails) creatorPut = true;
        }
        expect([...incidents.keys()]).toEqual([incidentId('orders', epoch, 1)]);
        expect(put.length).toBe(creatorPut ? 1 : 0);
      }),
    );
  });
});

function fromRequest(request: IncidentRequest, id: string): Incident {
  return { ...request, id, attempt: 1, status: 'requested' };
}

describe('lostPut', () => {
  it('re-publishes only the own request whose event was not put; anything else is a duplicate', () => {
    expect(lostPut(null, HERE)).toEqual({
      act: 'duplicate',
      code: 'LOST_RACE',
      incidentId: null,
      reason: 'lost the race for the incident',
    });
    expect(lostPut(incident(), HERE)).toMatchObject({ act: 're-publish', code: 'WINNER_UNPUBLISHED' });
    expect(lostPut(incident(), THERE)).toEqual({
      act: 'duplicate',
      code: 'INCIDENT_EXISTS',
      incidentId: 'orders:1:1',
      reason: 'incident orders:1:1 is already requested',
    });
    fc.assert(
      fc.property(
        fc.constantFrom('requested', 'running', 'aborted', 'failed', 'completed') as fc.Arbitrary<
          Incident['status']
        >,
        fc.option(fc.nat(), { nil: undefined }),
        fc.constantFrom(HERE, THERE),
        (status, publishedAt, region) => {
          const i = incident({ status, ...(publishedAt === undefined ? {} : { publishedAt }) });
          const lost = lostPut(i, region);
          const own = status === 'requested' && publishedAt === undefined && region === HERE;
          expect(lost.act).toBe(own ? 're-publish' : 'duplicate');
          if (lost.act === 're-publish')
            expect(lost.otherwise.reason).toBe(`incident ${i.id} is already requested`);
        },
      ),
    );
  });
});

describe('inFlightPlan', () => {
  const takenOver = incident({ takenOverFrom: ARN, takenOverAt: NOW - 10, takeovers: 1 });

  it('puts the event of its own takeover first, before any judgement', () => {
    expect(inFlightPlan(takenOver, HERE, NOW, AFTER)).toMatchObject({
      act: 're-publish',
      code: 'TAKEOVER_UNPUBLISHED',
      reason: `this region (${HERE}) took orders:1:1 over from ${ARN} but its Failover Requested was not put`,
    });
    expect(inFlightPlan(takenOver, THERE, NOW, AFTER).act).toBe('leave');
    expect(inFlightPlan({ ...takenOver, publishedAt: NOW }, HERE, NOW, AFTER).act).toBe('leave');
  });

  it('takes over a stalled failover, abandons a stalled failback, leaves a live one', () => {
    const running = incident({ status: 'running', executionArn: ARN, claimedAt: NOW, progressAt: NOW });
    expect(inFlightPlan(running, THERE, NOW + AFTER, AFTER)).toMatchObject({
      act: 'take-over',
      code: 'EXECUTION_STALLED',
    });
    expect(inFlightPlan(running, THERE, NOW + AFTER - 1, AFTER)).toMatchObject({
      act: 'leave',
      code: 'PROGRESSING',
    });
    const failback = { ...running, kind: 'failback' as const };
    expect(inFlightPlan(failback, HERE, NOW + AFTER, AFTER)).toMatchObject({
      act: 'abandon',
      code: 'FAILBACK_ABANDONED',
    });
  });

  it('never acts on an incident of another region before takeoverAfterMs without progress (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('requested', 'running') as fc.Arbitrary<'requested' | 'running'>,
        fc.constantFrom('failover', 'failback') as fc.Arbitrary<'failover' | 'failback'>,
        fc.nat(AFTER - 1),
        (status, kind, idle) => {
          const i = incident({ status, kind, requestedBy: THERE, progressAt: NOW });
          expect(inFlightPlan(i, HERE, NOW + idle, AFTER).act).toBe('leave');
        },
      ),
    );
  });
});

describe('abandonPlan: how far a stalled failback got', () => {
  const failback = (progressStep?: string) =>
    incident({
      kind: 'failback',
      status: 'running',
      epoch: 1,
      from: S,
      to: P,
      executionArn: ARN,
      ...(progressStep === undefined ? {} : { progressStep }),
    });
  const verdict = { code: 'FAILBACK_ABANDONED' as const, reason: 'abandoned: no progress for 180000 ms' };
  const unfenced = { epoch: 1, holder: S };

  it('keeps route-traffic-status after route-traffic and before verify', () => {
    const order: readonly string[] = FAILBACK_ORDER;
    expect(order.indexOf('route-traffic-status')).toBe(order.indexOf('route-traffic') + 1);
    expect(order.indexOf('verify')).toBe(order.indexOf('route-traffic-status') + 1);
  });

  it('reports traffic moved for a failback abandoned during its traffic polls', () => {
    const plan = abandonPlan(failback('route-traffic-status'), verdict, { epoch: 3, holder: P }, HERE);
    expect(plan).toMatchObject({
      code: 'FAILBACK_ABANDONED',
      step: 'route-traffic-status',
      progress: { fenced: true, promoted: true, leaseGranted: true, trafficMoved: true },
    });
  });

  it('reports nothing done at the claim, and the step "start" for an unclaimed request', () => {
    const plan = abandonPlan(failback('claim'), verdict, unfenced, HERE);
    expect(plan.progress).toEqual({
      fenced: false,
      promoted: false,
      leaseGranted: false,
      trafficMoved: false,
    });
    expect(plan.closeReason).toBe(`${verdict.reason}; closed by the aggregator in ${HERE}`);
    expect(abandonPlan(failback(), verdict, { epoch: 2, holder: null }, HERE)).toMatchObject({
      step: 'start',
      progress: { fenced: true, promoted: false },
    });
  });

  it('never reports less for a later step, and moves traffic exactly from route-traffic on (property)', () => {
    const step = fc.nat(FAILBACK_ORDER.length - 1);
    fc.assert(
      fc.property(step, step, (a, b) => {
        const [early, late] = [Math.min(a, b), Math.max(a, b)];
        const p = (i: number) => abandonPlan(failback(FAILBACK_ORDER[i]), verdict, unfenced, HERE).progress;
        for (const k of ['fenced', 'promoted', 'leaseGranted', 'trafficMoved'] as const) {
          if (p(early)[k]) expect(p(late)[k]).toBe(true);
        }
        expect(p(late).trafficMoved).toBe(late >= FAILBACK_ORDER.indexOf('route-traffic'));
      }),
    );
    expect(failbackReached('report-failure')).toEqual(failbackReached(undefined));
  });

  it('knows whether its close is the one that stands', () => {
    const plan = abandonPlan(failback('claim'), verdict, unfenced, HERE);
    const closed = { id: 'orders:1:1', closedAt: NOW, closeReason: plan.closeReason };
    expect(abandonClose(closed, plan, NOW)).toMatchObject({ won: true, code: 'CLOSED' });
    const other = { ...closed, closeReason: `${verdict.reason}; closed by the aggregator in ${THERE}` };
    expect(abandonClose(other, plan, NOW)).toEqual({
      won: false,
      code: 'ALREADY_CLOSED',
      reason: `already closed: ${other.closeReason}`,
    });
    expect(abandonClose({ ...closed, closedAt: NOW - 1 }, plan, NOW).won).toBe(false);
  });
});
