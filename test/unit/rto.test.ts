import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import { crossFieldIssues } from '#core/config-rules.js';
import {
  ASSUMED,
  estimateRto,
  MACHINE,
  type PhaseId,
  type RtoEstimate,
  rtoPhases,
  SOURCES,
} from '#core/rto.js';
import { MAX_ATTEMPTS, POLL_SECONDS } from '#steps/core/state.js';
import { exampleConfig, withTrafficMode } from '../support/fixtures.js';

const fromFile = (file: string) => loadConfig(JSON.parse(readFileSync(file, 'utf8')));
const phaseOf = (e: RtoEstimate, id: PhaseId) => e.phases.find((p) => p.id === id)!;
const partOf = (e: RtoEstimate, id: PhaseId, part: string) =>
  phaseOf(e, id).parts.find((p) => p.id === part)!;
const triple = (x: { best: number; expected: number; worst: number }) => [x.best, x.expected, x.worst];

/** The example without a database, Route 53 health checks as it has them: nothing to promote. */
const noDatabase = () =>
  exampleConfig((c) => {
    delete c.database;
    delete c.primary.databaseId;
    delete c.standby.databaseId;
  });

/** No database, Global Accelerator (10 s, threshold 1), probes every 5 s, a 10 s debounce. */
const fastAccelerator = () =>
  exampleConfig((c) => {
    delete c.database;
    delete c.primary.databaseId;
    delete c.standby.databaseId;
    c.fence.lambdaFunctions = [];
    c.probe = { intervalMs: 5_000, connectTimeoutMs: 2_000, responseTimeoutMs: 3_000 };
    c.debounceMs = 10_000;
    c.traffic.mode = 'accelerator';
    c.traffic.accelerator = {
      endpoints: { 'us-east-1': 'alb-use1', 'us-west-2': 'alb-usw2' },
      healthCheckIntervalSeconds: 10,
      thresholdCount: 1,
    };
  });

describe('rto of examples/cutover.example.json (RDS, Route 53 health checks, 60 s TTL), by hand', () => {
  const e = estimateRto(fromFile('examples/cutover.example.json'));

  it('detection: the quorum-th next probe, the probe failing, the debounce, delivery', () => {
    // 5 watchers, quorum 3, every 10 s: the 3rd probe comes 3/6 × 10 s = 5 s after the failure on average.
    expect(triple(partOf(e, 'detection', 'first-probe'))).toEqual([0, 5_000, 10_000]);
    // Refused at once; no connection in 2 s; no answer in 3 s.
    expect(triple(partOf(e, 'detection', 'probe-fails'))).toEqual([0, 2_000, 3_000]);
    // ceil(30 s / 10 s) = 3 intervals.
    expect(triple(partOf(e, 'detection', 'debounce'))).toEqual([30_000, 30_000, 30_000]);
    // 6 rounds a minute (the last at 50 s), the next run at 60 s: no gap beyond an interval, + 2 s start.
    expect(triple(partOf(e, 'detection', 'minute-boundary'))).toEqual([0, 0, 2_000]);
    // best 0 + 0 + 30 + 0 + 0.5; expected 5 + 2 + 30 + 0 + 1.5; worst 10 + 3 + 30 + 2 + 5.
    expect(triple(phaseOf(e, 'detection'))).toEqual([30_500, 38_500, 50_000]);
  });

  it('decision: start, claim and re-check; the approval named but not counted', () => {
    // 0.2 + 0.1 + 0.1; 0.5 + 0.3 + 0.3; 2 + 1.5 + 1.5.
    expect(triple(phaseOf(e, 'claim'))).toEqual([400, 1_100, 5_000]);
    expect(partOf(e, 'claim', 'approval').basis).toMatch(/waits for a person.*900 s; not in these numbers/);
  });

  it('fence: a dead primary stopped renewing, so its lease has run out by the time the fence runs', () => {
    // Expected: ttl 30 + skew 1 − 5 (half a renewal) − (38.5 + 1.1 + 0.3 already passed) < 0: no wait.
    // Worst: a partitioned primary renewed just before the revoke: 30 + 1, to the millisecond (the step waits the
    // part of a second, the Wait the whole seconds).
    expect(triple(partOf(e, 'fence', 'wait-out-lease'))).toEqual([0, 0, 31_000]);
    // Two tasks, and the fence action into the failed region (2 × 3 s).
    expect(triple(phaseOf(e, 'fence'))).toEqual([400, 6_600, 40_000]);
  });

  it('promotion: the RPO guard, RDS promotion for minutes, 10 s polls, the grant', () => {
    // The guard reads 6 times 5 s apart: 25 s; half a minute's metric period (30 s) is longer.
    expect(triple(partOf(e, 'promotion', 'rpo-guard'))).toEqual([100, 25_000, 25_000]);
    // 60 s, 300 s, database.promoteTimeoutSeconds 900 s.
    expect(triple(partOf(e, 'promotion', 'promote'))).toEqual([60_000, 300_000, 900_000]);
    expect(triple(phaseOf(e, 'promotion'))).toEqual([60_200, 330_300, 936_500]);
  });

  it('traffic: checkers every 10 s, threshold 1, the status to DNS, a 60 s TTL', () => {
    // Threshold 1: (1 − 1) × 10, (1 − ½) × 10, 1 × 10.
    expect(triple(partOf(e, 'traffic', 'r53-health'))).toEqual([0, 5_000, 10_000]);
    expect(triple(partOf(e, 'traffic', 'resolver-cache'))).toEqual([0, 30_000, 60_000]);
    // 0.1 + 0 + 0 + 0; 0.3 + 5 + 10 + 30; 1.5 + 10 + 30 + 60.
    expect(triple(phaseOf(e, 'traffic'))).toEqual([100, 45_300, 101_500]);
  });

  it('says plainly that it does not meet 60 s, and that no setting can because of RDS promotion', () => {
    expect(triple(e.total)).toEqual([91_600, 421_800, 1_133_000]);
    expect(e.verdict.code).toBe('CANNOT_MEET_TARGET');
    expect(e.verdict.reason).toMatch(/^DOES NOT MEET the 60 s target: expected 421\.8 s/);
    expect(e.verdict.reason).toContain('RDS read replica promotion alone takes at least 60.2 s');
    expect(e.caveats.join(' ')).toContain("within the RPO guard's 25 s: then a person decides");
  });
});

