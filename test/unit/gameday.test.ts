import { describe, expect, it } from 'vitest';
import type { CanaryControlState } from '#core/canary.js';
import { parseConfig } from '#core/config.js';
import {
  failbackInputAfter,
  GAMEDAY_DEFAULT_TIMEOUT_MS,
  type GamedayMarker,
  gamedayPlan,
  gamedayRefusal,
  gamedayReport,
  type HistoryEvent,
  markerState,
  parseGamedayOptions,
  parseTimeout,
} from '#core/gameday.js';
import { failbackInputSchema } from '#steps/core/state.js';
import { exampleConfig, exampleConfigJson } from '../support/fixtures.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const config = exampleConfig((c) => {
  c.health = {
    checks: [{ name: 'gameday', kind: 'gameday', weight: 'unhealthy', timeoutMs: 500 }],
  };
  c.gameday = { fisExperimentTemplateId: 'EXT1a2b3c4d5e6f7' };
});
const healthy: CanaryControlState = {
  lease: { holder: 'us-east-1', epoch: 4, expiresAt: T0 + 10_000 },
  pause: null,
  openIncident: null,
};
const ok = { callerAccount: '123456789012', control: healthy, markers: [] };
const opts = { account: '123456789012', fault: 'health' as const };

describe('game day options', () => {
  it('parses the flags, with the defaults', () => {
    expect(
      parseGamedayOptions({
        account: '123456789012',
        fault: undefined,
        timeout: undefined,
        failback: undefined,
      }),
    ).toEqual({
      account: '123456789012',
      fault: 'health',
      failback: 'ask',
      timeoutMs: GAMEDAY_DEFAULT_TIMEOUT_MS,
    });
    expect(parseTimeout('90s')).toBe(90_000);
    expect(parseTimeout('2h')).toBe(7_200_000);
  });

  it.each([
    [{ account: undefined }, /^--account is required: the 12-digit id of the staging account/],
    [{ account: '12345' }, '--account must be a 12-digit AWS account id such as 123456789012, got "12345"'],
    [{ fault: 'chaos' }, /^--fault must be health .* or fis .*, got "chaos"$/],
    [{ failback: 'maybe' }, /^--failback must be ask .*, yes .* or no .*, got "maybe"$/],
    [{ timeout: 'soon' }, '--timeout must be a number with a unit such as 90s, 15m or 1h, got "soon"'],
    [{ timeout: '30s' }, /^--timeout must be from 1m to 2h .*, got "30s"$/],
    [{ timeout: '3h' }, /^--timeout must be from 1m to 2h/],
  ])('refuses %j with the flag and the fix', (bad, message) => {
    const raw = {
      account: '123456789012',
      fault: undefined,
      timeout: undefined,
      failback: undefined,
      ...bad,
    };
    expect(() => parseGamedayOptions(raw)).toThrow(message);
  });
});

