import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#core/config.js';
import {
  type AmbiguityCode,
  type DecisionConfig,
  type DecisionContext,
  decide,
  requestsFailover,
} from '#core/decide.js';
import { nextVote, type Vote } from '#core/vote.js';
import { exampleConfigJson, vote } from '../support/fixtures.js';

const config = loadConfig(exampleConfigJson());
const NOW = 1_700_000_000_000;
const P = config.primary.region;
const S = config.standby.region;
const ctx: DecisionContext = { primary: P, standby: S };
// Sorted, as the evidence lists voters: ap-northeast-1, ap-southeast-2, ca-central-1, eu-west-1, sa-east-1.
const W = [...config.watchers].sort();
const [A, B, C, D, E] = W as [string, string, string, string, string];
const STRANGER = 'eu-north-1';

const withPolicy = (ambiguousPolicy: 'ask' | 'abort' | 'proceed'): DecisionConfig => ({
  ...config,
  approval: { ...config.approval, ambiguousPolicy },
});

/** A fresh vote (observed 1 s ago) that the primary is down, its streak covering `forMs` by observation. */
const down = (voter: string, forMs = 40_000, over: Partial<Vote> = {}): Vote =>
  vote(
    {
      voter,
      target: P,
      healthy: false,
      consecutiveFailures: Math.max(1, Math.floor(forMs / 10_000)),
      consecutiveSuccesses: 0,
      streakSince: (over.observedAt ?? NOW - 1_000) - forMs,
      detail: 'status 503',
      ...over,
    },
    NOW,
  );
const up = (voter: string, target = P, over: Partial<Vote> = {}): Vote =>
  vote({ voter, target, ...over }, NOW);
const standbyUp = (voters: string[] = W) => voters.map((w) => up(w, S));

describe('decide: verdicts', () => {
  it('ALL_HEALTHY when every fresh voter sees the primary healthy', () => {
    const v = decide([...W.map((w) => up(w)), ...standbyUp()], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'healthy', code: 'ALL_HEALTHY', ambiguities: [] });
    expect(v.reason).toBe('healthy: 5 fresh watchers see us-east-1 healthy');
    expect(v.evidence.abstaining).toEqual([]);
    expect(v.evidence.fresh.map((f) => f.voter)).toEqual(W);
    expect(requestsFailover(v)).toBe(false);
  });

  it('NO_FRESH_VOTES when there are no votes, or all are stale', () => {
    const none = decide([], config, NOW, ctx);
    expect(none).toMatchObject({ kind: 'suspect', code: 'NO_FRESH_VOTES' });
    expect(none.evidence.abstaining).toEqual(W);
    const stale = W.map((w) => down(w, 90_000, { observedAt: NOW - 25_001 }));
    expect(decide(stale, config, NOW, ctx)).toMatchObject({ kind: 'suspect', code: 'NO_FRESH_VOTES' });
  });

  it('UNHEALTHY_BELOW_QUORUM when fewer than quorum fresh voters see it down', () => {
    const v = decide([down(A), down(B), up(C), up(D), up(E), ...standbyUp()], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'suspect', code: 'UNHEALTHY_BELOW_QUORUM' });
    expect(v.reason).toBe('suspect: 2 of 5 fresh watchers see us-east-1 unhealthy (quorum 3)');
    expect(v.evidence.sustainedUnhealthy).toEqual([A, B]);
  });

  it('DEBOUNCING while a quorum sees it down but not yet for the whole window', () => {
    const v = decide([down(A, 29_999), down(B, 29_999), down(C, 40_000), ...standbyUp()], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'suspect', code: 'DEBOUNCING' });
    expect(v.evidence.sustainedUnhealthy).toEqual([C]);
    expect(v.reason).toMatch(
      /3 watchers see us-east-1 unhealthy; 1 of them .* 30000 ms \(longest 40000 ms\)/,
    );
  });

  it('a single failed probe never covers the window just because time passed (I3)', () => {
    // Each voter saw one failure 24 s ago: still fresh (staleness 25 s), and now − streakSince > debounce,
    // but nothing was observed across the window.
    const once = (w: string) =>
      down(w, 0, { observedAt: NOW - 24_000, streakSince: NOW - 24_000, consecutiveFailures: 1 });
    const shortDebounce = { ...config, debounceMs: 20_000 };
    const v = decide([once(A), once(B), once(C), once(D), once(E), ...standbyUp()], shortDebounce, NOW, ctx);
    expect(v.kind).not.toBe('failover');
    expect(v.evidence.sustainedUnhealthy).toEqual([]);
  });

  it('QUORUM_UNHEALTHY at exactly the debounce window, with the evidence of who and since when', () => {
    const votes = [down(A, 30_000), down(B, 35_000), down(C, 45_000), ...standbyUp()];
    const v = decide(votes, config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'failover', code: 'QUORUM_UNHEALTHY', ambiguities: [] });
    expect(v.reason).toBe(
      'failover: 3 of 5 watchers (quorum 3) see us-east-1 unhealthy for at least 30000 ms',
    );
    expect(v.evidence).toEqual({
      target: P,
      standby: S,
      quorum: 3,
      fresh: [
        { voter: A, healthy: false, since: NOW - 31_000, observedAt: NOW - 1_000, detail: 'status 503' },
        { voter: B, healthy: false, since: NOW - 36_000, observedAt: NOW - 1_000, detail: 'status 503' },
        { voter: C, healthy: false, since: NOW - 46_000, observedAt: NOW - 1_000, detail: 'status 503' },
      ],
      abstaining: [D, E],
      sustainedUnhealthy: [A, B, C],
      standbyHealthyVoters: W,
    });
    expect(requestsFailover(v)).toBe(true);
  });

  it('follows a real streak built by nextVote: debouncing at +20 s, failover at +30 s', () => {
    const t0 = NOW - 30_000;
    const key = (voter: string) => ({ application: 'orders', target: P, voter });
    const streaks = [A, B, C].map((w) => {
      let prev: Vote | undefined;
      return [0, 10_000, 20_000, 30_000].map((dt) => {
        prev = nextVote(
          prev,
          { healthy: false, latencyMs: 3000, detail: 'timeout', observedAt: t0 + dt },
          key(w),
          3600,
        );
        return prev;
      });
    });
    const at = (i: number) => streaks.map((s) => s[i] as Vote);
    expect(decide([...at(2), ...standbyUp()], config, t0 + 20_000, ctx).code).toBe('DEBOUNCING');
    expect(decide([...at(3), ...standbyUp()], config, t0 + 30_000, ctx).code).toBe('QUORUM_UNHEALTHY');
  });
});

