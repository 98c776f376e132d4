import { describe, expect, it } from 'vitest';
import {
  CANARY_DEFAULTS,
  canaryRefusalReason,
  canaryVerdict,
  judgeCanary,
  type Probe,
  parseDuration,
  parsePercent,
  stats,
} from '#core/canary.js';
import { exampleConfig } from '../support/fixtures.js';

const probes = (region: string, oks: boolean[], latencyMs = 20): Probe[] =>
  oks.map((ok, i) => ({ region, at: i, ok, latencyMs, detail: ok ? 'status 200' : 'status 500' }));
const ten = (ok = true) => new Array(10).fill(ok) as boolean[];

describe('canary decisions', () => {
  it('parses durations and percents, refusing the rest with the flag', () => {
    expect([parseDuration('90s'), parseDuration('10m'), parseDuration('1h'), parseDuration('1500')]).toEqual([
      90_000, 600_000, 3_600_000, 1_500,
    ]);
    expect(() => parseDuration('25h')).toThrow('--duration must be from 1s to 24h, got "25h"');
    expect(() => parseDuration('ten')).toThrow(/^--duration must be a number with a unit/);
    expect(parsePercent('5')).toBe(5);
    for (const bad of ['0', '51', '2.5', 'x']) expect(() => parsePercent(bad)).toThrow(/^--percent must be/);
  });

  it('judges nothing before the minimum samples, then compares the standby with the primary', () => {
    const o = CANARY_DEFAULTS;
    expect(judgeCanary(stats(probes('p', ten())), stats(probes('s', [false])), o).code).toBe(
      'TOO_FEW_SAMPLES',
    );
    expect(judgeCanary(stats(probes('p', ten())), stats(probes('s', ten())), o).code).toBe(
      'WITHIN_THRESHOLDS',
    );
    const errors = judgeCanary(stats(probes('p', ten())), stats(probes('s', [...ten().slice(1), false])), o);
    expect(errors).toEqual({
      action: 'rollback',
      code: 'ERROR_RATE_BREACH',
      reason: "standby error rate 10.0% (1/10) is over the primary's 0.0% + 2.0%",
    });
    // Both regions failing alike is not the standby's fault.
    const bothBad = [...ten().slice(2), false, false];
    expect(judgeCanary(stats(probes('p', bothBad)), stats(probes('s', bothBad)), o).action).toBe('continue');
    const slow = judgeCanary(stats(probes('p', ten(), 100)), stats(probes('s', ten(), 201)), o);
    expect(slow).toEqual({
      action: 'rollback',
      code: 'LATENCY_BREACH',
      reason: "standby p95 latency 201 ms is over 200 ms (the primary's 100 ms × 1.5 + 50 ms)",
    });
    expect(judgeCanary(stats(probes('p', ten(), 100)), stats(probes('s', ten(), 200)), o).action).toBe(
      'continue',
    );
  });

  it('passes only a completed run that rolled back', () => {
    expect(canaryVerdict({ code: 'COMPLETED', reason: 'x' }, true)).toEqual({ verdict: 'pass', reasons: [] });
    expect(canaryVerdict({ code: 'COMPLETED', reason: 'x' }, false).reasons[0]).toMatch(/^ROLLBACK_FAILED/);
    expect(canaryVerdict({ code: 'INTERRUPTED', reason: 'Ctrl-C' }, true)).toEqual({
      verdict: 'fail',
      reasons: ['INTERRUPTED: Ctrl-C'],
    });
  });

  it('refuses a traffic layer that cannot send a share, naming the field', () => {
    expect(canaryRefusalReason(exampleConfig())).toBeNull();
    expect(canaryRefusalReason(exampleConfig((c) => delete c.traffic))).toMatch(/^no traffic section/);
    expect(canaryRefusalReason(exampleConfig((c) => (c.traffic.routing = 'failover')))).toBe(
      'traffic.routing failover: only weighted records can send a share',
    );
  });

  it('stats: p95 of the answered probes; errors count apart', () => {
    const mixed = [...probes('s', ten(), 10), ...probes('s', [false], 3000)];
    expect(stats(mixed)).toEqual({ samples: 11, errors: 1, errorRate: 1 / 11, p95Ms: 10 });
  });
});
