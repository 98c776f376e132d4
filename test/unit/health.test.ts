import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStoredVote } from '#adapters/dynamodb/vote-store.js';
import { loadConfig, parseConfig } from '#core/config.js';
import { type DecisionConfig, type DecisionContext, decide, type Verdict } from '#core/decide.js';
import { eligibility } from '#core/eligibility.js';
import {
  type CheckSpec,
  type CheckWeight,
  carryChecks,
  evaluateHealth,
  healthDocumentSchema,
  MAX_CHECKS,
  recordedChecks,
  type VoteCheck,
  voteDetail,
  voteHealthy,
} from '#core/health.js';
import { nextVote, type Vote, voteKey } from '#core/vote.js';
import { exampleConfigJson, vote } from '../support/fixtures.js';

const NOW = 1_700_000_000_000;
const base = loadConfig(exampleConfigJson());
const P = base.primary.region;
const S = base.standby.region;
const W = [...base.watchers].sort();
const ctx: DecisionContext = { primary: P, standby: S };

const spec = (name: string, weight: CheckWeight, kind: CheckSpec['kind'] = 'write'): CheckSpec => ({
  name,
  kind,
  weight,
  timeoutMs: 500,
});

/** The example configuration with one check of each weight. */
const withChecks = (weights: Partial<Record<string, CheckWeight>> = {}): DecisionConfig => ({
  ...base,
  health: {
    path: '/cutover/health',
    checks: [
      spec('db-write', weights['db-write'] ?? 'unhealthy'),
      spec('replica-lag', weights['replica-lag'] ?? 'ineligible', 'replication-lag'),
      spec('payments', weights.payments ?? 'ask', 'dependency'),
      spec('queue', weights.queue ?? 'warn', 'queue-backlog'),
    ],
  },
});
const config = withChecks();

const check = (name: string, ok: boolean, since = NOW - 60_000): VoteCheck => ({
  name,
  ok,
  ms: 3,
  detail: ok ? 'ok' : `${name} broken`,
  since,
});
const allOk = () => ['db-write', 'replica-lag', 'payments', 'queue'].map((n) => check(n, true));
/**
 * A fresh vote about `target` with `failing` checks failing for 60 s; `healthy` is what the prober folded into the
 * vote, `plain` its plain probe's own verdict (recorded apart, as the prober does; default: `healthy`).
 */
const deepVote = (
  voter: string,
  target: string,
  failing: string[] = [],
  healthy = true,
  plain: boolean = healthy,
): Vote =>
  vote(
    {
      voter,
      target,
      healthy,
      plainHealthy: plain,
      ...(healthy ? {} : { consecutiveFailures: 6, consecutiveSuccesses: 0, streakSince: NOW - 61_000 }),
      checks: allOk().map((c) => (failing.includes(c.name) ? check(c.name, false) : c)),
    },
    NOW,
  );
const standbyOk = () => W.map((w) => deepVote(w, S));

