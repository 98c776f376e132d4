import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalTimeout } from '#core/approval-timeout.js';
import { decide } from '#core/decide.js';
import { freshUnhealthyQuorum, recheck } from '#core/recheck.js';
import { exampleConfig, vote } from '../support/fixtures.js';

const config = exampleConfig();
const NOW = 1_700_000_000_000;
const P = config.primary.region;
const S = config.standby.region;
const W = [...config.watchers].sort();
const ctx = { primary: P, standby: S };
const up = (voter: string, target = P) => vote({ voter, target }, NOW);
const down = (voter: string) =>
  vote(
    {
      voter,
      target: P,
      healthy: false,
      consecutiveFailures: 4,
      consecutiveSuccesses: 0,
      streakSince: NOW - 41_000,
    },
    NOW,
  );
const STALE = config.voteStalenessMs;
/** The re-check at NOW of a failover decided `waitedMs` earlier. */
const byVotes = (votes: ReturnType<typeof vote>[], waitedMs = 1_000, fenced = false) =>
  recheck({
    by: 'votes',
    from: P,
    verdict: decide(votes, config, NOW, ctx),
    quorum: config.quorum,
    decidedAt: NOW - waitedMs,
    now: NOW,
    voteStalenessMs: STALE,
    fenced,
  });
/** A vote observed `ageMs` before NOW: unhealthy for the whole debounce window, or healthy. */
const aged = (voter: string, ageMs: number, healthy = false) =>
  vote(
    healthy
      ? { voter, target: P, observedAt: NOW - ageMs }
      : {
          voter,
          target: P,
          healthy: false,
          consecutiveFailures: 4,
          consecutiveSuccesses: 0,
          observedAt: NOW - ageMs,
          streakSince: NOW - ageMs - 41_000,
        },
    NOW,
  );