describe('game day refusals (before anything changes)', () => {
  it('may start in the named account with the primary holding the lease', () => {
    expect(gamedayRefusal(config, opts, ok, T0)).toBeNull();
    expect(gamedayRefusal(config, { ...opts, fault: 'fis' }, ok, T0)).toBeNull();
  });

  it('refuses another account than the credentials’', () => {
    expect(gamedayRefusal(config, opts, { ...ok, callerAccount: '999999999999' }, T0)).toEqual({
      code: 'ACCOUNT_MISMATCH',
      reason:
        "--account 123456789012 is not the account of these credentials (STS GetCallerIdentity: 999999999999): use the staging account's credentials, or name the account you mean",
    });
  });

  it('refuses a fault whose means are not configured', () => {
    const bare = exampleConfig();
    expect(gamedayRefusal(bare, opts, ok, T0)?.code).toBe('NO_GAMEDAY_CHECK');
    expect(gamedayRefusal(bare, { ...opts, fault: 'fis' }, ok, T0)).toMatchObject({
      code: 'NO_FIS_TEMPLATE',
      reason: expect.stringContaining('gameday.fisExperimentTemplateId'),
    });
  });

  it.each([
    [{ ...healthy, lease: null }, 'NO_LEASE'],
    [{ ...healthy, lease: { holder: null, epoch: 5, expiresAt: T0 } }, 'LEASE_REVOKED'],
    [{ ...healthy, lease: { holder: 'us-west-2', epoch: 5, expiresAt: T0 + 1 } }, 'PRIMARY_NOT_HOLDER'],
    [{ ...healthy, lease: { holder: 'us-east-1', epoch: 4, expiresAt: T0 } }, 'LEASE_EXPIRED'],
    [{ ...healthy, openIncident: { id: 'orders:4:1', status: 'claimed' } }, 'INCIDENT_OPEN'],
    [{ ...healthy, pause: { pausedBy: 'bob', reason: 'db work' } }, 'PAUSED'],
  ] as [CanaryControlState, string][])('refuses %j as the canary does: %s', (control, code) => {
    expect(gamedayRefusal(config, opts, { ...ok, control }, T0)?.code).toBe(code);
  });

  it('refuses while another game day’s marker is live, not after it expired', () => {
    const m: GamedayMarker = {
      application: 'orders',
      region: 'us-east-1',
      startedAt: T0 - 60_000,
      until: T0 + 1,
      by: 'carol',
      reason: 'rehearsal',
    };
    expect(gamedayRefusal(config, opts, { ...ok, markers: [m] }, T0)?.reason).toBe(
      'a game day by carol fails us-east-1 until 2026-11-30T10:00:00.001Z (rehearsal): wait for it, or for its marker to expire',
    );
    expect(gamedayRefusal(config, opts, { ...ok, markers: [{ ...m, until: T0 }] }, T0)).toBeNull();
  });
});

describe('the marker', () => {
  const m: GamedayMarker = {
    application: 'orders',
    region: 'us-east-1',
    startedAt: T0,
    until: T0 + 900_000,
    by: 'alice',
    reason: 'Q4 game day',
  };
  it('fails its own region until `until`, never another', () => {
    expect(markerState(m, 'us-east-1', T0 + 1)).toEqual({
      live: true,
      code: 'GAMEDAY_FAULT',
      reason: 'game day by alice fails us-east-1 until 2026-11-30T10:15:00.000Z: Q4 game day',
    });
    expect(markerState(m, 'us-west-2', T0 + 1)).toMatchObject({ live: false, code: 'OTHER_REGION' });
    expect(markerState(m, 'us-east-1', m.until)).toMatchObject({ live: false, code: 'EXPIRED' });
    expect(markerState(null, 'us-east-1', T0)).toMatchObject({ live: false, code: 'NO_MARKER' });
  });
});

describe('the configuration', () => {
  const raw = () => {
    // biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
    const c = exampleConfigJson() as Record<string, any>;
    c.traffic ??= { mode: 'none' };
    return c;
  };
  it('names the field of a bad gameday section and a bad gameday check', () => {
    const c = raw();
    c.gameday = { fisExperimentTemplateId: 'not a template!', stopAfter: 3 };
    c.health = {
      checks: [
        { name: 'gd', kind: 'gameday', weight: 'warn', timeoutMs: 500 },
        { name: 'gd2', kind: 'gameday', weight: 'unhealthy', timeoutMs: 500 },
      ],
    };
    const r = parseConfig(c);
    expect(r.ok).toBe(false);
    const fields = r.ok ? [] : r.issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['gameday.fisExperimentTemplateId', 'gameday.stopAfter']));
    const c2 = raw();
    c2.health = {
      checks: [
        { name: 'gd', kind: 'gameday', weight: 'warn', timeoutMs: 500 },
        { name: 'gd2', kind: 'gameday', weight: 'unhealthy', timeoutMs: 500 },
      ],
    };
    const r2 = parseConfig(c2);
    expect(r2.ok ? [] : r2.issues.map((i) => `${i.field}: ${i.message}`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^health\.checks\[0\]\.weight: must be unhealthy for kind gameday, got warn/),
        expect.stringMatching(/^health\.checks\[1\]\.kind: gameday appears twice/),
      ]),
    );
  });
});

