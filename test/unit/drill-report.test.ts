import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AckedWrite,
  attributeLost,
  type DrillReportOf,
  formatSummary,
  PHASES,
  phasesOf,
  reasonsOf,
  relativeTime,
  stepTimings,
} from '../../infra/local/drill/report.js';
import { esc, MAX_WRITE_DOTS, renderReportHtml } from '../../infra/local/drill/report-html.js';
import { type Outcome, scenarios } from '../../infra/local/drill/scenarios.js';
import { drillConfig } from '../../infra/local/drill-config.js';
import type { TimelineEvent } from '../../infra/local/timeline.js';

const ev = (at: number, type: string, fields: Record<string, unknown> = {}): TimelineEvent =>
  ({ at, source: 'test', type, ...fields }) as TimelineEvent;
const ack = (id: string, region: string, epoch: number, at: number): AckedWrite => ({
  id,
  region,
  epoch,
  at,
});

const FAULT = 10_000;
/**
 * A region-outage as the drill records it: fault, request (with its detectedAt and requestedAt), the grant,
 * completion with the execution's timings. Events are recorded after the fault; the instants they carry may not be.
 */
function outage(p: {
  detected: number;
  requested: number;
  decision: number;
  fence: number;
  promote: number;
  grant: number;
}) {
  const timeline = [
    ev(1_000, 'lease_granted', { region: 'us-east-1', epoch: 1 }),
    ev(FAULT, 'fault_injected', { region: 'us-east-1' }),
    ev(Math.max(FAULT, p.requested + 3), 'failover_requested', {
      incidentId: 'orders:1:1',
      detectedAt: p.detected,
      requestedAt: p.requested,
    }),
    ev(p.grant, 'lease_granted', { region: 'us-west-2', epoch: 3 }),
    ev(Math.max(FAULT, p.grant + 400), 'failover_completed', {
      incidentId: 'orders:1:1',
      to: 'us-west-2',
      timings: {
        detectionMs: p.requested - p.detected,
        decisionMs: p.decision,
        fenceMs: p.fence,
        promoteMs: p.promote,
      },
    }),
  ];
  return timeline;
}

describe('the RTO as consecutive phases between named timeline points', () => {
  it('cuts fault → first failed probe → request → fence → promoted → grant → first write of the new primary', () => {
    const timeline = outage({
      detected: 10_350,
      requested: 13_100,
      decision: 900,
      fence: 250,
      promote: 1_000,
      grant: 15_400,
    });
    const acked = [
      ack('a', 'us-east-1', 1, 9_990),
      ack('b', 'us-west-2', 3, 17_000),
      ack('c', 'us-west-2', 3, 17_100),
    ];
    const phases = phasesOf(timeline, acked);
    expect(phases.map((p) => [p.id, p.ms])).toEqual([
      ['probe', 350],
      ['detection', 2_750],
      ['claim_recheck', 900],
      ['fence', 250],
      ['promote', 1_000],
      ['grant', 15_400 - 15_250],
      ['traffic', 1_600],
    ]);
    // The detection figure is the execution's own, and the phases add up to the RTO (fault → 17,000).
    expect(phases.reduce((s, p) => s + p.ms, 0)).toBe(7_000);
    expect(stepTimings(phases)).toMatchObject({
      detection_ms: 2_750,
      claim_recheck_ms: 900,
      traffic_ms: 1_600,
    });
    expect(PHASES.map((p) => p.label)).not.toContain('decision');
  });

  it('a failover that never completed has the phases it reached; no fault, no phases', () => {
    const timeline = [
      ev(FAULT, 'fault_injected', { region: 'us-east-1' }),
      ev(13_000, 'failover_requested', { incidentId: 'x', detectedAt: 10_300, requestedAt: 13_000 }),
      ev(14_000, 'failover_aborted', { incidentId: 'x' }),
    ];
    const phases = phasesOf(timeline, [ack('a', 'us-east-1', 1, 9_000)]);
    expect(phases.map((p) => [p.id, p.ms])).toEqual([
      ['probe', 300],
      ['detection', 2_700],
    ]);
    expect(stepTimings(phases).fence_ms).toBeNull();
    expect(phasesOf([ev(1, 'drill_started')], [])).toEqual([]);
  });

  it('property: whatever order the recorded points come in, the phases are consecutive, never negative, and sum to the RTO', () => {
    const offset = fc.integer({ min: -2_000, max: 20_000 });
    fc.assert(
      fc.property(
        fc.record({
          detected: offset,
          requested: offset,
          decision: offset,
          fence: offset,
          promote: offset,
          grant: fc.nat(20_000),
        }),
        fc.integer({ min: 1, max: 30_000 }),
        (o, end) => {
          const timeline = outage({
            detected: FAULT + o.detected,
            requested: FAULT + o.requested,
            decision: o.decision,
            fence: o.fence,
            promote: o.promote,
            grant: FAULT + o.grant,
          });
          const phases = phasesOf(timeline, [ack('n', 'us-west-2', 3, FAULT + end)]);
          expect(phases).toHaveLength(PHASES.length);
          expect(phases.reduce((s, p) => s + p.ms, 0)).toBe(end);
          expect(phases[0]!.start_at).toBe(FAULT);
          expect(phases.at(-1)!.end_at).toBe(FAULT + end);
          for (const [i, p] of phases.entries()) {
            expect(p.ms).toBeGreaterThanOrEqual(0);
            if (i) expect(p.start_at).toBe(phases[i - 1]!.end_at);
          }
        },
      ),
    );
  });
});

