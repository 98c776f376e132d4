import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitWait, waitTimestamp } from '#steps/core/fence.js';
import { breakdown } from '#steps/core/timings.js';

describe('waitTimestamp', () => {
  it('never ends before the instant it is given, though Step Functions truncates milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_600_000_000_000, max: 2_500_000_000_000 }), (ms) => {
        const ts = waitTimestamp(ms);
        expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(Date.parse(ts)).toBeGreaterThanOrEqual(ms);
        expect(Date.parse(ts) - ms).toBeLessThan(1000);
      }),
    );
  });
});

describe('splitWait', () => {
  it('waits exactly what is left, never less: the part of a second in the step, whole seconds in the Wait', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 600_000 }), (remaining) => {
        const { sleepMs, waitSeconds } = splitWait(remaining);
        expect(Number.isInteger(waitSeconds)).toBe(true);
        expect(waitSeconds).toBeGreaterThanOrEqual(0);
        expect(sleepMs).toBeGreaterThanOrEqual(0);
        expect(sleepMs).toBeLessThan(1000);
        expect(sleepMs + waitSeconds * 1000).toBeGreaterThanOrEqual(remaining);
        // Never a second more than needed, which the whole-second timestamp used to cost.
        expect(sleepMs + waitSeconds * 1000).toBeLessThan(Math.max(remaining, 0) + 1);
      }),
    );
  });

  it('skips the Wait when under a second is left', () => {
    expect(splitWait(0)).toEqual({ sleepMs: 0, waitSeconds: 0 });
    expect(splitWait(-250)).toEqual({ sleepMs: 0, waitSeconds: 0 });
    expect(splitWait(999)).toEqual({ sleepMs: 999, waitSeconds: 0 });
    expect(splitWait(1000)).toEqual({ sleepMs: 0, waitSeconds: 1 });
    expect(splitWait(3250.4)).toEqual({ sleepMs: 251, waitSeconds: 3 });
  });
});

describe('breakdown', () => {
  it('cuts phases at fixed boundaries so that they add up to the total', () => {
    const rec = (name: string, startedAt: number, endedAt: number) => ({
      name,
      startedAt,
      endedAt,
      outcome: 'ok',
    });
    const state = {
      detectedAt: 1000,
      requestedAt: 31_000,
      claim: { step: rec('claim', 31_100, 31_200) },
      stop: { step: rec('stop-traffic', 31_300, 31_500), poll: { step: rec('s', 36_000, 36_100) } },
      fence: { step: rec('fence', 36_200, 36_300), safeToTakeAt: 60_000 },
      promote: { step: rec('promote', 60_100, 60_500), poll: { step: rec('p', 90_000, 90_100) } },
      lease: { step: rec('grant-lease', 90_200, 90_300) },
      route: { step: rec('route-traffic', 90_400, 90_600), poll: { step: rec('r', 120_000, 120_100) } },
      verify: { step: rec('verify', 120_200, 120_300) },
    };
    const b = breakdown(state, 200_000);
    expect(b).toEqual({
      detectionMs: 30_000,
      decisionMs: 300,
      fenceMs: 28_700,
      promoteMs: 30_100,
      trafficMs: 30_000,
      verifyMs: 200,
      totalMs: 119_300,
      approvalMs: null,
    });
    expect(b.detectionMs! + b.decisionMs! + b.fenceMs! + b.promoteMs! + b.trafficMs! + b.verifyMs!).toBe(
      b.totalMs,
    );
  });
});