describe('decide: ambiguity', () => {
  const quorumDown = [down(A), down(B), down(C)];
  const cases: { code: AmbiguityCode; votes: Vote[]; context?: Partial<DecisionContext>; reason: RegExp }[] =
    [
      {
        code: 'VOTES_SPLIT',
        votes: [...quorumDown, up(D), ...standbyUp()],
        reason: /votes split: .*eu-west-1 still/,
      },
      {
        code: 'STANDBY_UNHEALTHY',
        votes: [...quorumDown, ...standbyUp([A, B])],
        reason: /standby us-west-2 is healthy for only 2 fresh voters \(quorum 3\)/,
      },
      {
        code: 'REPLICATION_LAG_OVER_RPO',
        votes: [...quorumDown, ...standbyUp()],
        context: { replicationLagMs: 5_001 },
        reason: /replication lag 5001 ms is over the RPO budget of 5000 ms/,
      },
      {
        code: 'INSIDE_COOLDOWN',
        votes: [...quorumDown, ...standbyUp()],
        context: { lastFailoverAt: NOW - 3_599_999 },
        reason: /inside the cool-down of 3600000 ms/,
      },
      {
        code: 'PAUSED',
        votes: [...quorumDown, ...standbyUp()],
        context: { paused: true },
        reason: /paused by an operator/,
      },
      {
        code: 'TOO_FEW_VOTERS',
        votes: [down(A), down(B), ...standbyUp()],
        reason: /only 2 fresh voters \(quorum 3\); 3 abstain \(ca-central-1, eu-west-1, sa-east-1\)/,
      },
    ];

  it.each(cases)(
    'QUORUM_UNHEALTHY_AMBIGUOUS with $code asks for approval under policy ask',
    ({ code, votes, context, reason }) => {
      const v = decide(votes, config, NOW, { ...ctx, ...context });
      expect(v.kind).toBe('failover-needs-approval');
      expect(v.code).toBe('QUORUM_UNHEALTHY_AMBIGUOUS');
      expect(v.ambiguities.map((a) => a.code)).toEqual([code]);
      expect(v.ambiguities[0]?.reason).toMatch(reason);
      expect(v.reason).toMatch(/^approval needed: /);
      expect(v.reason).toContain(v.ambiguities[0]?.reason);
    },
  );

  it('sees no ambiguity just inside the RPO budget or just after the cool-down', () => {
    const votes = [...quorumDown, ...standbyUp()];
    expect(decide(votes, config, NOW, { ...ctx, replicationLagMs: 5_000 }).code).toBe('QUORUM_UNHEALTHY');
    expect(decide(votes, config, NOW, { ...ctx, lastFailoverAt: NOW - 3_600_000 }).code).toBe(
      'QUORUM_UNHEALTHY',
    );
    expect(decide(votes, config, NOW, { ...ctx, replicationLagMs: 5_000 }).evidence.replicationLagMs).toBe(
      5_000,
    );
  });

  it('lists every ambiguity at once', () => {
    const v = decide([...quorumDown, up(D)], config, NOW, {
      ...ctx,
      paused: true,
      lastFailoverAt: NOW - 60_000,
      replicationLagMs: 9_000,
    });
    expect(v.ambiguities.map((a) => a.code)).toEqual([
      'VOTES_SPLIT',
      'STANDBY_UNHEALTHY',
      'REPLICATION_LAG_OVER_RPO',
      'INSIDE_COOLDOWN',
      'PAUSED',
    ]);
    // Votes about the primary say nothing about the standby.
    expect(v.ambiguities[1]?.reason).toMatch(/healthy for only 0 fresh voters/);
    expect(v.evidence.standbyHealthyVoters).toEqual([]);
  });

  it('AMBIGUOUS_NO_ACTION under policy abort', () => {
    const v = decide([...quorumDown, up(D), ...standbyUp()], withPolicy('abort'), NOW, ctx);
    expect(v).toMatchObject({ kind: 'suspect', code: 'AMBIGUOUS_NO_ACTION' });
    expect(v.ambiguities.map((a) => a.code)).toEqual(['VOTES_SPLIT']);
    expect(v.reason).toMatch(/^no action \(policy abort\): /);
    expect(requestsFailover(v)).toBe(false);
  });

  it('AMBIGUOUS_PROCEED under policy proceed, keeping the ambiguities it overrode', () => {
    const v = decide([...quorumDown, up(D), ...standbyUp([A])], withPolicy('proceed'), NOW, ctx);
    expect(v).toMatchObject({ kind: 'failover', code: 'AMBIGUOUS_PROCEED' });
    expect(v.ambiguities.map((a) => a.code)).toEqual(['VOTES_SPLIT', 'STANDBY_UNHEALTHY']);
    expect(v.reason).toMatch(/^failover \(policy proceed\): .*despite votes split/);
  });

  it('PAUSED never proceeds, even under policy proceed', () => {
    const votes = [...quorumDown, up(D), ...standbyUp()];
    for (const policy of ['proceed', 'abort'] as const) {
      const v = decide(votes, withPolicy(policy), NOW, { ...ctx, paused: true });
      expect(v).toMatchObject({ kind: 'suspect', code: 'AMBIGUOUS_NO_ACTION' });
      expect(v.ambiguities.map((a) => a.code)).toContain('PAUSED');
    }
    const unanimous = decide([...quorumDown, ...standbyUp()], withPolicy('proceed'), NOW, {
      ...ctx,
      paused: true,
    });
    expect(unanimous).toMatchObject({ kind: 'suspect', code: 'AMBIGUOUS_NO_ACTION' });
  });

  const rebuild = {
    region: S,
    since: NOW - 600_000,
    incidentId: 'orders:4:1',
    reason: 'failover orders:4:1 promoted us-east-1 in its place',
  };

  it('TARGET_NOT_REPLICA asks a person with a data-loss warning, whatever the policy', () => {
    for (const policy of ['ask', 'abort', 'proceed'] as const) {
      const v = decide([...quorumDown, ...standbyUp()], withPolicy(policy), NOW, {
        ...ctx,
        standbyRebuild: rebuild,
      });
      expect(v).toMatchObject({ kind: 'failover-needs-approval', code: 'QUORUM_UNHEALTHY_AMBIGUOUS' });
      expect(v.ambiguities.map((a) => a.code)).toEqual(['TARGET_NOT_REPLICA']);
      expect(v.reason).toMatch(/^approval needed \(DATA LOSS if approved\): /);
      expect(v.reason).toContain(`${S} needs a rebuild: failover orders:4:1 promoted us-east-1 in its place`);
      expect(v.reason).toContain(`loses every write acknowledged in ${P}`);
    }
  });

  it('INSIDE_COOLDOWN is never overridden by policy proceed: a person is asked', () => {
    const v = decide([...quorumDown, ...standbyUp()], withPolicy('proceed'), NOW, {
      ...ctx,
      lastFailoverAt: NOW - 60_000,
    });
    expect(v).toMatchObject({ kind: 'failover-needs-approval', code: 'QUORUM_UNHEALTHY_AMBIGUOUS' });
    expect(v.ambiguities.map((a) => a.code)).toEqual(['INSIDE_COOLDOWN']);
    // Standby health and lag stay the policy's to override.
    const lag = decide([...quorumDown, ...standbyUp([A])], withPolicy('proceed'), NOW, {
      ...ctx,
      replicationLagMs: 9_000,
    });
    expect(lag).toMatchObject({ kind: 'failover', code: 'AMBIGUOUS_PROCEED' });
    expect(lag.ambiguities.map((a) => a.code)).toEqual(['STANDBY_UNHEALTHY', 'REPLICATION_LAG_OVER_RPO']);
  });

  it('TOO_FEW_VOTERS is never automatic, whatever the policy', () => {
    const votes = [down(A), down(B), ...standbyUp()];
    for (const policy of ['proceed', 'abort'] as const) {
      const v = decide(votes, withPolicy(policy), NOW, ctx);
      expect(v).toMatchObject({ kind: 'suspect', code: 'AMBIGUOUS_NO_ACTION' });
      expect(v.ambiguities[0]?.code).toBe('TOO_FEW_VOTERS');
      expect(v.reason).toMatch(/^no action: only 2 fresh voters/);
    }
  });

  it('TOO_FEW_VOTERS only when nobody fresh sees the primary healthy', () => {
    // Two fresh voters of the needed three, one of which still sees the primary: no question to ask.
    const v = decide([down(A), up(B), ...standbyUp()], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'suspect', code: 'UNHEALTHY_BELOW_QUORUM', ambiguities: [] });
  });

  it('counts a stale dissenter as an abstention: the split is gone once its vote is stale', () => {
    const fresh = decide([...quorumDown, up(D), ...standbyUp()], config, NOW, ctx);
    expect(fresh.ambiguities.map((a) => a.code)).toEqual(['VOTES_SPLIT']);
    const stale = decide(
      [...quorumDown, up(D, P, { observedAt: NOW - 25_001 }), ...standbyUp()],
      config,
      NOW,
      ctx,
    );
    expect(stale.code).toBe('QUORUM_UNHEALTHY');
    expect(stale.evidence.abstaining).toEqual([D, E]);
  });
});