describe('lost acknowledged writes, attributed to their cause', () => {
  const cut = (kind: string) => [
    ev(1_000, 'lease_granted', { region: 'us-east-1', epoch: 1 }),
    ev(FAULT, 'fault_injected', { region: 'us-east-1', kind }),
    ev(15_000, 'lease_granted', { region: 'us-west-2', epoch: 3 }),
  ];
  const timeline = cut('partitioned');

  it('an isolated primary serving its clients until its lease ran out, allowed where the scenario says so', () => {
    const lost = Array.from({ length: 61 }, (_, i) => ack(`p${i}`, 'us-east-1', 1, FAULT + 50 * i));
    const [g] = attributeLost(lost, timeline, {
      faultAt: FAULT,
      lagAtFaultMs: 0,
      allowed: ['replication-lag', 'isolated-primary'],
    });
    expect(g).toMatchObject({ cause: 'isolated-primary', count: 61, allowed: true });
    expect(g!.sentence).toBe(
      '61 acknowledged by the isolated primary us-east-1 to its clients in the 3.0 s after the fault, before its lease ran out: allowed in this scenario',
    );
  });

  it('inside the replication lag, older than it, after the lease passed on, and unknown: each its own group', () => {
    const lost = [
      ack('lag', 'us-east-1', 1, FAULT - 200),
      ack('old', 'us-east-1', 1, FAULT - 5_000),
      ack('late', 'us-east-1', 1, 15_500),
      ack('odd', 'us-west-2', 3, 16_000),
    ];
    const groups = attributeLost(lost, timeline, {
      faultAt: FAULT,
      lagAtFaultMs: 100,
      allowed: ['replication-lag'],
    });
    expect(groups.map((g) => [g.cause, g.ids, g.allowed])).toEqual([
      ['older-than-lag', ['old'], false],
      ['replication-lag', ['lag'], true],
      ['after-new-lease', ['late'], false],
      ['unexplained', ['odd'], false],
    ]);
    expect(groups[1]!.sentence).toBe(
      '1 acknowledged by us-east-1 in the last 400 ms before the fault, inside the replication lag (100 ms at the fault): allowed in this scenario',
    );
    expect(groups[2]!.sentence).toContain('after the lease passed to us-west-2 at +5.00 s: not allowed');
    expect(groups[3]!.sentence).toContain('between +6.00 s and +6.00 s, for no known reason');
  });

  it('a killed primary: what it committed in the moments it took to die, not an isolated primary', () => {
    const lost = [ack('a', 'us-east-1', 1, FAULT + 20), ack('b', 'us-east-1', 1, FAULT + 140)];
    const [g] = attributeLost(lost, cut('region_killed'), {
      faultAt: FAULT,
      lagAtFaultMs: 0,
      allowed: ['replication-lag', 'dying-primary'],
    });
    expect(g!.sentence).toBe(
      '2 acknowledged by us-east-1 in the 140 ms after the fault while it was being killed, committed there and never replicated: allowed in this scenario',
    );
  });
});