describe('health: the handler document', () => {
  const specs = config.health!.checks;
  const r = (name: string, ok: boolean) => ({ name, ok, ms: 1, detail: ok ? 'ok' : 'no' });

  it('answers 503 only when a check weighted unhealthy failed, degraded for the others', () => {
    expect(evaluateHealth([r('db-write', true), r('queue', true)], specs)).toMatchObject({
      statusCode: 200,
      body: { status: 'ok' },
    });
    expect(evaluateHealth([r('db-write', true), r('queue', false)], specs)).toMatchObject({
      statusCode: 200,
      body: { status: 'degraded' },
    });
    expect(evaluateHealth([r('db-write', false), r('queue', true)], specs)).toMatchObject({
      statusCode: 503,
      body: { status: 'unhealthy' },
    });
  });

  it('records every configured check; one left out, or no answer at all, is unknown (neither ok nor failed)', () => {
    const settings = config.health!;
    const document = { checks: [r('db-write', true)] };
    const got = recordedChecks(settings, { ok: true, document }, 10);
    expect(got.map((c) => [c.name, c.ok, c.unknown ?? false])).toEqual([
      ['db-write', true, false],
      ['replica-lag', false, true],
      ['payments', false, true],
      ['queue', false, true],
    ]);
    expect(got[1]?.detail).toBe('not reported by the health endpoint');
    const none = recordedChecks(settings, { ok: false, detail: 'timeout after 900 ms' }, 900);
    expect(none.every((c) => !c.ok && c.unknown && c.detail === 'timeout after 900 ms')).toBe(true);
    // A plain probe that passes stays a healthy vote: an unreadable document is no failed db-write.
    expect(voteHealthy(true, none, settings)).toBe(true);
    expect(voteDetail('ok 200', none.slice(0, 1), settings)).toBe(
      'ok 200; db-write unknown (unhealthy): timeout after 900 ms',
    );
    // A real failure in a readable document (whatever its status code) still fails the vote.
    const failing = recordedChecks(settings, { ok: true, document: { checks: [r('db-write', false)] } }, 10);
    expect(failing[0]).toEqual({ name: 'db-write', ok: false, ms: 1, detail: 'no' });
    expect(voteHealthy(true, failing, settings)).toBe(false);
  });

  it('reads an answered document leniently: only the configured checks and their ok matter', () => {
    const answered = {
      status: 'starting', // not one of ours: ignored
      version: 3,
      checks: [
        { name: 'db-write', ok: true, ms: 4.7, detail: 'x'.repeat(500), region: 'eu-west-1' },
        { name: 'replica-lag', ok: true, ms: -2 },
        { name: 'payments', ok: true, detail: 7 },
        { name: 'queue', ok: true, ms: 1, detail: 'ok' },
        { name: 'Cache_Warm', ok: false, ms: 1, detail: 'not configured' },
        { name: 'no-ok' },
        'not an object',
      ],
    };
    const parsed = healthDocumentSchema.safeParse(answered);
    expect(parsed.success).toBe(true);
    const got = recordedChecks(config.health!, { ok: true, document: parsed.data! }, 10);
    expect(got.map((c) => [c.name, c.ok, c.ms])).toEqual([
      ['db-write', true, 5],
      ['replica-lag', true, 0],
      ['payments', true, 0],
      ['queue', true, 1],
    ]);
    expect(got[0]?.detail).toHaveLength(200);
    expect(voteHealthy(true, got, config.health!)).toBe(true);
    // A name answered twice counts as failed if either answer failed.
    const twice = healthDocumentSchema.parse({
      checks: [r('db-write', true), r('db-write', false)],
    });
    expect(twice.checks).toEqual([r('db-write', false)]);
    // Not a document at all (no checks list) is still refused, and then every check is unknown.
    expect(healthDocumentSchema.safeParse({ status: 'ok' }).success).toBe(false);
  });

  it('folds only unhealthy-weighted failures into the vote, and names every failure in its detail', () => {
    const settings = config.health!;
    expect(voteHealthy(true, [r('queue', false)], settings)).toBe(true);
    expect(voteHealthy(true, [r('db-write', false)], settings)).toBe(false);
    expect(voteHealthy(false, [], settings)).toBe(false);
    expect(voteDetail('ok 200', [r('queue', false)], settings)).toBe('ok 200; queue failed (warn): no');
  });

  it("carries each check's since while its state holds, and restarts it on a change or an interruption", () => {
    const prev = [check('db-write', false, 100), check('queue', true, 50)];
    const results = [
      { name: 'db-write', ok: false, ms: 1, detail: 'x' },
      { name: 'queue', ok: false, ms: 1, detail: 'y' },
    ];
    expect(carryChecks(prev, results, 500, true).map((c) => c.since)).toEqual([100, 500]);
    expect(carryChecks(prev, results, 500, false).map((c) => c.since)).toEqual([500, 500]);
    // Failed and unknown are different states: a failure after an unknown spell begins now.
    const unknown = [{ name: 'db-write', ok: false, ms: 1, detail: 'x', unknown: true as const }];
    const carried = carryChecks(prev, unknown, 500, true);
    expect(carried[0]).toMatchObject({ ok: false, unknown: true, since: 500 });
    expect(carryChecks(carried, results.slice(0, 1), 600, true)[0]).toEqual({
      name: 'db-write',
      ok: false,
      ms: 1,
      detail: 'x',
      since: 600,
    });
  });

  it('nextVote records the checks with their streaks', () => {
    const key = { application: 'orders', target: P, voter: W[0]! };
    const probe = (observedAt: number, ok: boolean) => ({
      healthy: true,
      latencyMs: 5,
      detail: 'ok 200',
      observedAt,
      checks: [{ name: 'db-write', ok, ms: 2, detail: ok ? 'ok' : 'read-only' }],
    });
    const first = nextVote(undefined, probe(1_000, false), key, 3600, 25_000);
    const second = nextVote(first, probe(11_000, false), key, 3600, 25_000);
    expect(second.checks?.[0]).toMatchObject({ ok: false, since: 1_000 });
    const late = nextVote(second, probe(60_000, false), key, 3600, 25_000);
    expect(late.checks?.[0]?.since).toBe(60_000);
    expect(nextVote(undefined, { ...probe(1, true), checks: undefined }, key, 3600)).not.toHaveProperty(
      'checks',
    );
  });
});