describe('decide: which votes count', () => {
  it('ignores votes from regions that are not configured watchers', () => {
    const strangers = ['eu-north-1', 'me-south-1', 'af-south-1'].map((w) => down(w));
    const v = decide([...strangers, down(A), ...standbyUp()], config, NOW, ctx);
    expect(v.kind).toBe('failover-needs-approval');
    expect(v.ambiguities[0]?.reason).toMatch(/^only 1 fresh voters \(quorum 3\); 4 abstain/);
    expect(v.evidence.fresh.map((f) => f.voter)).toEqual([A]);
    expect(v.evidence.abstaining).toEqual([B, C, D, E]);
    const strangerStandby = decide(
      [...quorumOf([A, B, C]), ...standbyUp([A, B]), up(STRANGER, S)],
      config,
      NOW,
      ctx,
    );
    expect(strangerStandby.evidence.standbyHealthyVoters).toEqual([A, B]);
    expect(strangerStandby.ambiguities.map((a) => a.code)).toEqual(['STANDBY_UNHEALTHY']);
  });

  it('counts a vote up to maxSkew in the future, and abstains beyond it', () => {
    const at = (observedAt: number) => [A, B, C].map((w) => down(w, 40_000, { observedAt }));
    expect(decide([...at(NOW + 1_000), ...standbyUp()], config, NOW, ctx).code).toBe('QUORUM_UNHEALTHY');
    const future = decide([...at(NOW + 1_001), ...standbyUp()], config, NOW, ctx);
    expect(future.code).toBe('NO_FRESH_VOTES');
    expect(future.evidence.abstaining).toEqual(W);
  });

  it('counts a vote up to voteStalenessMs old, and abstains beyond it', () => {
    const at = (observedAt: number) => [A, B, C].map((w) => down(w, 40_000, { observedAt }));
    expect(decide([...at(NOW - 25_000), ...standbyUp()], config, NOW, ctx).code).toBe('QUORUM_UNHEALTHY');
    expect(decide([...at(NOW - 25_001), ...standbyUp()], config, NOW, ctx).code).toBe('NO_FRESH_VOTES');
  });

  it('abstains on a vote whose streak starts after its own observation', () => {
    const v = decide([down(A), down(B), down(C, 40_000, { streakSince: NOW })], config, NOW, ctx);
    expect(v.evidence.abstaining).toContain(C);
    expect(v.kind).not.toBe('failover');
  });

  it('takes the highest seq of a voter that appears twice, in either order', () => {
    const older = down(C, 40_000, { seq: 7 });
    const newer = up(C, P, { seq: 8, observedAt: NOW - 20_000 });
    for (const votes of [
      [down(A), down(B), older, newer, ...standbyUp()],
      [newer, down(B), older, down(A), ...standbyUp()],
    ]) {
      const v = decide(votes, config, NOW, ctx);
      expect(v.code).toBe('UNHEALTHY_BELOW_QUORUM');
      expect(v.evidence.fresh.find((f) => f.voter === C)).toEqual({
        voter: C,
        healthy: true,
        since: NOW - 80_000,
        observedAt: NOW - 20_000,
        detail: 'ok 200',
      });
    }
    // The newest vote wins even when it is stale: the voter abstains rather than fall back on an older opinion.
    const staleNewest = up(C, P, { seq: 9, observedAt: NOW - 30_000 });
    const v = decide([down(A), down(B), older, staleNewest, ...standbyUp()], config, NOW, ctx);
    expect(v.evidence.abstaining).toContain(C);
    expect(v.ambiguities.map((a) => a.code)).toEqual(['TOO_FEW_VOTERS']);
  });

  it('judges the region named by the context, so roles swap after a failover', () => {
    const votes = [S, P].flatMap((target) => [A, B, C].map((w) => down(w, 40_000, { target })));
    const swapped = decide([...votes, ...W.map((w) => up(w, P, { seq: 2 }))], config, NOW, {
      primary: S,
      standby: P,
    });
    expect(swapped).toMatchObject({ kind: 'failover', code: 'QUORUM_UNHEALTHY' });
    expect(swapped.evidence).toMatchObject({ target: S, standby: P, standbyHealthyVoters: W });
  });
});