/** An outcome for a scenario's expect(): the numbers and the raw lists it reads. */
function outcomeOf(numbers: Partial<Outcome['numbers']>, extra: Partial<Outcome> = {}): Outcome {
  return {
    numbers: {
      rto_ms: 7_000,
      lost_acked_writes: 0,
      split_brain_writes: 0,
      failover_executions: 1,
      failovers_completed: 1,
      acked_writes: 10,
      ...numbers,
    },
    config: drillConfig(),
    timeline: [],
    approve: false,
    synchronous: false,
    lagAtFaultMs: 0,
    faultAt: FAULT,
    acked: [],
    lost: [],
    lostGroups: [],
    ...extra,
  };
}

describe("a scenario's checks, held and broken", () => {
  it('a pass lists every check with what the drill saw, and no reasons', () => {
    const checks = scenarios['region-outage'].expect(outcomeOf({}));
    expect(checks.map((c) => [c.name, c.ok, c.detail])).toEqual([
      ['failover executions', true, '1'],
      ['failovers completed', true, '1'],
      ['split-brain writes', true, '0'],
      ['lost acknowledged writes', true, '0'],
      ['the new primary acknowledged a write', true, 'RTO 7000 ms'],
    ]);
    expect(reasonsOf(checks)).toEqual([]);
  });

  it('reasons are the broken checks, in the sentences report.json always had', () => {
    const lost = [ack('old', 'us-east-1', 1, FAULT - 5_000)];
    const lostGroups = attributeLost(lost, [ev(FAULT, 'fault_injected', { region: 'us-east-1' })], {
      faultAt: FAULT,
      lagAtFaultMs: 0,
      allowed: ['replication-lag'],
    });
    const checks = scenarios['region-outage'].expect(
      outcomeOf({ split_brain_writes: 2, lost_acked_writes: 1, rto_ms: null }, { lost, lostGroups }),
    );
    expect(reasonsOf(checks)).toEqual([
      'split-brain writes: expected 0, got 2',
      'lost acknowledged writes: 1: 1 acknowledged by us-east-1 more than 300 ms before the fault, earlier than the replication lag explains: not allowed in this scenario',
      'the new primary acknowledged a write: no write was acknowledged by the new primary',
    ]);
  });

  it('the partition scenario says when, relative to the fault, not in epoch milliseconds', () => {
    const timeline = [
      ev(FAULT, 'fault_injected', { region: 'us-east-1' }),
      ev(15_000, 'lease_granted', { region: 'us-west-2', epoch: 3 }),
    ];
    const checks = scenarios.partition.expect(
      outcomeOf({}, { timeline, acked: [ack('x', 'us-east-1', 1, 15_250)] }),
    );
    const broken = checks.find((c) => c.name.startsWith('the partitioned primary stopped'))!;
    expect(broken).toMatchObject({
      ok: false,
      detail: 'it acknowledged a write at +5.25 s, after the new lease at +5.00 s',
    });
    expect(relativeTime(FAULT - 400, FAULT)).toBe('−0.40 s');
    expect(relativeTime(0, null)).toBe('1970-01-01T00:00:00.000Z');
  });
});

