import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latestPerVoter, nextVote, type ProbeResult, type Vote, voteSchema } from '#core/vote.js';

const key = { application: 'orders', target: 'us-east-1', voter: 'eu-west-1' };
const TTL = 3600;
const T0 = 1_700_000_000_000;

const probe = (healthy: boolean, observedAt: number, over: Partial<ProbeResult> = {}): ProbeResult => ({
  healthy,
  latencyMs: 42,
  detail: healthy ? 'ok 200' : 'status 503',
  observedAt,
  ...over,
});

/** Runs probes through nextVote the way the prober does, each vote feeding the next. */
function run(results: ProbeResult[], from?: Vote, maxGapMs?: number): Vote[] {
  const out: Vote[] = [];
  let previous = from;
  for (const r of results) {
    previous = nextVote(previous, r, key, TTL, maxGapMs);
    out.push(previous);
  }
  return out;
}

describe('nextVote', () => {
  it('starts a streak with the first probe', () => {
    expect(nextVote(undefined, probe(false, T0, { latencyMs: 3000.4 }), key, TTL)).toEqual({
      ...key,
      healthy: false,
      consecutiveFailures: 1,
      consecutiveSuccesses: 0,
      observedAt: T0,
      streakSince: T0,
      seq: 1,
      latencyMs: 3000,
      detail: 'status 503',
      expiresAt: T0 / 1000 + TTL,
    });
  });

  it('counts consecutive failures and keeps streakSince within a streak, seq + 1 each time', () => {
    const votes = run([probe(false, T0), probe(false, T0 + 10_000), probe(false, T0 + 20_000)]);
    expect(votes.map((v) => [v.consecutiveFailures, v.consecutiveSuccesses, v.streakSince, v.seq])).toEqual([
      [1, 0, T0, 1],
      [2, 0, T0, 2],
      [3, 0, T0, 3],
    ]);
  });

  it('resets the streak when health changes, in both directions', () => {
    const votes = run([
      probe(true, T0),
      probe(true, T0 + 10_000),
      probe(false, T0 + 20_000),
      probe(false, T0 + 30_000),
      probe(true, T0 + 40_000),
    ]);
    expect(
      votes.map((v) => [v.healthy, v.consecutiveFailures, v.consecutiveSuccesses, v.streakSince, v.seq]),
    ).toEqual([
      [true, 0, 1, T0, 1],
      [true, 0, 2, T0, 2],
      [false, 1, 0, T0 + 20_000, 3],
      [false, 2, 0, T0 + 20_000, 4],
      [true, 0, 1, T0 + 40_000, 5],
    ]);
  });

  it('carries the streak across invocations from the stored previous vote', () => {
    // One invocation per minute, six probes each: the second starts from what the first wrote.
    const first = run([0, 1, 2, 3, 4, 5].map((i) => probe(false, T0 + i * 10_000)));
    const second = run(
      [0, 1, 2].map((i) => probe(false, T0 + 60_000 + i * 10_000)),
      structuredClone(first.at(-1)),
    );
    expect(second.map((v) => [v.consecutiveFailures, v.streakSince, v.seq])).toEqual([
      [7, T0, 7],
      [8, T0, 8],
      [9, T0, 9],
    ]);
  });

  it('sets expiresAt to the observation, rounded up to the second, plus the TTL', () => {
    expect(nextVote(undefined, probe(true, T0 + 1), key, TTL).expiresAt).toBe(T0 / 1000 + 1 + TTL);
    expect(nextVote(undefined, probe(true, T0 + 999), key, 60).expiresAt).toBe(T0 / 1000 + 1 + 60);
    expect(nextVote(undefined, probe(true, T0), key, 60).expiresAt).toBe(T0 / 1000 + 60);
  });

  it('writes a vote the schema accepts, however odd the probe result', () => {
    const v = nextVote(undefined, probe(false, T0, { latencyMs: -3, detail: 'x'.repeat(2_000) }), key, TTL);
    expect(v.latencyMs).toBe(0);
    expect(v.detail).toHaveLength(500);
    expect(voteSchema.safeParse(v).success).toBe(true);
  });

  it('does not carry a streak over a previous vote that had expired', () => {
    const old = run([probe(false, T0), probe(false, T0 + 10_000)]).at(-1);
    const back = nextVote(old, probe(false, T0 + 10_000 + (TTL + 1) * 1000), key, TTL);
    expect(back).toMatchObject({ consecutiveFailures: 1, streakSince: back.observedAt, seq: 3 });
    const inTime = nextVote(old, probe(false, T0 + 10_000 + TTL * 1000), key, TTL);
    expect(inTime).toMatchObject({ consecutiveFailures: 3, streakSince: T0, seq: 3 });
  });

  it('does not carry a streak over a gap longer than maxGapMs', () => {
    const old = run([probe(false, T0)]).at(-1);
    expect(nextVote(old, probe(false, T0 + 25_001), key, TTL, 25_000)).toMatchObject({
      consecutiveFailures: 1,
      streakSince: T0 + 25_001,
      seq: 2,
    });
    expect(nextVote(old, probe(false, T0 + 25_000), key, TTL, 25_000)).toMatchObject({
      consecutiveFailures: 2,
      streakSince: T0,
      seq: 2,
    });
  });

  it('keeps streakSince no later than the observation when the clock steps back', () => {
    const old = run([probe(false, T0), probe(false, T0 + 10_000)]);
    const stepBack = nextVote(old.at(-1), probe(false, T0 - 5_000), key, TTL);
    expect(stepBack.streakSince).toBe(T0 - 5_000);
    expect(stepBack.seq).toBe(3);
  });

  it('keeps its invariants over any sequence of probes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ healthy: fc.boolean(), step: fc.integer({ min: -2_000, max: 40_000 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.option(fc.integer({ min: 10_000, max: 60_000 }), { nil: undefined }),
        (steps, maxGapMs) => {
          let at = T0;
          const votes = run(
            steps.map((s) => {
              at += s.step;
              return probe(s.healthy, at);
            }),
            undefined,
            maxGapMs,
          );
          votes.forEach((v, i) => {
            expect(v.seq).toBe(i + 1);
            expect(v.streakSince).toBeLessThanOrEqual(v.observedAt);
            expect(v.healthy ? v.consecutiveFailures : v.consecutiveSuccesses).toBe(0);
            const count = v.healthy ? v.consecutiveSuccesses : v.consecutiveFailures;
            // The count is the length of the run of equal health that ends here, at most.
            let runLength = 0;
            for (let j = i; j >= 0 && votes[j]?.healthy === v.healthy; j--) runLength++;
            expect(count).toBeGreaterThanOrEqual(1);
            expect(count).toBeLessThanOrEqual(runLength);
            expect(voteSchema.safeParse(v).success).toBe(true);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

const base = (over: Partial<Vote> & Pick<Vote, 'voter'>): Vote => ({
  application: 'orders',
  target: 'us-east-1',
  healthy: true,
  consecutiveFailures: 0,
  consecutiveSuccesses: 1,
  observedAt: T0,
  streakSince: T0,
  seq: 1,
  latencyMs: 10,
  detail: 'ok 200',
  expiresAt: T0 / 1000 + TTL,
  ...over,
});

describe('latestPerVoter', () => {
  it('keeps the highest seq of each voter, whatever the order', () => {
    const a1 = base({ voter: 'eu-west-1', seq: 1, observedAt: T0 + 50_000 });
    const a2 = base({ voter: 'eu-west-1', seq: 2, healthy: false });
    const b3 = base({ voter: 'ca-central-1', seq: 3 });
    const b1 = base({ voter: 'ca-central-1', seq: 1 });
    expect(latestPerVoter([a1, a2, b3, b1])).toEqual([b3, a2]);
    expect(latestPerVoter([b1, a2, a1, b3])).toEqual([b3, a2]);
  });

  it('breaks a seq tie by the later observation', () => {
    const early = base({ voter: 'eu-west-1', seq: 4, observedAt: T0 });
    const late = base({ voter: 'eu-west-1', seq: 4, observedAt: T0 + 1, healthy: false });
    expect(latestPerVoter([late, early])).toEqual([late]);
    expect(latestPerVoter([early, late])).toEqual([late]);
  });

  it('gives an exact tie to the cautious vote, in either order', () => {
    const down = base({ voter: 'eu-west-1', seq: 4, healthy: false, streakSince: T0 - 60_000 });
    const up = base({ voter: 'eu-west-1', seq: 4, healthy: true });
    expect(latestPerVoter([down, up])).toEqual([up]);
    expect(latestPerVoter([up, down])).toEqual([up]);
    const longer = base({ voter: 'eu-west-1', seq: 4, healthy: false, streakSince: T0 - 60_000 });
    const shorter = base({ voter: 'eu-west-1', seq: 4, healthy: false, streakSince: T0 - 10_000 });
    expect(latestPerVoter([longer, shorter])).toEqual([shorter]);
    expect(latestPerVoter([shorter, longer])).toEqual([shorter]);
  });

  it('keeps one vote per voter and target, sorted by target then voter', () => {
    const votes = [
      base({ voter: 'eu-west-1', target: 'us-west-2' }),
      base({ voter: 'eu-west-1', target: 'us-east-1' }),
      base({ voter: 'ca-central-1', target: 'us-west-2' }),
      base({ voter: 'ca-central-1', target: 'us-east-1' }),
    ];
    expect(latestPerVoter(votes).map((v) => `${v.target}/${v.voter}`)).toEqual([
      'us-east-1/ca-central-1',
      'us-east-1/eu-west-1',
      'us-west-2/ca-central-1',
      'us-west-2/eu-west-1',
    ]);
  });

  it('returns the same newest votes for any order of the input', () => {
    const voteArb = fc.record({
      voter: fc.constantFrom('eu-west-1', 'ca-central-1', 'sa-east-1'),
      target: fc.constantFrom('us-east-1', 'us-west-2'),
      seq: fc.integer({ min: 1, max: 3 }),
      observedAt: fc.integer({ min: 0, max: 2 }).map((i) => T0 + i * 1000),
      healthy: fc.boolean(),
      streakSince: fc.integer({ min: 0, max: 2 }).map((i) => T0 - i * 10_000),
      detail: fc.constantFrom('ok 200', 'status 503', 'timeout after 3000 ms'),
    });
    fc.assert(
      fc.property(
        fc.array(voteArb, { maxLength: 20 }).chain((raw) => {
          const votes = raw.map((r) => base(r));
          return fc.tuple(fc.constant(votes), fc.shuffledSubarray(votes, { minLength: votes.length }));
        }),
        ([votes, shuffled]) => {
          const latest = latestPerVoter(votes);
          expect(latestPerVoter(shuffled)).toEqual(latest);
          const keys = latest.map((v) => `${v.target}/${v.voter}`);
          expect(new Set(keys).size).toBe(keys.length);
          expect(new Set(keys)).toEqual(new Set(votes.map((v) => `${v.target}/${v.voter}`)));
          for (const v of latest) {
            const same = votes.filter((o) => o.voter === v.voter && o.target === v.target);
            expect(v.seq).toBe(Math.max(...same.map((o) => o.seq)));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