describe('rto of examples/cutover.dynamodb.json (global tables, Global Accelerator), by hand', () => {
  const e = estimateRto(fromFile('examples/cutover.dynamodb.json'));

  it('adds up phase by phase', () => {
    // Every 5 s: 3/6 × 5 = 2.5; + 2 connect + ceil(10/5) × 5 = 10 debounce + 1.5 delivery.
    expect(triple(phaseOf(e, 'detection'))).toEqual([10_500, 16_000, 25_000]);
    // No fence actions. Lease 16 s: 16 + 1 − 2.5 − (16 + 1.1 + 0.3) < 0; worst 17 + two tasks.
    expect(triple(phaseOf(e, 'fence'))).toEqual([200, 600, 20_000]);
    // The guard never sees a reading newer than the fence from the failed source region: all 25 s.
    expect(triple(partOf(e, 'promotion', 'rpo-guard'))).toEqual([100, 25_000, 25_000]);
    expect(partOf(e, 'promotion', 'promote').label).toBe('nothing to promote');
    expect(triple(phaseOf(e, 'promotion'))).toEqual([300, 25_600, 28_000]);
    // Accelerator every 10 s, threshold 1: 0 / 5 / 10, then about 30 s to shift: 0 / 15 / 30. No DNS cache.
    expect(triple(phaseOf(e, 'traffic'))).toEqual([100, 20_300, 41_500]);
    expect(phaseOf(e, 'traffic').parts.map((p) => p.id)).not.toContain('resolver-cache');
    expect(triple(e.total)).toEqual([11_500, 63_600, 119_500]);
  });

  it('names the RPO guard as what keeps it over 60 s, and what the policy then does', () => {
    expect(e.verdict.code).toBe('CANNOT_MEET_TARGET');
    expect(e.verdict.reason).toContain('RpoGuard: a lag reading newer than the fence takes 25 s');
    expect(e.caveats[0]).toMatch(/published by the failed region.*after 25 s of readings a person decides/);
  });
});