function reportOf(over: Partial<DrillReportOf> = {}): DrillReportOf {
  const timeline = outage({
    detected: 10_350,
    requested: 13_100,
    decision: 900,
    fence: 250,
    promote: 1_000,
    grant: 15_400,
  });
  const acked = [ack('b', 'us-west-2', 3, 17_000)];
  const phases = phasesOf(timeline, acked);
  return {
    scenario: 'region-outage',
    seed: 1,
    verdict: 'pass',
    checks: [{ name: 'split-brain writes', ok: true, detail: '0' }],
    reasons: [],
    fault_at: FAULT,
    rto_ms: 7_000,
    phases,
    steps: stepTimings(phases),
    lost_acked_writes: 0,
    lost_writes: [],
    split_brain_writes: 0,
    failover_executions: 1,
    failovers_completed: 1,
    acked_writes: 1,
    lag_at_fault_ms: 0,
    peak_memory_mib: 600,
    approve: false,
    replication: 'asynchronous',
    duration_ms: 20_000,
    config: drillConfig(),
    config_source: 'examples/cutover.example.json, compressed',
    time_scale: 20,
    edge_time_scale: 20,
    write_rate: { asked_per_s: 100, achieved_per_s: 98, before_fault_per_s: 99 },
    ...over,
  };
}

describe('the printed summary', () => {
  it('lists the phases with times from the fault, and every check with ✓ or ✗; no epoch milliseconds', () => {
    const text = formatSummary(
      reportOf({
        verdict: 'fail',
        checks: [
          { name: 'split-brain writes', ok: true, detail: '0' },
          { name: 'failovers completed', ok: false, detail: 'expected 1, got 0' },
        ],
        reasons: ['failovers completed: expected 1, got 0'],
      }),
      'drill-out/x',
    );
    expect(text).toContain('✗ FAIL');
    expect(text).toMatch(/ {2}claim & re-check +900 ms {2}\+3\.10 s → \+4\.00 s/);
    expect(text).toContain('RTO                         7,000 ms');
    expect(text).toContain('    ✓ split-brain writes: 0');
    expect(text).toContain('    ✗ failovers completed: expected 1, got 0');
    expect(text).toContain('drill-out/x/report.html');
    expect(text).not.toMatch(/\d{10,}/);
  });
});

