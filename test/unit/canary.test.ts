import { describe, expect, it } from 'vitest';
import {
  CANARY_DEFAULTS,
  canaryControlRefusal,
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

describe('canary: what the control table must hold before any traffic change', () => {
  const now = 1_000_000;
  const held = { holder: 'us-east-1', epoch: 3, expiresAt: now + 10_000 };
  const clear = { lease: held, pause: null, openIncident: null };

  it('allows only the configured primary holding an unexpired lease, with no incident and no pause', () => {
    expect(canaryControlRefusal(clear, 'us-east-1', now)).toBeNull();
  });

  it('refuses every other state with its code and why', () => {
    const cases = [
      [{ ...clear, lease: null }, 'NO_LEASE', /no lease has ever been granted/],
      [{ ...clear, lease: { ...held, holder: null, epoch: 4 } }, 'LEASE_REVOKED', /revoked at epoch 4/],
      [
        { ...clear, lease: { ...held, holder: 'us-west-2', epoch: 5 } },
        'PRIMARY_NOT_HOLDER',
        /^us-west-2 holds the lease at epoch 5, not the configured primary us-east-1: a rollback would send all traffic to the fenced old region/,
      ],
      [
        { ...clear, lease: { ...held, expiresAt: now } },
        'LEASE_EXPIRED',
        /expired at 1970-01-01T00:16:40.000Z/,
      ],
      [
        { ...clear, openIncident: { id: 'orders:3:1', status: 'running' as const } },
        'INCIDENT_OPEN',
        /^incident orders:3:1 is open \(running\)/,
      ],
      [
        { ...clear, pause: { pausedBy: 'oncall', reason: 'db upgrade' } },
        'PAUSED',
        /paused by oncall \(db upgrade\)/,
      ],
    ] as const;
    for (const [state, code, reason] of cases) {
      const r = canaryControlRefusal(state, 'us-east-1', now);
      expect(r?.code).toBe(code);
      expect(r?.reason).toMatch(reason);
    }
  });
});