function quorumOf(voters: string[]): Vote[] {
  return voters.map((w) => down(w));
}

// ---- properties ----

const DETAILS = ['ok 200', 'status 503', 'timeout after 3000 ms', 'refused'];

interface VoteSpec {
  voter: string;
  target: string;
  healthy: boolean;
  /** now − observedAt; negative is from the future. */
  age: number;
  /** observedAt − streakSince. */
  streak: number;
  seq: number;
  detail: string;
}

const toVote = (s: VoteSpec): Vote => {
  const observedAt = NOW - s.age;
  const count = 1 + Math.floor(s.streak / 10_000);
  return {
    application: 'orders',
    target: s.target,
    voter: s.voter,
    healthy: s.healthy,
    consecutiveFailures: s.healthy ? 0 : count,
    consecutiveSuccesses: s.healthy ? count : 0,
    observedAt,
    streakSince: observedAt - s.streak,
    seq: s.seq,
    latencyMs: 20,
    detail: s.detail,
    expiresAt: Math.ceil(observedAt / 1000) + 3600,
  };
};

/** Ages and streaks cluster around the bounds (staleness 25 s, skew 1 s, debounce 30 s) so that both sides occur. */
const voteSpecArb = (voters: readonly string[], targets: readonly string[], healthy = fc.boolean()) =>
  fc.record({
    voter: fc.constantFrom(...voters),
    target: fc.constantFrom(...targets),
    healthy,
    age: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(-1_001, -1_000, 0, 24_999, 25_000, 25_001) },
      { weight: 1, arbitrary: fc.integer({ min: -5_000, max: 60_000 }) },
    ),
    streak: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 90_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 10_000, 29_000, 30_000, 31_000) },
    ),
    seq: fc.integer({ min: 1, max: 3 }),
    detail: fc.constantFrom(...DETAILS),
  });

