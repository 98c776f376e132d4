import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '#core/decide.js';
import { recheck } from '#core/recheck.js';
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
const byVotes = (votes: ReturnType<typeof vote>[]) =>
  recheck({ by: 'votes', from: P, verdict: decide(votes, config, NOW, ctx), quorum: config.quorum });

describe('recheck', () => {
  it('PRIMARY_RECOVERED when a quorum of fresh watchers sees the primary healthy again: a false alarm', () => {
    const d = byVotes([up(W[0]!), up(W[1]!), up(W[2]!), down(W[3]!)]);
    expect(d).toEqual({
      kind: 'false-alarm',
      code: 'PRIMARY_RECOVERED',
      recovered: true,
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
      reason: `still failing over: ${verdict.reason}`,
      healthyVoters: [],
    });
  });

  it('does not recheck an operator’s failover against the votes', () => {
    expect(recheck({ by: 'operator', requestedBy: 'operator:ana' })).toEqual({
      kind: 'manual',
      code: 'MANUAL',
      recovered: false,
      reason: 'requested by operator:ana: an operator decided, the votes are not rechecked',
      healthyVoters: [],
    });
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
