import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.js';
import {
  DrillConfigError,
  drillEdgeTimings,
  SCALED_MS_FIELDS,
  SCALED_SECONDS_FIELDS,
  scaledDrillConfig,
  scaleTimings,
} from '../../infra/local/drill-config.js';

const example = () => JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
const parsed = (input: unknown) => {
  const r = parseConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
};
const at = (o: unknown, path: string) =>
  path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown>)[k], o) as number;

/** Every numeric leaf of an object whose key names a duration, as a dotted path. */
function durationPaths(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [];
  return Object.entries(o).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number' && /(Ms|Seconds|Minutes)$/.test(k)) return [path];
    return durationPaths(v, path);
  });
}

/** AWS's own values, not the configuration's: drillEdgeTimings divides them by the same scale. */
const EDGE_FIELDS = ['traffic.ttlSeconds', 'traffic.healthCheck.requestIntervalSeconds'];

describe('--time-scale: every timing of a configuration divided', () => {
  it('covers every duration field of the parsed example (defaults filled): none is left as written', () => {
    const config = parsed(example());
    const scaled = new Set<string>([...SCALED_MS_FIELDS, ...SCALED_SECONDS_FIELDS, ...EDGE_FIELDS]);
    const all = durationPaths(config);
    expect(all.length).toBeGreaterThan(15);
    expect(all.filter((p) => !scaled.has(p))).toEqual([]);
  });

  it('divides each millisecond timing (rounded, never below 1) and each seconds timing (rounded up)', () => {
    const config = parsed(example());
    const raw = scaleTimings(config, 20);
    for (const p of SCALED_MS_FIELDS) expect(at(raw, p), p).toBe(Math.max(1, Math.round(at(config, p) / 20)));
    for (const p of SCALED_SECONDS_FIELDS) expect(at(raw, p), p).toBe(Math.ceil(at(config, p) / 20));
    expect(raw.probe.intervalMs).toBe(500);
    expect(raw.lease.ttlMs).toBe(1_500);
    expect(raw.approval.timeoutSeconds).toBe(45);
    // Nothing else moves, and the input is not touched.
    expect(raw.watchers).toEqual(config.watchers);
    expect(raw.quorum).toBe(config.quorum);
    expect(config.probe.intervalMs).toBe(10_000);
  });

  it('a scale of 1 is the configuration as written', () => {
    const config = parsed(example());
    expect(scaledDrillConfig(example(), 1)).toEqual(config);
  });

  it('the scaled example still passes the rules, and the edge is divided by the same scale', () => {
    const c = scaledDrillConfig(example(), 20);
    expect(c.debounceMs).toBe(1_500);
    expect(c.takeoverAfterMs).toBe(9_000);
    expect(drillEdgeTimings(c, 20)).toMatchObject({ intervalMs: 500, ttlMs: 3_000, propagationMs: 3_000 });
    expect(drillEdgeTimings(c, 1)).toMatchObject({
      intervalMs: 10_000,
      ttlMs: 60_000,
      propagationMs: 60_000,
    });
  });

  it('applies the scenario adjustments after scaling, then checks the rules again', () => {
    const c = scaledDrillConfig(example(), 20, (raw) => {
      raw.rpoBudgetMs = 10_000;
    });
    expect(c.rpoBudgetMs).toBe(10_000);
    expect(() =>
      scaledDrillConfig(example(), 20, (raw) => {
        raw.debounceMs = 100;
      }),
    ).toThrow(/debounceMs: debounceMs must be at least 2 × probe.intervalMs = 1000, got 100/);
  });

  it('refuses a configuration invalid as written, with every problem by field', () => {
    const bad = example();
    bad.quorum = 1;
    bad.lease.ttlMs = 1_000;
    const err = (() => {
      try {
        scaledDrillConfig(bad, 1, undefined, 'mine.json');
      } catch (e) {
        return e as DrillConfigError;
      }
      throw new Error('not refused');
    })();
    expect(err).toBeInstanceOf(DrillConfigError);
    expect(err.message).toMatch(/^mine.json is invalid:/);
    expect(err.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['quorum', 'lease.ttlMs']));
  });

  it('refuses a scale that breaks a rule, naming the rule: a scheduled heartbeat run shorter than two schedule periods', () => {
    const input = example();
    input.lease.keeper = 'scheduled';
    expect(scaledDrillConfig(input, 1).lease.scheduledRunMs).toBe(130_000);
    expect(() => scaledDrillConfig(input, 2, undefined, 'mine.json')).toThrow(
      /valid as written, but its timings divided by --time-scale 2 break the configuration rules[\s\S]*lease.scheduledRunMs: lease.scheduledRunMs must be at least 2 × 60000 \+ lease.renewIntervalMs = 125000/,
    );
  });

  it('refuses a scale below 1 or not a number', () => {
    const config = parsed(example());
    expect(() => scaleTimings(config, 0.5)).toThrow(RangeError);
    expect(() => scaleTimings(config, Number.NaN)).toThrow(RangeError);
  });
});