/** Mostly unhealthy, so that failovers and every ambiguity are common. */
const mostlyDown = fc.integer({ min: 0, max: 3 }).map((i) => i === 0);

const configArb = fc
  .record({
    n: fc.integer({ min: 3, max: 5 }),
    policy: fc.constantFrom('ask' as const, 'abort' as const, 'proceed' as const),
    q: fc.nat(),
  })
  .map(({ n, policy, q }): DecisionConfig => {
    const watchers = W.slice(0, n);
    const majority = Math.floor(n / 2) + 1;
    return {
      ...config,
      watchers,
      quorum: majority + (q % (n - majority + 1)),
      approval: { ...config.approval, ambiguousPolicy: policy },
    };
  });

const contextArb: fc.Arbitrary<DecisionContext> = fc
  .record({
    paused: fc.integer({ min: 0, max: 4 }).map((i) => i === 0),
    lastFailoverAt: fc.option(fc.integer({ min: NOW - 7_200_000, max: NOW }), { nil: undefined, freq: 3 }),
    replicationLagMs: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined, freq: 2 }),
    standbyRebuild: fc.option(
      fc.constant({
        region: S,
        since: NOW - 600_000,
        incidentId: 'orders:4:1',
        reason: 'left by a failover',
      }),
      { nil: undefined, freq: 4 },
    ),
  })
  .map((c) => ({ primary: P, standby: S, ...dropUndefined(c) }));

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Healthy with the given chance, in percent. */
const healthyWith = (percent: number) => fc.integer({ min: 0, max: 99 }).map((i) => i < percent);