describe('recheck', () => {
  it('PRIMARY_RECOVERED when a quorum of fresh watchers sees the primary healthy again: a false alarm', () => {
    const d = byVotes([up(W[0]!), up(W[1]!), up(W[2]!), down(W[3]!)]);
    expect(d).toEqual({
      kind: 'false-alarm',
      code: 'PRIMARY_RECOVERED',
      recovered: true,
      proceed: false,
      reason: `false alarm: 3 fresh watchers (quorum 3) see us-east-1 healthy again (${W.slice(0, 3).join(', ')})`,
      healthyVoters: W.slice(0, 3),
    });
  });

  it('proceeds with the verdict’s own code and reason while the primary is still down', () => {
    const votes = [...W.slice(0, 3).map(down), ...W.map((w) => up(w, S))];
    const d = byVotes(votes);
    const verdict = decide(votes, config, NOW, ctx);
    expect(d).toEqual({
      kind: 'proceed',
      code: 'QUORUM_UNHEALTHY',
      recovered: false,
      proceed: true,
      reason: `still failing over: ${verdict.reason}`,
      healthyVoters: [],
    });
  });

  it('does not recheck an operator’s failover against the votes', () => {
    expect(recheck({ by: 'operator', requestedBy: 'operator:ana' })).toEqual({
      kind: 'manual',
      code: 'MANUAL',
      recovered: false,
      proceed: true,
      reason: 'requested by operator:ana: an operator decided, the votes are not rechecked',
      healthyVoters: [],
    });
  });

  it('NO_FRESH_QUORUM: after a wait longer than the vote staleness, stale votes do not carry the failover', () => {
    // The quorum that decided, 15 minutes ago; nothing newer since.
    const votes = W.map((w) => aged(w, 15 * 60_000));
    const d = byVotes(votes, 15 * 60_000);
    expect(d).toEqual({
      kind: 'abort',
      code: 'NO_FRESH_QUORUM',
      recovered: false,
      proceed: false,
      reason: `no fresh quorum: 900000 ms since the decision, longer than a vote stays fresh (${STALE} ms), and only 0 fresh watchers see us-east-1 unhealthy over the debounce window (quorum 3)`,
      healthyVoters: [],
    });
    // The same stale votes, re-checked within the staleness of the decision: the old rule, go on.
    expect(byVotes(votes, STALE).kind).toBe('proceed');
  });

  it('goes on after a long wait when a fresh quorum still sees the primary down over the debounce window', () => {
    const votes = [...W.slice(0, 3).map((w) => aged(w, 1_000)), aged(W[3]!, 1_000, true)];
    expect(byVotes(votes, 15 * 60_000)).toMatchObject({
      kind: 'proceed',
      // Nobody has voted on the standby here: the verdict's own code says so.
      code: 'QUORUM_UNHEALTHY_AMBIGUOUS',
      proceed: true,
      reason:
        'still failing over after 900000 ms: 3 fresh watchers see us-east-1 unhealthy over the debounce window (quorum 3)',
    });
  });

  it('ALREADY_FENCED: an incident whose lease is revoked is finished, even on stale votes or a recovered primary', () => {
    const stale = byVotes(
      W.map((w) => aged(w, 15 * 60_000)),
      15 * 60_000,
      true,
    );
    expect(stale).toMatchObject({ kind: 'proceed', code: 'ALREADY_FENCED', proceed: true });
    expect(stale.reason).toMatch(/stopping here would leave no writer/);
    expect(
      byVotes(
        W.map((w) => up(w)),
        1_000,
        true,
      ).kind,
    ).toBe('proceed');
  });

  const ages = fc.array(fc.record({ healthy: fc.boolean(), ageMs: fc.integer({ min: 0, max: 3 * STALE }) }), {
    minLength: W.length,
    maxLength: W.length,
  });
  const snapshotOf = (a: { healthy: boolean; ageMs: number }[]) =>
    a.map((x, i) => aged(W[i]!, x.ageMs, x.healthy));

  it('after a wait longer than the staleness, goes on exactly when a fresh sustained unhealthy quorum exists', () => {
    fc.assert(
      fc.property(ages, fc.integer({ min: STALE + 1, max: 3_600_000 }), (a, waitedMs) => {
        const votes = snapshotOf(a);
        const verdict = decide(votes, config, NOW, ctx);
        const d = byVotes(votes, waitedMs);
        const fresh = freshUnhealthyQuorum(verdict.evidence.sustainedUnhealthy.length, config.quorum, P);
        expect(d.proceed).toBe(fresh.met);
        if (!d.proceed && !d.recovered) {
          expect(d.code).toBe('NO_FRESH_QUORUM');
          expect(d.reason).toContain(fresh.reason);
        }
      }),
    );
  });

  it('is the same rule as the approval timeout’s: one proceeds exactly when the other does', () => {
    fc.assert(
      fc.property(ages, fc.integer({ min: STALE + 1, max: 3_600_000 }), (a, waitedMs) => {
        const votes = snapshotOf(a);
        const sustained = decide(votes, config, NOW, ctx).evidence.sustainedUnhealthy.length;
        const timeout = approvalTimeout({
          machine: 'failover',
          approval: 'failover',
          policy: 'proceed',
          timeoutSeconds: Math.ceil(waitedMs / 1000),
          from: P,
          quorum: config.quorum,
          evidence: {
            pause: null,
            sustainedUnhealthy: sustained,
            cooldown: { lastMoveAt: null, cooldownMs: config.cooldownMs, now: NOW },
          },
        });
        expect(timeout.action === 'proceed').toBe(byVotes(votes, waitedMs).proceed);
      }),
    );
  });

  it('never stops an incident already fenced, and never re-checks an operator’s failover', () => {
    fc.assert(
      fc.property(ages, fc.nat(3_600_000), (a, waitedMs) => {
        expect(byVotes(snapshotOf(a), waitedMs, true)).toMatchObject({
          proceed: true,
          code: 'ALREADY_FENCED',
        });
      }),
    );
  });

  it('within the staleness of the decision, stops only on a healthy quorum (the rule before a long wait)', () => {
    fc.assert(
      fc.property(ages, fc.nat(STALE), (a, waitedMs) => {
        const votes = snapshotOf(a);
        const healthy = decide(votes, config, NOW, ctx).evidence.fresh.filter((v) => v.healthy).length;
        expect(byVotes(votes, waitedMs).proceed).toBe(healthy < config.quorum);
      }),
    );
  });

  it('calls it a false alarm exactly when a quorum of fresh voters sees the primary healthy', () => {
    fc.assert(
      fc.property(fc.subarray(W), fc.subarray(W), (healthy, unhealthy) => {
        const votes = [
          ...healthy.map((w) => up(w)),
          ...unhealthy.filter((w) => !healthy.includes(w)).map(down),
        ];
        const d = byVotes(votes);
        expect(d.recovered).toBe(healthy.length >= config.quorum);
        expect(d.kind).toBe(d.recovered ? 'false-alarm' : 'proceed');
        expect([...d.healthyVoters].sort()).toEqual([...healthy].sort());
        if (d.recovered)
          expect(d.reason).toMatch(new RegExp(`^false alarm: ${healthy.length} fresh watchers`));
      }),
    );
  });
});