describe('health: the vote store refuses forged or oversized check lists', () => {
  const v = deepVote(W[0]!, P);
  const item = (checks: unknown) => ({ ...voteKey(v.application, v.target, v.voter), ...v, checks });
  const expected = { application: v.application, target: v.target, voter: v.voter };

  it('reads a vote with its checks', () => {
    expect(parseStoredVote(item(v.checks), expected)).toMatchObject({ ok: true });
    const unknown = [{ ...check('db-write', false), unknown: true }];
    expect(parseStoredVote(item(unknown), expected)).toMatchObject({ ok: true });
  });

  it.each([
    ['too many', Array.from({ length: MAX_CHECKS + 1 }, (_, i) => check(`c${i}`, true))],
    ['a name twice', [check('db-write', true), check('db-write', false)]],
    ['a bad name', [check('DROP TABLE', true)]],
    ['an oversized detail', [{ ...check('db-write', false), detail: 'x'.repeat(201) }]],
    ['an extra field', [{ ...check('db-write', true), weight: 'warn' }]],
    ['a negative since', [{ ...check('db-write', true), since: -1 }]],
    ['an unknown check that says ok', [{ ...check('db-write', true), unknown: true }]],
    ['an unknown flag that is not true', [{ ...check('db-write', false), unknown: false }]],
  ])('refuses %s', (_what, checks) => {
    const read = parseStoredVote(item(checks), expected);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.reason).toMatch(/^not a vote: checks/);
  });
});