/**
 * A snapshot as the aggregator reads it: votes about the primary whose share of unhealthy ones varies from
 * snapshot to snapshot (from all healthy to a full outage), votes about the standby mostly healthy, and a
 * context that is clean half of the time.
 */
const snapshotArb = configArb.chain((cfg) =>
  fc.record({
    config: fc.constant(cfg),
    context: fc.oneof(contextArb, fc.constant(ctx)),
    // A third of the snapshots are outages: nobody sees the primary healthy.
    votes: fc
      .oneof(fc.constant(0), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }))
      .chain((healthyPercent) =>
        fc.tuple(
          votesBy(cfg.watchers, P, healthyWith(healthyPercent), 2),
          votesBy(cfg.watchers, S, healthyWith(90), 2, 1),
          votesBy([STRANGER], P, fc.boolean(), 1),
          votesBy([STRANGER], S, fc.boolean(), 1),
        ),
      )
      .chain((groups) => {
        const votes = groups.flat().map(toVote);
        return fc.shuffledSubarray(votes, { minLength: votes.length });
      }),
  }),
);

/** From `min` to `max` votes of each voter about the target, so that every voter is often present. */
function votesBy(
  voters: readonly string[],
  target: string,
  healthy: fc.Arbitrary<boolean>,
  max: number,
  min = 0,
) {
  return fc
    .tuple(
      ...voters.map((voter) =>
        fc.array(voteSpecArb([voter], [target], healthy), { minLength: min, maxLength: max }),
      ),
    )
    .map((perVoter) => perVoter.flat());
}

/**
 * An oracle for I3, written from the brief rather than from decide: the voters whose newest vote about the
 * target is fresh and unhealthy with a streak covering the debounce window. Where several votes tie for
 * newest, a voter counts only if all of them do.
 */
function sustainedVoters(votes: readonly Vote[], cfg: DecisionConfig, now: number, target: string): string[] {
  const out: string[] = [];
  for (const voter of cfg.watchers) {
    const mine = votes.filter((v) => v.voter === voter && v.target === target);
    if (mine.length === 0) continue;
    const seq = Math.max(...mine.map((v) => v.seq));
    const top = mine.filter((v) => v.seq === seq);
    const at = Math.max(...top.map((v) => v.observedAt));
    const newest = top.filter((v) => v.observedAt === at);
    const counts = newest.every(
      (v) =>
        !v.healthy &&
        now - v.observedAt <= cfg.voteStalenessMs &&
        v.observedAt - now <= cfg.lease.maxSkewMs &&
        v.streakSince <= v.observedAt &&
        v.observedAt - v.streakSince >= cfg.debounceMs,
    );
    if (counts) out.push(voter);
  }
  return out.sort();
}

const RUNS = { numRuns: 1500 };