describe('report.html', () => {
  it('escapes every string from the artifacts: a region name cannot inject markup', () => {
    const evil = '<img src=x onerror=alert(1)>"\'&';
    const report = reportOf({
      checks: [{ name: evil, ok: false, detail: evil }],
      reasons: [`${evil}: ${evil}`],
      verdict: 'fail',
    });
    const html = renderReportHtml(
      report,
      [ev(FAULT, 'fault_injected', { region: evil }), ev(FAULT + 1, evil, { [evil]: evil })],
      [ack(evil, evil, 1, FAULT - 10), ack('b', 'us-west-2', 3, 17_000)],
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain(evil);
    expect(html).toContain(esc(evil));
    expect(esc(evil)).toBe('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    // Self-contained: nothing is fetched (the policy refuses it) and nothing names another origin.
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).not.toContain('<script');
  });

  it('a number field edited into markup stays inert', () => {
    const bad = '<b>x</b>' as unknown as number;
    const report = reportOf({ rto_ms: bad, duration_ms: bad });
    const html = renderReportHtml(
      { ...report, phases: report.phases.map((p) => ({ ...p, ms: bad })) },
      [],
      [],
    );
    expect(html).not.toContain('<b>');
  });

  it('marks lost and split-brain writes in the write plot, and the outage from the fault to the RTO’s end', () => {
    const timeline = [
      ...outage({
        detected: 10_350,
        requested: 13_100,
        decision: 900,
        fence: 250,
        promote: 1_000,
        grant: 15_400,
      }),
    ];
    const acked = [
      ack('lost-1', 'us-east-1', 1, 9_900),
      ack('ok-1', 'us-east-1', 1, 9_000),
      ack('split-1', 'us-east-1', 1, 15_500),
      ack('b', 'us-west-2', 3, 17_000),
    ];
    const report = reportOf({
      lost_writes: attributeLost([acked[0]!], timeline, {
        faultAt: FAULT,
        lagAtFaultMs: 0,
        allowed: ['replication-lag'],
      }),
    });
    const html = renderReportHtml(report, timeline, acked);
    expect(html.match(/class="ack lost" data-region="us-east-1"/g)).toHaveLength(1);
    expect(html.match(/class="ack split-brain" data-region="us-east-1"/g)).toHaveLength(1);
    expect(html.match(/<circle class="ack" data-region="us-east-1"/g)).toHaveLength(1);
    expect(html.match(/<circle class="ack" data-region="us-west-2"/g)).toHaveLength(1);
    expect(html).toContain('fault → first write elsewhere: 7,000 ms');
    expect(html).toContain('1 acknowledged by us-east-1 in the last 300 ms before the fault');
  });

  it('draws at most MAX_WRITE_DOTS plain writes one by one: above it, those near the outage and every lost one', () => {
    const timeline = outage({
      detected: 10_350,
      requested: 13_100,
      decision: 900,
      fence: 250,
      promote: 1_000,
      grant: 15_400,
    });
    // 300 writes a second for 60 s before the fault, then the new primary's after the RTO (7 s).
    const acked = [
      ...Array.from({ length: 18_000 }, (_, i) => ack(`a${i}`, 'us-east-1', 1, FAULT - 59_400 + i * 3.3)),
      ...Array.from({ length: 300 }, (_, i) => ack(`b${i}`, 'us-west-2', 3, FAULT + 7_000 + i * 3.3)),
    ];
    const lost = acked[0]!;
    const report = reportOf({
      lost_writes: [
        {
          cause: 'replication-lag',
          region: 'us-east-1',
          count: 1,
          first_at: lost.at,
          last_at: lost.at,
          allowed: true,
          sentence: 'one write',
          ids: [lost.id],
        },
      ],
    });
    const html = renderReportHtml(report, timeline, acked);
    const dots = (region: string) =>
      html.match(new RegExp(`<circle class="ack" data-region="${region}"`, 'g'))?.length ?? 0;
    // us-east-1: only the writes in the last second before the fault; us-west-2: the first second after the RTO.
    expect(dots('us-east-1')).toBeGreaterThan(250);
    expect(dots('us-east-1')).toBeLessThan(320);
    expect(dots('us-west-2')).toBeGreaterThan(250);
    expect(html.match(/class="ack lost"/g)).toHaveLength(1);
    expect(html).toContain('writes are counted in the shade, not drawn one by one');
    expect(html).toContain(`over ${MAX_WRITE_DOTS} in all`);
    expect(html.length).toBeLessThan(1_000_000);
    // Without a fault, or with a long outage full of writes, still at most MAX_WRITE_DOTS plain dots.
    const dense = Array.from({ length: 30_000 }, (_, i) => ack(`d${i}`, 'us-east-1', 1, FAULT - 500 + i / 3));
    for (const r of [reportOf({ fault_at: null }), reportOf({ rto_ms: 10_000 })]) {
      const page = renderReportHtml(r, timeline, dense);
      expect(page.match(/<circle class="ack"/g)?.length ?? 0).toBeLessThanOrEqual(MAX_WRITE_DOTS);
      expect(page.match(/<circle class="ack"/g)?.length ?? 0).toBeGreaterThan(0);
    }
    // Under the limit every write is drawn.
    const few = acked.slice(0, MAX_WRITE_DOTS);
    const all = renderReportHtml(reportOf(), timeline, few);
    expect(all.match(/<circle class="ack"/g)).toHaveLength(MAX_WRITE_DOTS);
    expect(all).not.toContain('counted in the shade');
  });

  it('is a pure function of its artifacts: the same input, the same page', () => {
    const timeline = outage({
      detected: 10_350,
      requested: 13_100,
      decision: 900,
      fence: 250,
      promote: 1_000,
      grant: 15_400,
    });
    const acked = [ack('a', 'us-east-1', 1, 9_000), ack('b', 'us-west-2', 3, 17_000)];
    const a = renderReportHtml(reportOf(), timeline, acked);
    expect(renderReportHtml(reportOf(), timeline, acked)).toBe(a);
    for (const p of reportOf().phases) expect(a).toContain(`data-phase="${p.id}" data-ms="${p.ms}"`);
  });
});