describe('rto verdicts', () => {
  it('within 60 s expected, not in the worst case: no database, accelerator, fast probes', () => {
    const e = estimateRto(fastAccelerator());
    // Detection 16, claim 1.1. The 30 s lease of the example is not over yet when the fence runs:
    // 30 + 1 − 5 (half a renewal) − (16 + 1.1 + 0.3) = 8.6 s left, + 0.6 for two tasks = 9.2.
    expect(phaseOf(e, 'fence').expected).toBe(9_200);
    // 16 + 1.1 + 9.2 + (0.3 × 3) promotion + 20.3 traffic.
    expect(e.total.expected).toBe(47_500);
    expect(e.verdict.code).toBe('EXPECTED_WITHIN_TARGET');
    // Worst: 25 + 5 + (1.5 + 1.5 + 31) + 4.5 + 41.5.
    expect(e.verdict.reason).toBe('expected 47.5 s is within the 60 s target; the worst case, 110 s, is not');
  });

  it('over 60 s but fixable: lists the settings and the expected RTO they bring', () => {
    const e = estimateRto(noDatabase());
    // 38.5 + 1.1 + 6.6 + 0.9 + 45.3.
    expect(e.total.expected).toBe(92_400);
    expect(e.verdict.code).toBe('MISSES_TARGET');
    // Every setting at once: detection 16, fence 6.6, traffic 0.3 + 5 + 10 + 5 = 20.3: 16 + 1.1 + 6.6 + 0.9 + 20.3.
    expect(e.verdict.reason).toContain(
      'probe.intervalMs: 5000, debounceMs: 10000, lease.ttlMs: 21000, traffic.ttlSeconds: 10 would bring the expected to 44.9 s',
    );
  });

  it('meets 60 s in the worst case only with everything tight', () => {
    const c = fastAccelerator();
    const e = estimateRto({
      ...c,
      lease: { ...c.lease, ttlMs: 16_000, renewIntervalMs: 5_000 },
      traffic: undefined,
    });
    expect(e.total.worst).toBeLessThanOrEqual(60_000);
    expect(e.verdict.code).toBe('MEETS_TARGET');
  });

  it('offers levers that pass the configuration rules as they are', () => {
    for (const file of ['examples/cutover.example.json', 'examples/cutover.dynamodb.json']) {
      const levers = estimateRto(fromFile(file)).levers;
      // The DynamoDB example is already at its fastest settings (its 16 s lease is the rule's shortest).
      if (file.includes('dynamodb')) expect(levers).toEqual([]);
      else expect(levers.length, file).toBeGreaterThan(0);
      expect(levers.filter((l) => l.note !== undefined)).toEqual([]);
    }
    // The example's fastest settings, applied by hand, validate.
    const x: CutoverConfig = structuredClone(noDatabase());
    x.probe.intervalMs = 5_000;
    x.debounceMs = 10_000;
    x.lease.ttlMs = 21_000;
    x.traffic!.ttlSeconds = 10;
    expect(crossFieldIssues(x)).toEqual([]);
    expect(estimateRto(x).total.expected).toBe(44_900);
  });
});

describe('rto modes', () => {
  it('records: a Route 53 change (within 60 s), 5 s polls, the TTL; and a caveat about us-east-1', () => {
    const e = estimateRto(exampleConfig((c) => (c.traffic.mode = 'records')));
    expect(triple(phaseOf(e, 'traffic'))).toEqual([1_000, 30_000 + 2_500 + 30_000, 60_000 + 5_000 + 60_000]);
    expect(e.caveats.join(' ')).toContain('served from us-east-1 only');
  });

  it('arc: the routing control update, the status to DNS, the TTL', () => {
    const e = estimateRto(
      exampleConfig((c) => {
        withTrafficMode(c, 'arc');
        c.traffic.ttlSeconds = 30;
      }),
    );
    // 0.3 + 0 + 0; 1 + 10 + 15; 5 + 30 + 30.
    expect(triple(phaseOf(e, 'traffic'))).toEqual([300, 26_000, 65_000]);
  });

  it('Route 53 health checks every 30 s with threshold 3: 60 / 75 / 90 s before DNS even hears of it', () => {
    const e = estimateRto(
      exampleConfig((c) => {
        c.traffic.healthCheck = { requestIntervalSeconds: 30, failureThreshold: 3 };
      }),
    );
    expect(triple(partOf(e, 'traffic', 'r53-health'))).toEqual([60_000, 75_000, 90_000]);
  });

  it('aurora: under a minute to fail over, the promote polls', () => {
    const e = estimateRto(
      exampleConfig((c) => {
        c.database = { engine: 'aurora', globalClusterId: 'orders-global', promoteTimeoutSeconds: 600 };
        c.primary.databaseId = 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1';
        c.standby.databaseId = 'arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2';
      }),
    );
    expect(triple(partOf(e, 'promotion', 'promote'))).toEqual([30_000, 60_000, 600_000]);
    expect(triple(partOf(e, 'promotion', 'promote-poll'))).toEqual([0, 5_000, 10_000]);
    expect(e.verdict.code).toBe('CANNOT_MEET_TARGET');
  });

  it('a partitioned primary: the worst fence waits the whole lease and skew, to the millisecond', () => {
    const e = estimateRto(exampleConfig((c) => (c.lease.maxSkewMs = 1_250)));
    // 30 s + 1.25 s: the step sleeps the 0.25 s, the Wait's SecondsPath the 31 whole seconds.
    expect(partOf(e, 'fence', 'wait-out-lease').worst).toBe(31_250);
  });
});

