import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { debounceAlignmentMs } from '#commons/prober-loop.js';

const config = {
  debounceMs: 2_500,
  voteStalenessMs: 1_200,
  probe: { intervalMs: 500, connectTimeoutMs: 300, responseTimeoutMs: 450 },
};

describe('debounceAlignmentMs', () => {
  it('moves the observation that would land just short of the debounce boundary just past it', () => {
    // This round started at 3_000 and observed at 3_004, so the next observes at about 3_504. Short of the
    // boundary by a few ms, the failover would wait a whole interval more.
    const shift = debounceAlignmentMs(
      [{ healthy: false, streakSince: 1_000, observedAt: 3_004 }],
      3_000,
      3_500,
      config,
    );
    // 1_000 + 2_500 − 3_504 = −4: it would already land 4 ms past. Make it land 6 ms short instead:
    expect(shift).toBe(0);
    const short = debounceAlignmentMs(
      [{ healthy: false, streakSince: 1_010, observedAt: 3_004 }],
      3_000,
      3_500,
      config,
    );
    // 6 ms short, plus a margin of a twentieth of the interval (25 ms).
    expect(short).toBe(31);
    expect(3_504 + short - 1_010).toBeGreaterThanOrEqual(2_500);
  });

  it('leaves healthy voters, early streaks and already-sustained ones alone', () => {
    expect(
      debounceAlignmentMs([{ healthy: true, streakSince: 1_000, observedAt: 3_004 }], 3_000, 3_500, config),
    ).toBe(0);
    expect(
      debounceAlignmentMs([{ healthy: false, streakSince: 3_004, observedAt: 3_004 }], 3_000, 3_500, config),
    ).toBe(0);
    expect(
      debounceAlignmentMs([{ healthy: false, streakSince: 900, observedAt: 3_004 }], 3_000, 3_500, config),
    ).toBe(0);
  });

  it('leaves a shortfall larger than it may shift alone: the next round completes the window', () => {
    // 40 ms short + 25 ms margin is over the cap (min(500 / 10, (1200 − 500 − 450) / 4) = 50 ms).
    expect(
      debounceAlignmentMs([{ healthy: false, streakSince: 1_044, observedAt: 3_004 }], 3_000, 3_500, config),
    ).toBe(0);
  });

  it('never shifts when the staleness rule has no room for it', () => {
    const tight = { ...config, voteStalenessMs: 950 };
    expect(
      debounceAlignmentMs([{ healthy: false, streakSince: 1_000, observedAt: 3_004 }], 3_000, 3_500, tight),
    ).toBe(0);
  });

  it('takes at most a tenth of an interval and a quarter of the staleness room', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 450 }),
        fc.integer({ min: 0, max: 3_000 }),
        (since, probeMs, started) => {
          const observedAt = started + probeMs;
          const shift = debounceAlignmentMs(
            [{ healthy: false, streakSince: Math.min(since, observedAt), observedAt }],
            started,
            started + 500,
            config,
          );
          expect(shift).toBeGreaterThanOrEqual(0);
          expect(shift).toBeLessThanOrEqual(50);
          expect(shift).toBeLessThanOrEqual((config.voteStalenessMs - 500 - 450) / 4 + 1);
        },
      ),
    );
  });
});