describe('health: configuration', () => {
  const raw = (health: unknown, probe: unknown = undefined) => ({
    ...(exampleConfigJson() as Record<string, unknown>),
    health,
    ...(probe ? { probe } : {}),
  });
  const issues = (input: unknown) => {
    const r = parseConfig(input);
    return r.ok ? [] : r.issues;
  };

  it('accepts a health section and fills its defaults', () => {
    const r = parseConfig(
      raw({ checks: [{ name: 'db-write', kind: 'write', weight: 'unhealthy', timeoutMs: 800 }] }),
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.health).toEqual({ path: '/cutover/health', checks: [expect.any(Object)] });
  });

  it.each([
    [
      'a check slower than the watchers wait',
      { checks: [{ name: 'db-write', kind: 'write', weight: 'unhealthy', timeoutMs: 2_950 }] },
      'health.checks[0].timeoutMs',
      /2950 ms is longer than probe.responseTimeoutMs − 100 ms \(2900 ms\)/,
    ],
    [
      'replication lag weighted unhealthy',
      { checks: [{ name: 'lag', kind: 'replication-lag', weight: 'unhealthy' }] },
      'health.checks[0].weight',
      /fail over to the very standby that lags; use ineligible/,
    ],
    [
      'a dependency without a URL',
      { checks: [{ name: 'pay', kind: 'dependency', weight: 'ask' }] },
      'health.checks[0].url',
      /is required for kind dependency/,
    ],
    [
      'a threshold of another kind',
      { checks: [{ name: 'db', kind: 'write', weight: 'unhealthy', maxAgeSeconds: 5 }] },
      'health.checks[0].maxAgeSeconds',
      /only for kind queue-backlog, not write/,
    ],
    [
      'a name twice',
      {
        checks: [
          { name: 'db', kind: 'write', weight: 'unhealthy' },
          { name: 'db', kind: 'write', weight: 'warn' },
        ],
      },
      'health.checks[1].name',
      /names db twice/,
    ],
    [
      'an unknown weight',
      { checks: [{ name: 'db', kind: 'write', weight: 'fatal' }] },
      'health.checks[0].weight',
      /must be one of unhealthy, ineligible, ask, warn/,
    ],
    [
      'more checks than a vote carries',
      { checks: Array.from({ length: 9 }, (_, i) => ({ name: `c${i}`, kind: 'write', weight: 'warn' })) },
      'health.checks',
      /at most 8 checks/,
    ],
    [
      'the holder path',
      { path: '/cutover/holder', checks: [{ name: 'db', kind: 'write', weight: 'unhealthy' }] },
      'health.path',
      /must differ from the holder check/,
    ],
  ])('refuses %s, naming the field', (_what, health, field, message) => {
    const found = issues(raw(health));
    expect(found.map((i) => i.field)).toContain(field);
    expect(found.find((i) => i.field === field)?.message).toMatch(message);
  });
});