describe('rto properties', () => {
  const configs = fc
    .record({
      interval: fc.constantFrom(5_000, 10_000, 20_000, 30_000),
      windows: fc.integer({ min: 2, max: 6 }),
      ttl: fc.integer({ min: 1, max: 300 }),
      threshold: fc.integer({ min: 1, max: 10 }),
      requestInterval: fc.constantFrom(10, 30),
      mode: fc.constantFrom('health-check', 'accelerator', 'arc', 'records'),
      engine: fc.constantFrom('rds', 'aurora', 'dynamodb', 'none'),
    })
    .map((v) =>
      exampleConfig((c) => {
        c.probe.intervalMs = v.interval;
        c.debounceMs = v.windows * v.interval;
        c.voteStalenessMs = Math.max(c.voteStalenessMs, v.interval + c.probe.responseTimeoutMs);
        c.traffic.ttlSeconds = v.ttl;
        withTrafficMode(c, v.mode);
        c.traffic.healthCheck = { requestIntervalSeconds: v.requestInterval, failureThreshold: v.threshold };
        if (v.engine === 'none' || v.engine === 'dynamodb') {
          delete c.primary.databaseId;
          delete c.standby.databaseId;
          c.database = v.engine === 'none' ? undefined : { engine: 'dynamodb', tables: ['orders-items'] };
        } else if (v.engine === 'aurora') {
          c.database = { engine: 'aurora', globalClusterId: 'g1' };
        }
      }),
    );

  it('best ≤ expected ≤ worst, in every part, phase and total', () => {
    fc.assert(
      fc.property(configs, (c) => {
        const e = estimateRto(c);
        for (const x of [e.total, ...e.phases, ...e.phases.flatMap((p) => p.parts)]) {
          expect(x.best).toBeLessThanOrEqual(x.expected);
          expect(x.expected).toBeLessThanOrEqual(x.worst);
          expect(x.best).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a longer record TTL or debounce never shortens the expected RTO', () => {
    fc.assert(
      fc.property(configs, fc.integer({ min: 1, max: 120 }), (c, more) => {
        const base = estimateRto(c).total.expected;
        const longerTtl = structuredClone(c);
        longerTtl.traffic!.ttlSeconds += more;
        const longerDebounce = structuredClone(c);
        longerDebounce.debounceMs += more * 1_000;
        expect(estimateRto(longerTtl).total.expected).toBeGreaterThanOrEqual(base);
        expect(estimateRto(longerDebounce).total.expected).toBeGreaterThanOrEqual(base);
      }),
      { numRuns: 100 },
    );
  });

  it('the verdict follows the totals', () => {
    fc.assert(
      fc.property(configs, (c) => {
        const e = estimateRto(c);
        const within = e.total.expected <= 60_000;
        expect(['MEETS_TARGET', 'EXPECTED_WITHIN_TARGET'].includes(e.verdict.code)).toBe(within);
        if (!within) expect(e.verdict.reason).toMatch(/^DOES NOT MEET the 60 s target/);
      }),
      { numRuns: 100 },
    );
  });
});

describe('rto figures', () => {
  it("uses the failover machine's own polls and attempts", () => {
    expect(MACHINE.promotePollSeconds).toBe(POLL_SECONDS.promote);
    expect(MACHINE.rpoPollSeconds).toBe(POLL_SECONDS.rpo);
    expect(MACHINE.rpoAttempts).toBe(MAX_ATTEMPTS.rpo);
    const asl = JSON.parse(readFileSync('statemachines/failover.asl.json', 'utf8')).States;
    expect(asl.WaitPromote.Seconds).toBe(MACHINE.promotePollSeconds);
    expect(asl.WaitRpo.Seconds).toBe(MACHINE.rpoPollSeconds);
    // The fence's Wait counts whole seconds from its start; the step waits the part of a second first.
    expect(asl.WaitOutOldLease.SecondsPath).toBe('$.fence.waitSeconds');
  });

  it('cites every AWS figure in docs/rto.md, and labels every other one', () => {
    const doc = readFileSync('docs/rto.md', 'utf8');
    for (const [id, s] of Object.entries(SOURCES)) {
      expect(doc, id).toContain(s.url.split(' ')[0]);
      expect(doc, id).toContain(`[${id}]`);
    }
    for (const key of Object.keys(ASSUMED)) expect(doc, key).toContain(key);
    // The examples' figures in the doc are the model's own.
    const example = estimateRto(fromFile('examples/cutover.example.json')).total;
    const dynamo = estimateRto(fromFile('examples/cutover.dynamodb.json')).total;
    expect(doc).toContain(`expected\n${example.expected / 1000} s, worst ${example.worst / 1000} s`);
    expect(doc).toContain(`expected ${dynamo.expected / 1000} s`);
    const used = new Set(
      rtoPhases(fromFile('examples/cutover.example.json')).flatMap((p) => p.parts.map((x) => x.source)),
    );
    for (const id of used) expect(['config', 'cutover', 'assumed', ...Object.keys(SOURCES)]).toContain(id);
  });
});