describe('the plan a dry run prints', () => {
  it('lists each change in order, and how each is undone', () => {
    const lines = gamedayPlan(
      config,
      { ...opts, timeoutMs: 900_000, failback: 'ask' },
      {
        table: 'cutover-orders-control',
        tableRegion: 'us-east-2',
        machineArns: [
          'arn:aws:states:us-east-2:123456789012:stateMachine:cutover-orders-failover',
          'arn:aws:states:eu-central-1:123456789012:stateMachine:cutover-orders-failover',
        ],
        out: 'gameday-out/orders',
      },
    );
    expect(lines.map((l) => l.slice(0, 2))).toEqual(['1.', '2.', '3.', '4.', '5.']);
    expect(lines[0]).toBe(
      '1. put the game-day marker (orders, gameday#us-east-1) in cutover-orders-control (us-east-2), live for 15 min: the health check gameday fails in us-east-1, so the watchers vote it unhealthy',
    );
    expect(lines[2]).toMatch(
      /^3\. delete the game-day marker \(on every way out: .* Ctrl-C; if this process dies it expires by itself\)$/,
    );
    expect(lines[1]).toMatch(
      /^2\. wait for the failover execution that starts after the fault in arn:aws:states:us-east-2:\S+ or arn:aws:states:eu-central-1:\S+ \(/,
    );
    expect(lines[4]).toBe('5. ask whether to start the planned failback from us-west-2 to us-east-1');
  });
});

/**
 * A failover execution's history as GetExecutionHistory returns it through the SDK (Step Functions API reference,
 * HistoryEvent: `type`, `timestamp` as a Date, `stateEnteredEventDetails.name`, `executionStartedEventDetails.input`;
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html), with the Task, Choice and
 * Wait states of statemachines/failover.asl.json in the order a clean run enters them.
 */
function history(faultAt: number, k = 1): HistoryEvent[] {
  const input = {
    incidentId: 'orders:4:1',
    application: 'orders',
    kind: 'failover',
    from: 'us-east-1',
    to: 'us-west-2',
    epoch: 4,
    detectedAt: faultAt + 9_000 * k,
    requestedAt: faultAt + 41_000 * k,
  };
  const events: HistoryEvent[] = [];
  let id = 0;
  const push = (ms: number, type: string, extra: Partial<HistoryEvent> = {}) =>
    events.push({ id: ++id, type, timestamp: new Date(faultAt + ms * k), ...extra });
  const state = (ms: number, type: string, name: string) => {
    push(ms, type, { stateEnteredEventDetails: { name, input: '{}' } });
    push(ms + 5, type.replace('Entered', 'Exited'));
  };
  push(41_400, 'ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(input) } });
  state(41_410, 'TaskStateEntered', 'Claim');
  state(41_600, 'ChoiceStateEntered', 'Claimed');
  state(41_610, 'TaskStateEntered', 'RecheckVotes');
  state(41_900, 'ChoiceStateEntered', 'PrimaryRecovered');
  state(41_910, 'TaskStateEntered', 'StopTraffic');
  state(42_100, 'TaskStateEntered', 'Fence');
  state(42_300, 'ChoiceStateEntered', 'OldLeaseOver');
  state(42_310, 'WaitStateEntered', 'WaitOutOldLease');
  state(58_000, 'TaskStateEntered', 'RpoGuard');
  state(58_400, 'ChoiceStateEntered', 'RpoDecision');
  state(58_410, 'TaskStateEntered', 'Promote');
  state(58_900, 'WaitStateEntered', 'WaitPromote');
  state(68_900, 'TaskStateEntered', 'PromoteStatus');
  state(69_300, 'TaskStateEntered', 'GrantLease');
  state(69_500, 'TaskStateEntered', 'RouteTraffic');
  state(69_800, 'WaitStateEntered', 'WaitRouteTraffic');
  state(79_800, 'TaskStateEntered', 'RouteTrafficStatus');
  state(80_000, 'ChoiceStateEntered', 'MoreTrafficSteps');
  state(80_010, 'TaskStateEntered', 'Verify');
  state(81_200, 'TaskStateEntered', 'Notify');
  push(81_600, 'SucceedStateEntered', { stateEnteredEventDetails: { name: 'Completed' } });
  push(81_610, 'ExecutionSucceeded', {
    executionSucceededEventDetails: { output: JSON.stringify({ timings: { detectionMs: 32_000 } }) },
  });
  return events;
}

describe('the report from the execution history', () => {
  const base = {
    config,
    fault: 'health' as const,
    faultAt: T0,
    faultUndoneAt: T0 + 82_000,
    execution: {
      arn: 'arn:aws:states:us-east-2:123456789012:execution:cutover-orders-failover:orders-4-1',
      status: 'SUCCEEDED',
      startedAt: T0 + 41_400,
      stoppedAt: T0 + 81_610,
    },
    history: history(T0),
    audit: [{ at: T0 + 69_480, step: 'grant-lease', outcome: 'granted', detail: { epoch: 6 } }],
    leaseAfter: { holder: 'us-west-2', epoch: 6 },
    interrupted: null,
  };

  it('cuts the RTO into phases at the states’ timestamps; they add up to it', () => {
    const r = gamedayReport(base);
    expect(r.phases.map((p) => [p.id, p.ms])).toEqual([
      ['probe', 9_000],
      ['detection', 32_000],
      ['claim_recheck', 910],
      ['fence', 16_090],
      ['promote', 11_300],
      ['grant', 200],
      ['traffic', 10_510],
    ]);
    expect(r.rto_ms).toBe(80_010);
    expect(r.phases.reduce((s, p) => s + p.ms, 0)).toBe(r.rto_ms);
    expect(r.steps.verify_ms).toBe(1_190);
    expect(r.detection_ms).toBe(32_000);
    expect(r.execution?.incidentId).toBe('orders:4:1');
    expect(r.rto_means).toMatch(/^from the fault to the failover machine entering Verify/);
  });

  it('checks like the drill’s summary, ✓ and ✗ with what it saw', () => {
    const r = gamedayReport(base);
    expect(r.checks.map((c) => [c.ok, c.name])).toEqual([
      [true, 'one failover execution started after the fault'],
      [true, 'the execution succeeded through Completed'],
      [true, 'the lease moved to the standby us-west-2'],
      [true, 'traffic moved and the new primary was verified'],
      [false, 'RTO within 60,000 ms'],
      [true, 'the fault was undone'],
    ]);
    expect(r.verdict).toBe('fail');
    expect(r.reasons).toEqual(['RTO within 60,000 ms: 80,010 ms (us-east-1 → us-west-2)']);
    expect(r.checks[2]!.detail).toBe('us-west-2 holds it at epoch 6; audit: grant-lease granted');
  });

  it('passes a failover within the target', () => {
    const r = gamedayReport({
      ...base,
      history: history(T0, 0.5),
      execution: { ...base.execution, startedAt: T0 + 20_700 },
    });
    expect(r.rto_ms).toBe(40_005);
    expect(r.verdict).toBe('pass');
    expect(r.checks.every((c) => c.ok)).toBe(true);
  });

  it('a timeout before any execution: no phases past detection, every failed check says why', () => {
    const r = gamedayReport({
      ...base,
      execution: null,
      history: [],
      audit: [],
      leaseAfter: { holder: 'us-east-1', epoch: 4 },
      interrupted: 'timeout: no failover execution started 900 s after the fault',
      faultUndoneAt: null,
    });
    expect(r.phases).toEqual([]);
    expect(r.rto_ms).toBeNull();
    expect(r.reasons).toEqual([
      'one failover execution started after the fault: none started (timeout: no failover execution started 900 s after the fault)',
      'the execution succeeded through Completed: no execution',
      'the lease moved to the standby us-west-2: us-east-1 holds it at epoch 4',
      'traffic moved and the new primary was verified: the machine never reached Verify',
      'RTO within 60,000 ms: no RTO: the traffic phase never ended',
      'the fault was undone: the marker could not be deleted: it expires by itself at its until; delete it by hand sooner (docs/gameday.md)',
    ]);
  });

  it('an aborted execution (false alarm) has the phases it reached and fails', () => {
    const events = history(T0).filter((e) => (e.id ?? 0) <= 9);
    events.push({
      id: 100,
      type: 'TaskStateEntered',
      timestamp: new Date(T0 + 42_000),
      stateEnteredEventDetails: { name: 'Abort' },
    });
    events.push({
      id: 101,
      type: 'SucceedStateEntered',
      timestamp: new Date(T0 + 42_300),
      stateEnteredEventDetails: { name: 'Aborted' },
    });
    const r = gamedayReport({ ...base, history: events, leaseAfter: { holder: 'us-east-1', epoch: 4 } });
    // It never reached the fence: the claim & re-check phase has no end, so it is not counted.
    expect(r.phases.map((p) => p.id)).toEqual(['probe', 'detection']);
    expect(r.rto_ms).toBeNull();
    expect(r.checks[1]).toMatchObject({
      ok: false,
      detail: 'SUCCEEDED, ended in Aborted; last state Aborted',
    });
  });

  it('the failback input it writes is one the failback machine accepts', () => {
    const input = failbackInputAfter(config, gamedayReport(base), 'alice');
    expect(failbackInputSchema.parse(input)).toMatchObject({
      application: 'orders',
      from: 'us-west-2',
      to: 'us-east-1',
      reason: 'planned failback after the game day (incident orders:4:1)',
      overrideCooldown: true,
    });
  });
});

describe('report.html in its game-day mode (the drill’s page)', () => {
  it('says game day, gives the RTO’s meaning, claims no write numbers, escapes what it shows', async () => {
    const { renderReportHtml } = await import('../../infra/local/drill/report-html.js');
    const r = gamedayReport({
      config,
      fault: 'health',
      faultAt: T0,
      faultUndoneAt: T0 + 82_000,
      execution: {
        arn: 'arn:aws:states:us-east-2:123456789012:execution:m:<x>',
        status: 'SUCCEEDED',
        startedAt: T0 + 41_400,
        stoppedAt: T0 + 81_610,
      },
      history: history(T0),
      audit: [],
      leaseAfter: { holder: 'us-west-2', epoch: 6 },
      interrupted: null,
    });
    // The page's input as the command builds it (asDrillReport), from the game day's own report.
    const { asDrillReport } = await import('../../bin/gameday-command.js');
    const html = renderReportHtml(
      asDrillReport(r, { config, configFile: 'cutover.json', account: '123456789012' }),
      [],
      [],
    );
    expect(html).toContain('<h1>Cutover game day in AWS: game day (health)</h1>');
    expect(html).toContain(
      'account 123456789012 · execution arn:aws:states:us-east-2:123456789012:execution:m:&lt;x&gt;',
    );
    expect(html).toContain('from the fault to the failover machine entering Verify');
    expect(html).not.toMatch(/class="note">from the fault to the first write the new primary acknowledged/);
    expect(html).not.toContain('No write was acknowledged');
    expect(html).toContain('lost and split-brain writes are not measured here');
    expect(html).not.toContain('lost acknowledged writes');
    expect(html.match(/data-phase="[a-z_]+" data-ms/g)).toHaveLength(7);
  });
});