describe('decide: properties', () => {
  it('the generators reach every verdict code', () => {
    const counts = new Map<string, number>();
    fc.assert(
      fc.property(snapshotArb, ({ config: cfg, context, votes }) => {
        const { code } = decide(votes, cfg, NOW, context);
        counts.set(code, (counts.get(code) ?? 0) + 1);
      }),
      { ...RUNS, seed: 20261130 },
    );
    if (process.env.SHOW_COUNTS) console.log(counts);
    const seen = new Set(counts.keys());
    expect([...seen].sort()).toEqual([
      'ALL_HEALTHY',
      'AMBIGUOUS_NO_ACTION',
      'AMBIGUOUS_PROCEED',
      'DEBOUNCING',
      'NO_FRESH_VOTES',
      'QUORUM_UNHEALTHY',
      'QUORUM_UNHEALTHY_AMBIGUOUS',
      'UNHEALTHY_BELOW_QUORUM',
    ]);
  });

  it('(a) I3: a failover verdict always rests on a quorum of fresh unhealthy votes over the debounce window', () => {
    fc.assert(
      fc.property(snapshotArb, ({ config: cfg, context, votes }) => {
        const v = decide(votes, cfg, NOW, context);
        const sustained = sustainedVoters(votes, cfg, NOW, P);
        expect(v.evidence.sustainedUnhealthy).toEqual(sustained);
        if (v.kind === 'failover') expect(sustained.length).toBeGreaterThanOrEqual(cfg.quorum);
      }),
      RUNS,
    );
  });

  it('no policy makes a failover automatic inside the cool-down or towards a target marked for rebuild', () => {
    fc.assert(
      fc.property(snapshotArb, ({ config: cfg, context, votes }) => {
        const v = decide(votes, cfg, NOW, context);
        const cooling = context.lastFailoverAt !== undefined && NOW - context.lastFailoverAt < cfg.cooldownMs;
        if (cooling || context.standbyRebuild) expect(v.kind).not.toBe('failover');
      }),
      RUNS,
    );
  });

  it('(a) I3: a stale vote is an abstention, exactly as if it were missing', () => {
    fc.assert(
      fc.property(
        snapshotArb,
        fc.func(fc.boolean()),
        fc.boolean(),
        fc.integer({ min: 1, max: 600_000 }),
        ({ config: cfg, context, votes }, pick, future, by) => {
          const chosen = (v: Vote) => pick(`${v.target}/${v.voter}`);
          const staled = votes.map((v) => {
            if (!chosen(v)) return v;
            const observedAt = future ? NOW + cfg.lease.maxSkewMs + by : NOW - cfg.voteStalenessMs - by;
            return { ...v, observedAt, streakSince: observedAt - (v.observedAt - v.streakSince) };
          });
          const missing = votes.filter((v) => !chosen(v));
          expect(decide(staled, cfg, NOW, context)).toEqual(decide(missing, cfg, NOW, context));
        },
      ),
      RUNS,
    );
  });

  it('(a) I3: making unhealthy voters stale never turns a verdict into failover', () => {
    fc.assert(
      fc.property(
        snapshotArb,
        fc.func(fc.boolean()),
        fc.integer({ min: 1, max: 600_000 }),
        ({ config: cfg, context, votes }, pick, by) => {
          // A voter (about one target) whose every vote is unhealthy goes silent: all its votes age past staleness.
          const key = (v: Vote) => `${v.target}/${v.voter}`;
          const healthyKeys = new Set(votes.filter((v) => v.healthy).map(key));
          const chosen = (v: Vote) => !healthyKeys.has(key(v)) && pick(key(v));
          const staled = votes.map((v) => {
            if (!chosen(v)) return v;
            const observedAt = NOW - cfg.voteStalenessMs - by;
            return { ...v, observedAt, streakSince: observedAt - (v.observedAt - v.streakSince) };
          });
          const before = decide(votes, cfg, NOW, context);
          const after = decide(staled, cfg, NOW, context);
          if (before.kind !== 'failover') expect(after.kind).not.toBe('failover');
          expect(after.evidence.sustainedUnhealthy.length).toBeLessThanOrEqual(
            before.evidence.sustainedUnhealthy.length,
          );
        },
      ),
      RUNS,
    );
  });

  it('(b) a fresh healthy vote about the target from a new voter never turns no failover into failover', () => {
    const arb = configArb.chain((cfg) =>
      fc.record({
        config: fc.constant(cfg),
        context: contextArb,
        // The first watcher votes only about the standby, so it can be the new voter.
        votes: fc.tuple(
          fc.array(voteSpecArb(cfg.watchers.slice(1), [P, S], mostlyDown).map(toVote), { maxLength: 14 }),
          fc.array(voteSpecArb(cfg.watchers.slice(0, 1), [S]).map(toVote), { maxLength: 2 }),
        ),
        added: voteSpecArb(cfg.watchers.slice(0, 1), [P], fc.constant(true)).filter(
          (s) => s.age >= -cfg.lease.maxSkewMs && s.age <= cfg.voteStalenessMs,
        ),
      }),
    );
    fc.assert(
      fc.property(arb, ({ config: cfg, context, votes: [others, own], added }) => {
        const votes = [...others, ...own];
        const before = decide(votes, cfg, NOW, context);
        const after = decide([...votes, toVote(added)], cfg, NOW, context);
        expect(after.evidence.fresh.map((f) => f.voter)).toContain(added.voter);
        if (!requestsFailover(before)) expect(requestsFailover(after)).toBe(false);
        if (before.kind !== 'failover') expect(after.kind).not.toBe('failover');
      }),
      RUNS,
    );
  });

  it('(c) the verdict does not depend on the order of the votes', () => {
    const arb = snapshotArb.chain((s) =>
      fc.record({
        snapshot: fc.constant(s),
        shuffled: fc.shuffledSubarray(s.votes, { minLength: s.votes.length }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ snapshot: { config: cfg, context, votes }, shuffled }) => {
        expect(decide(shuffled, cfg, NOW, context)).toEqual(decide(votes, cfg, NOW, context));
      }),
      RUNS,
    );
  });

  it('(c) the verdict does not depend on the order of duplicate votes that tie on seq and time', () => {
    const tie = fc.record({
      voter: fc.constantFrom(A, B, C),
      target: fc.constantFrom(P, S),
      healthy: fc.boolean(),
      age: fc.constant(1_000),
      streak: fc.constantFrom(10_000, 40_000),
      seq: fc.constant(1),
      detail: fc.constantFrom(...DETAILS),
    });
    const arb = fc
      .array(tie.map(toVote), { maxLength: 12 })
      .chain((votes) =>
        fc.tuple(fc.constant(votes), fc.shuffledSubarray(votes, { minLength: votes.length })),
      );
    fc.assert(
      fc.property(arb, contextArb, ([votes, shuffled], context) => {
        expect(decide(shuffled, config, NOW, context)).toEqual(decide(votes, config, NOW, context));
      }),
      RUNS,
    );
  });

  it('(d) one voter alone never triggers an automatic failover when quorum ≥ 2', () => {
    const arb = configArb.chain((cfg) =>
      fc.record({
        config: fc.constant(cfg),
        context: contextArb,
        lone: fc.constantFrom(...cfg.watchers),
        specs: fc.array(voteSpecArb(['lone'], [P, S], mostlyDown), { minLength: 1, maxLength: 8 }),
        // Everyone else either sees the primary healthy or says nothing fresh.
        others: fc.array(voteSpecArb(cfg.watchers, [P, S], fc.constant(true)), { maxLength: 10 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ config: cfg, context, lone, specs, others }) => {
        expect(cfg.quorum).toBeGreaterThanOrEqual(2);
        const mine = specs.map((s) => toVote({ ...s, voter: lone }));
        const rest = others.filter((s) => s.voter !== lone).map(toVote);
        expect(decide(mine, cfg, NOW, context).kind).not.toBe('failover');
        expect(decide([...mine, ...rest], cfg, NOW, context).kind).not.toBe('failover');
        // With the others fresh and healthy about the primary, one voter does not even ask.
        const fresh = cfg.watchers.filter((w) => w !== lone).map((w) => up(w));
        expect(requestsFailover(decide([...mine, ...fresh], cfg, NOW, context))).toBe(false);
      }),
      RUNS,
    );
  });

  it('(e) votes about the standby never make the primary fail over unless its own votes reach quorum', () => {
    const arb = configArb.chain((cfg) =>
      fc.record({
        config: fc.constant(cfg),
        context: contextArb,
        primaryVotes: fc.array(voteSpecArb(cfg.watchers, [P], mostlyDown).map(toVote), { maxLength: 10 }),
        standbyVotes: fc.array(voteSpecArb(cfg.watchers, [S]).map(toVote), { maxLength: 10 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ config: cfg, context, primaryVotes, standbyVotes }) => {
        const alone = decide(primaryVotes, cfg, NOW, context);
        const both = decide([...primaryVotes, ...standbyVotes], cfg, NOW, context);
        expect(both.evidence.fresh).toEqual(alone.evidence.fresh);
        expect(both.evidence.sustainedUnhealthy).toEqual(alone.evidence.sustainedUnhealthy);
        if (sustainedVoters(primaryVotes, cfg, NOW, P).length < cfg.quorum) {
          expect(both.kind).not.toBe('failover');
          expect([both.kind, both.code]).toEqual([alone.kind, alone.code]);
        }
      }),
      RUNS,
    );
  });
});