describe('decide: each weight, both ways', () => {
  const primaryDown = (failing: string[]) =>
    W.map((w) => deepVote(w, P, failing, !failing.includes('db-write'), true));

  it('unhealthy: a failed db-write for a quorum over the debounce window fails over (DEEP_CHECK_FAILED)', () => {
    const v = decide([...primaryDown(['db-write']), ...standbyOk()], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'failover', code: 'DEEP_CHECK_FAILED' });
    expect(v.reason).toContain(
      `deep check db-write failed in ${P} (db-write broken, seen by ${W.join(', ')})`,
    );
  });

  it('unhealthy: counted even when the watcher folded nothing into healthy (a prober with another config)', () => {
    const votes = W.map((w) => deepVote(w, P, ['db-write'], true));
    expect(decide([...votes, ...standbyOk()], config, NOW, ctx)).toMatchObject({
      kind: 'failover',
      code: 'DEEP_CHECK_FAILED',
    });
    // A failure that only began now is not sustained: debouncing, never at once (I3).
    const fresh = W.map((w) =>
      vote({ voter: w, target: P, checks: [check('db-write', false, NOW - 1_000)] }, NOW),
    );
    expect(decide([...fresh, ...standbyOk()], config, NOW, ctx)).toMatchObject({ code: 'DEBOUNCING' });
  });

  it('unhealthy: passing, or weighted warn, is healthy', () => {
    expect(decide([...primaryDown([]), ...standbyOk()], config, NOW, ctx).code).toBe('ALL_HEALTHY');
    const votes = W.map((w) => deepVote(w, P, ['db-write'], true));
    const v = decide([...votes, ...standbyOk()], withChecks({ 'db-write': 'warn' }), NOW, ctx);
    expect(v.code).toBe('ALL_HEALTHY');
  });

  it('ineligible: a standby whose replica-lag check failed before the outage is put to a person, whatever the policy', () => {
    const down = W.map((w) => deepVote(w, P, [], false));
    const lagging = (since: number) =>
      W.map((w) => ({
        ...deepVote(w, S),
        checks: allOk().map((c) => (c.name === 'replica-lag' ? check(c.name, false, since) : c)),
      }));
    const proceed = { ...config, approval: { ...config.approval, ambiguousPolicy: 'proceed' as const } };
    // The primary's unhealthy streak began at NOW − 61 s; the lag check was failing before it.
    const v = decide([...down, ...lagging(NOW - 120_000)], proceed, NOW, ctx);
    expect(v).toMatchObject({ kind: 'failover-needs-approval', code: 'QUORUM_UNHEALTHY_AMBIGUOUS' });
    expect(v.ambiguities.map((a) => a.code)).toEqual(['TARGET_INELIGIBLE']);
    expect(v.reason).toContain(`${S} is not a failover target now: deep check replica-lag failed`);
    // Passing: the same outage fails over automatically.
    expect(decide([...down, ...standbyOk()], proceed, NOW, ctx)).toMatchObject({ code: 'QUORUM_UNHEALTHY' });
  });

  it('ineligible: lag that began growing after the primary went down does not block the failover', () => {
    const down = W.map((w) => deepVote(w, P, [], false));
    const standby = W.map((w) => ({
      ...deepVote(w, S),
      checks: allOk().map((c) => (c.name === 'replica-lag' ? check(c.name, false, NOW - 50_000) : c)),
    }));
    const v = decide([...down, ...standby], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'failover', code: 'QUORUM_UNHEALTHY' });
    // Still in the evidence, for the person reading the incident afterwards.
    expect(v.evidence.failedChecks?.filter((c) => c.target === S).map((c) => c.name)).toContain(
      'replica-lag',
    );
    // Began at the very instant the streak did: a consequence too.
    const same = standby.map((sv) => ({
      ...sv,
      checks: sv.checks!.map((c) => (c.name === 'replica-lag' ? { ...c, since: NOW - 61_000 } : c)),
    }));
    expect(decide([...down, ...same], config, NOW, ctx).code).toBe('QUORUM_UNHEALTHY');
  });

  it('write: a failed write check on the standby (a replica refuses the test row) weighs nothing', () => {
    const down = W.map((w) => deepVote(w, P, [], false));
    // The prober folded the standby's failed db-write into `healthy`; its plain probe passed.
    const standby = W.map((w) => deepVote(w, S, ['db-write'], false, true));
    const v = decide([...down, ...standby], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'failover', code: 'QUORUM_UNHEALTHY' });
    expect(v.evidence.standbyHealthyVoters).toEqual(W);
    expect(v.evidence.failedChecks ?? []).toEqual([]);
    // A standby whose plain probe fails is still unhealthy.
    const dead = W.map((w) => deepVote(w, S, ['db-write'], false, false));
    expect(decide([...down, ...dead], config, NOW, ctx).ambiguities.map((a) => a.code)).toContain(
      'STANDBY_UNHEALTHY',
    );
  });

  it('a dead primary keeps the plain outage code, even though its votes carry every check as failed', () => {
    const dead = W.map((w) => deepVote(w, P, ['db-write'], false, false));
    expect(decide([...dead, ...standbyOk()], config, NOW, ctx)).toMatchObject({
      kind: 'failover',
      code: 'QUORUM_UNHEALTHY',
    });
    // As the prober records a region that does not answer at all: every check unknown; no `ask` check asks then.
    const silent = W.map((w) => ({
      ...deepVote(w, P, [], false, false),
      checks: allOk().map((c) => ({ ...c, ok: false, unknown: true as const, detail: 'refused' })),
    }));
    expect(decide([...silent, ...standbyOk()], config, NOW, ctx)).toMatchObject({
      kind: 'failover',
      code: 'QUORUM_UNHEALTHY',
    });
    // The same checks behind a plain probe that answers: the deep label.
    const answering = W.map((w) => deepVote(w, P, ['db-write'], false, true));
    expect(decide([...answering, ...standbyOk()], config, NOW, ctx).code).toBe('DEEP_CHECK_FAILED');
  });

  it('unknown checks (an unreadable or late document behind a healthy plain probe) never fail over', () => {
    const unknownVotes = W.map((w) => ({
      ...deepVote(w, P),
      checks: allOk().map((c) => ({
        ...c,
        ok: false,
        unknown: true as const,
        detail: 'timeout after 3000 ms',
      })),
    }));
    const v = decide([...unknownVotes, ...standbyOk()], config, NOW, ctx);
    expect(v.kind).not.toBe('failover');
    expect(v.kind).not.toBe('failover-needs-approval');
    // The `ask` check, unknown for the whole debounce window, asks a person (never automatic).
    expect(v.code).toBe('ASK_DEEP_CHECK');
    expect(v.evidence.failedChecks ?? []).toEqual([]);
    // With no `ask` check, nothing at all.
    const noAsk = withChecks({ payments: 'warn' });
    expect(decide([...unknownVotes, ...standbyOk()], noAsk, NOW, ctx).code).toBe('ALL_HEALTHY');
  });

  it('ineligible: the same failure on the primary changes nothing', () => {
    const v = decide([...primaryDown(['replica-lag']), ...standbyOk()], config, NOW, ctx);
    expect(v.code).toBe('ALL_HEALTHY');
    expect(v.evidence.failedChecks?.map((c) => [c.name, c.weight])).toContainEqual([
      'replica-lag',
      'ineligible',
    ]);
  });

  it('ask: a sustained failure on a healthy primary asks an operator, never acts', () => {
    const v = decide([...primaryDown(['payments']), ...standbyOk()], config, NOW, ctx);
    expect(v).toMatchObject({ kind: 'suspect', code: 'ASK_DEEP_CHECK' });
    expect(v.reason).toMatch(/^a person decides: 5 fresh watchers \(quorum 3\) report/);
    expect(decide([...primaryDown([]), ...standbyOk()], config, NOW, ctx).code).toBe('ALL_HEALTHY');
  });

  it('ask: during an outage, a failed ask check turns the automatic failover into an approval', () => {
    const down = W.map((w) => deepVote(w, P, ['payments'], false));
    const proceed = { ...config, approval: { ...config.approval, ambiguousPolicy: 'proceed' as const } };
    const v = decide([...down, ...standbyOk()], proceed, NOW, ctx);
    expect(v.kind).toBe('failover-needs-approval');
    expect(v.ambiguities.map((a) => a.code)).toEqual(['ASK_DEEP_CHECK']);
    const plain = W.map((w) => deepVote(w, P, [], false));
    expect(decide([...plain, ...standbyOk()], proceed, NOW, ctx).kind).toBe('failover');
  });

  it('warn: recorded in the evidence only', () => {
    const v = decide([...primaryDown(['queue']), ...standbyOk()], config, NOW, ctx);
    expect(v.code).toBe('ALL_HEALTHY');
    expect(v.evidence.failedChecks?.map((c) => [c.voter, c.target, c.name, c.weight, c.detail])).toEqual(
      W.map((w) => [w, P, 'queue', 'warn', 'queue broken']),
    );
    expect(v.evidence.fresh.every((f) => f.healthy)).toBe(true);
    const ok = decide([...primaryDown([]), ...standbyOk()], config, NOW, ctx);
    expect(ok.evidence).not.toHaveProperty('failedChecks');
  });
});

