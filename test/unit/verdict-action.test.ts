import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecisionContext, decide, type Verdict } from '#core/decide.js';
import { type Incident, incidentId } from '#core/incident.js';
import { announcement, lostPut, requestPlan, rolesOf } from '#core/verdict-action.js';
import type { Vote } from '#core/vote.js';
import {
  at,
  config,
  fromRequest,
  HERE,
  incident,
  NOW,
  P,
  quorumDown,
  REGIONS,
  S,
  snapshot,
  THERE,
} from '../support/aggregator.js';
import { vote } from '../support/fixtures.js';

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