describe('eligibility: ineligible checks', () => {
  const snap = {
    to: S,
    primary: P,
    mark: null,
    database: null,
    lag: null,
    promotedByThisIncident: false,
  };
  const failed = [{ name: 'replica-lag', detail: 'lag 9000 ms > 5000 ms', voters: ['eu-west-1'] }];

  it('makes the target ineligible with the check, its reading and who saw it', () => {
    expect(eligibility({ ...snap, ineligibleChecks: failed })).toEqual({
      eligible: false,
      code: 'TARGET_INELIGIBLE',
      reason: `${S} is not a failover target now: deep check replica-lag failed (lag 9000 ms > 5000 ms, seen by eu-west-1)`,
    });
    expect(eligibility({ ...snap, ineligibleChecks: [] })).toMatchObject({ eligible: true, code: 'REPLICA' });
  });

  it('never blocks the retry of a promotion this incident made', () => {
    expect(eligibility({ ...snap, promotedByThisIncident: true, ineligibleChecks: failed }).eligible).toBe(
      true,
    );
  });
});

/**
 * The property that catches a decider deaf to a weight: for any votes, a quorum of fresh votes reporting a failed
 * `unhealthy` check over the debounce window must request a failover, and the verdict must not change when a
 * `warn` check flips. Checked against decide, and against broken variants that must be caught.
 */
type Decider = (votes: readonly Vote[], c: DecisionConfig, now: number, x: DecisionContext) => Verdict;

function weightProperty(decider: Decider) {
  const aVote = () =>
    fc.record({
      healthy: fc.boolean(),
      write: fc.boolean(),
      queue: fc.boolean(),
      ageMs: fc.integer({ min: 0, max: 120_000 }),
    });
  return fc.property(
    fc.array(aVote(), { minLength: W.length, maxLength: W.length }),
    fc.array(aVote(), { minLength: W.length, maxLength: W.length }),
    (primary, standby) => {
      const make = (target: string, s: (typeof primary)[number], i: number, flipQueue = false): Vote =>
        vote(
          {
            voter: W[i]!,
            target,
            healthy: s.healthy,
            ...(s.healthy ? {} : { streakSince: NOW - 1_000 - s.ageMs, consecutiveSuccesses: 0 }),
            checks: [
              { name: 'db-write', ok: s.write, ms: 1, detail: 'd', since: NOW - 1_000 - s.ageMs },
              { name: 'queue', ok: s.queue !== flipQueue, ms: 1, detail: 'q', since: NOW - 1_000 },
            ],
          },
          NOW,
        );
      const votes = [...primary.map((s, i) => make(P, s, i)), ...standby.map((s, i) => make(S, s, i))];
      const v = decider(votes, config, NOW, ctx);
      const deepDown = primary.filter((s) => !s.write && s.ageMs >= config.debounceMs).length;
      if (deepDown >= config.quorum && (v.kind === 'healthy' || v.code === 'UNHEALTHY_BELOW_QUORUM'))
        return false;
      const flipped = [
        ...primary.map((s, i) => make(P, s, i, true)),
        ...standby.map((s, i) => make(S, s, i, true)),
      ];
      return decider(flipped, config, NOW, ctx).code === v.code;
    },
  );
}

describe('decide: weights hold for any votes (property)', () => {
  it('holds for decide', () => {
    fc.assert(weightProperty(decide), { numRuns: 300 });
  });

  it.each<[string, Decider]>([
    ['ignoring unhealthy checks', (votes, c, now, x) => decide(votes, { ...c, health: undefined }, now, x)],
    [
      'treating warn as unhealthy',
      (votes, c, now, x) =>
        decide(
          votes,
          {
            ...c,
            health: { ...c.health!, checks: c.health!.checks.map((k) => ({ ...k, weight: 'unhealthy' })) },
          },
          now,
          x,
        ),
    ],
  ])('catches a decider %s', (_what, broken) => {
    const run = fc.check(weightProperty(broken), { numRuns: 300, seed: 15 });
    expect(run.failed).toBe(true);
  });
});
