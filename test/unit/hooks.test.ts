import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.js';
import {
  askEvidence,
  type Hook,
  type HookAnswer,
  type HookProgress,
  hookRegion,
  judgeInvocation,
  judgeReading,
  phaseOutcome,
  planStart,
} from '#core/hooks.js';
import { estimateRto } from '#core/rto.js';
import { hookAnswer } from '#steps/core/hooks.js';
import { exampleConfigJson } from '../support/fixtures.js';

const ecs = (over: Partial<Extract<Hook, { kind: 'ecs' }>> = {}): Hook => ({
  kind: 'ecs',
  name: 'scale-standby',
  region: 'target',
  timeoutMs: 600_000,
  onFailure: 'abort',
  cluster: 'orders',
  service: 'web',
  desiredCount: 6,
  ...over,
});

const progress = (over: Partial<HookProgress> = {}): HookProgress => ({
  name: 'h',
  kind: 'ecs',
  region: 'us-west-2',
  onFailure: 'abort',
  startedAt: 0,
  direction: 'up',
  start: 'SCALE',
  status: 'running',
  code: 'NOT_READY',
  reason: 'r',
  reads: 1,
  ...over,
});

describe('planStart', () => {
  it('scales up to the absolute target and says so', () => {
    expect(planStart(ecs(), 'beforePromote', { desired: 2, ready: 2, detail: '' })).toEqual({
      action: 'apply',
      code: 'SCALE',
      direction: 'up',
      reason: 'ecs hook scale-standby asks for 6, 2 desired now: scale up to 6',
    });
  });

  it('calls nothing when the target is already set (a retried step does not scale twice)', () => {
    expect(planStart(ecs(), 'beforePromote', { desired: 6, ready: 3, detail: '' })).toMatchObject({
      action: 'skip',
      code: 'ALREADY_AT_TARGET',
      direction: 'up',
    });
  });

  it('never lowers capacity before the promotion: an autoscaler that already raised the standby stays', () => {
    expect(planStart(ecs(), 'beforePromote', { desired: 9, ready: 9, detail: '' })).toEqual({
      action: 'skip',
      code: 'NEVER_LOWER_BEFORE_PROMOTE',
      direction: 'up',
      reason:
        'ecs hook scale-standby asks for 6, 9 desired now: a beforePromote hook never lowers capacity; waiting for 6 ready',
    });
  });

  it('scales down after the traffic moved, and waits for the drain when the target is already set', () => {
    const down = ecs({ desiredCount: 1, region: 'source', onFailure: 'continue' });
    expect(planStart(down, 'afterTraffic', { desired: 6, ready: 6, detail: '' })).toMatchObject({
      action: 'apply',
      direction: 'down',
    });
    expect(planStart(down, 'afterTraffic', { desired: 1, ready: 4, detail: '' })).toMatchObject({
      action: 'skip',
      code: 'ALREADY_AT_TARGET',
      direction: 'down',
    });
  });

  it('invokes a lambda hook', () => {
    const hook: Hook = {
      kind: 'lambda',
      name: 'purge',
      region: 'us-west-2',
      timeoutMs: 5_000,
      onFailure: 'continue',
      function: 'purge-cache',
      payload: {},
    };
    expect(planStart(hook, 'afterTraffic', { desired: 0, ready: 0, detail: '' }).action).toBe('invoke');
  });

  it('property: a beforePromote plan never sets a target below what is desired now', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.nat(50), fc.nat(50), (target, desired, ready) => {
        const plan = planStart(ecs({ desiredCount: target }), 'beforePromote', {
          desired,
          ready,
          detail: '',
        });
        if (plan.action === 'apply') expect(target).toBeGreaterThan(desired);
        expect(plan.direction).toBe('up');
      }),
    );
  });
});

describe('judgeReading', () => {
  it('is ready once the target runs, waits before, and times out at timeoutMs', () => {
    const hook = ecs({ timeoutMs: 60_000 });
    const p = { startedAt: 1_000, direction: 'up' as const };
    expect(judgeReading(hook, p, { desired: 6, ready: 6, detail: '' }, 31_000)).toEqual({
      status: 'done',
      code: 'READY',
      reason: 'ecs hook scale-standby: 6 ready of 6 after 30 s',
    });
    expect(judgeReading(hook, p, { desired: 6, ready: 4, detail: '' }, 31_000)).toEqual({
      status: 'running',
      code: 'NOT_READY',
      reason: 'ecs hook scale-standby: 4 ready of 6 after 30 s; waiting up to 60 s',
    });
    expect(judgeReading(hook, p, { desired: 6, ready: 4, detail: '' }, 61_000)).toEqual({
      status: 'failed',
      code: 'TIMED_OUT',
      reason: 'ecs hook scale-standby: 4 ready of 6 after 60 s, past its timeoutMs (60 s)',
    });
  });

  it('counts a region that does not answer as waiting, until the timeout', () => {
    const hook = ecs({ timeoutMs: 20_000 });
    const p = { startedAt: 0, direction: 'up' as const };
    expect(judgeReading(hook, p, new Error('no answer in 8000 ms'), 10_000).code).toBe('UNREACHABLE');
    expect(judgeReading(hook, p, new Error('no answer in 8000 ms'), 20_000)).toMatchObject({
      status: 'failed',
      code: 'TIMED_OUT',
      reason:
        'ecs hook scale-standby: no answer (no answer in 8000 ms) of 6 after 20 s, past its timeoutMs (20 s)',
    });
  });

  it('scaling down is done at or below the target; provisioned concurrency FAILED is final', () => {
    const down = { startedAt: 0, direction: 'down' as const };
    expect(judgeReading(ecs({ desiredCount: 1 }), down, { desired: 1, ready: 2, detail: '' }, 1).status).toBe(
      'running',
    );
    expect(judgeReading(ecs({ desiredCount: 1 }), down, { desired: 1, ready: 1, detail: '' }, 1).status).toBe(
      'done',
    );
    const pc: Hook = {
      kind: 'lambda-provisioned-concurrency',
      name: 'warm',
      region: 'target',
      timeoutMs: 60_000,
      onFailure: 'abort',
      functionName: 'api',
      qualifier: 'live',
      count: 10,
    };
    const up = { startedAt: 0, direction: 'up' as const };
    expect(
      judgeReading(pc, up, { desired: 10, ready: 10, status: 'pending', detail: 'IN_PROGRESS' }, 1).status,
    ).toBe('running');
    expect(
      judgeReading(pc, up, { desired: 10, ready: 3, status: 'failed', detail: 'FAILED (quota)' }, 1),
    ).toEqual({
      status: 'failed',
      code: 'FAILED',
      reason: 'lambda-provisioned-concurrency hook warm failed: FAILED (quota)',
    });
  });

  it('judges a lambda hook by its answer', () => {
    const hook = ecs();
    expect(judgeInvocation(hook, { ok: true, detail: '"ok"' }).code).toBe('INVOKED');
    expect(judgeInvocation(hook, { ok: false, detail: 'Unhandled: boom' }).status).toBe('failed');
    expect(judgeInvocation(hook, new Error('AccessDenied')).code).toBe('INVOKE_FAILED');
  });
});

describe('phaseOutcome', () => {
  it('waits while a hook runs, goes on when all are ready', () => {
    expect(
      phaseOutcome('beforePromote', [progress({ name: 'a' }), progress({ name: 'b', status: 'done' })]),
    ).toEqual({
      action: 'wait',
      code: 'HOOKS_RUNNING',
      reason: '1 of 2 beforePromote hooks not ready: a',
      continued: [],
    });
    expect(phaseOutcome('beforePromote', [progress({ status: 'done' })]).action).toBe('next');
    expect(phaseOutcome('afterTraffic', [])).toMatchObject({ action: 'next', code: 'NO_HOOKS' });
  });

  it('abort: ends the phase at once, whatever the others are doing', () => {
    const d = phaseOutcome('beforePromote', [
      progress({ name: 'a' }),
      progress({ name: 'b', status: 'failed', reason: 'b timed out' }),
    ]);
    expect(d).toEqual({
      action: 'abort',
      code: 'HOOK_FAILED_ABORT',
      reason: 'hook b before the promotion failed (b timed out); its onFailure is abort: abort the failover',
      continued: [],
    });
  });

  it('ask before the promotion: nobody is asked (the run is fenced), so it fails closed and says so', () => {
    const d = phaseOutcome('beforePromote', [
      progress({ status: 'failed', onFailure: 'ask', reason: 'x' }),
      progress({ name: 'other' }),
    ]);
    expect(d).toEqual({
      action: 'abort',
      code: 'HOOK_FAILED_ASK',
      reason:
        'hook h before the promotion failed (x); its onFailure is ask, and before the promotion the run is fenced, so nobody is asked: failing closed (abort the failover)',
      continued: [],
    });
  });

  it('ask after the traffic: waits for the other hooks, then asks once, naming each failed hook and its region', () => {
    const purge = progress({
      name: 'purge',
      kind: 'lambda',
      region: 'eu-west-1',
      status: 'failed',
      onFailure: 'ask',
      code: 'INVOKE_FAILED',
      reason: 'lambda hook purge failed: CDN refused',
    });
    const running = progress({ name: 'shrink', onFailure: 'continue' });
    expect(phaseOutcome('afterTraffic', [purge, running])).toEqual({
      action: 'wait',
      code: 'HOOKS_RUNNING',
      reason: '1 of 2 afterTraffic hooks not ready: shrink; a person is asked about purge once they end',
      continued: [],
    });
    const shrunk = { ...running, status: 'failed' as const, reason: 'shrink timed out' };
    expect(phaseOutcome('afterTraffic', [purge, shrunk])).toEqual({
      action: 'ask',
      code: 'HOOK_FAILED_ASK',
      reason:
        'hook purge (lambda in eu-west-1) after the traffic moved failed (lambda hook purge failed: CDN refused); its onFailure is ask: asking a person to continue or fail; the traffic has already moved and stays',
      continued: [],
    });
    // An abort hook among them still fails the run at once, without asking.
    const abort = progress({ name: 'gate', status: 'failed', onFailure: 'abort', reason: 'no' });
    expect(phaseOutcome('afterTraffic', [purge, abort, running]).code).toBe('HOOK_FAILED_ABORT');
    expect(askEvidence([purge, shrunk], { to: 'us-west-2' })).toEqual({
      'hook purge': 'lambda in eu-west-1, INVOKE_FAILED: lambda hook purge failed: CDN refused',
      traffic: 'already moved: us-west-2 holds the lease and serves; neither answer moves it back',
      'if nobody answers': 'fail',
    });
  });

  it('ask after the traffic: continue goes on with the hooks recorded as continued; fail and a timeout report the run failed', () => {
    const purge = progress({ name: 'purge', status: 'failed', onFailure: 'ask', reason: 'x' });
    const shrink = progress({ name: 'shrink', status: 'failed', onFailure: 'continue', reason: 'y' });
    const what = 'hook purge (ecs in us-west-2) after the traffic moved failed (x); its onFailure is ask';
    expect(
      phaseOutcome('afterTraffic', [purge, shrink], { answer: 'continue', by: 'U01', at: 5, reason: 'ok' }),
    ).toEqual({
      action: 'next',
      code: 'HOOK_ASK_CONTINUED',
      reason: `${what}, and U01 answered continue: going on with purge, shrink recorded as failed`,
      continued: ['purge', 'shrink'],
    });
    expect(
      phaseOutcome('afterTraffic', [purge], {
        answer: 'fail',
        by: null,
        reason: 'U01 rejected the approval',
      }),
    ).toEqual({
      action: 'abort',
      code: 'HOOK_ASK_FAILED',
      reason: `${what}, and the answer was fail (U01 rejected the approval): report the run failed`,
      continued: [],
    });
    expect(phaseOutcome('afterTraffic', [purge], { answer: 'timed-out', timeoutSeconds: 900 })).toEqual({
      action: 'abort',
      code: 'HOOK_ASK_TIMED_OUT',
      reason: `${what}, and nobody answered within 900 s, which counts as fail: report the run failed`,
      continued: [],
    });
    // An answer changes nothing where nothing was asked.
    const done = progress({ status: 'done' });
    expect(
      phaseOutcome('afterTraffic', [done], { answer: 'continue', by: 'U01', at: 5, reason: '' }).code,
    ).toBe('HOOKS_DONE');
  });

  it('continue: recorded, and the run goes on once every hook ended', () => {
    const failed = progress({ name: 'purge', status: 'failed', onFailure: 'continue' });
    expect(phaseOutcome('afterTraffic', [failed, progress({ name: 'x' })]).action).toBe('wait');
    expect(phaseOutcome('afterTraffic', [failed, progress({ name: 'x', status: 'done' })])).toEqual({
      action: 'next',
      code: 'HOOKS_DONE_WITH_FAILURES',
      reason: 'afterTraffic hooks ended; purge failed and its onFailure is continue: going on',
      continued: ['purge'],
    });
  });

  it('property: a failed abort or ask hook never lets the phase go on by itself; after the traffic only continue does', () => {
    const status = fc.constantFrom('running', 'done', 'failed') as fc.Arbitrary<HookProgress['status']>;
    const policy = fc.constantFrom('abort', 'continue', 'ask') as fc.Arbitrary<HookProgress['onFailure']>;
    const answer = fc.constantFrom<HookAnswer | undefined>(
      undefined,
      { answer: 'continue', by: 'U01', at: 1, reason: '' },
      { answer: 'fail', by: 'U01', reason: '' },
      { answer: 'timed-out', timeoutSeconds: 60 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(status, policy), { maxLength: 6 }), answer, (hs, a) => {
        const list = hs.map(([s, p], i) => progress({ name: `h${i}`, status: s, onFailure: p }));
        const failed = (p: string) => list.some((h) => h.status === 'failed' && h.onFailure === p);
        const before = phaseOutcome('beforePromote', list, a);
        expect(before.action === 'abort').toBe(failed('abort') || failed('ask'));
        if (before.action === 'next') expect(list.every((h) => h.status !== 'running')).toBe(true);
        const after = phaseOutcome('afterTraffic', list, a);
        if (failed('abort')) expect(after.action).toBe('abort');
        if (after.action === 'ask') expect(failed('ask') && !failed('abort') && !a).toBe(true);
        if (after.action === 'next' && failed('ask')) expect(a?.answer).toBe('continue');
        if (after.action === 'next') expect(list.every((h) => h.status !== 'running')).toBe(true);
      }),
    );
  });
});

describe("hookAnswer: the approval task's answer as the ASL leaves it at $.hookApproval", () => {
  it('reads a decision, a caught rejection and a caught timeout; refuses anything else', () => {
    expect(hookAnswer({ approved: true, by: 'U01', at: 7, reason: 'approved in Slack by U01' }, 900)).toEqual(
      {
        answer: 'continue',
        by: 'U01',
        at: 7,
        reason: 'approved in Slack by U01',
      },
    );
    expect(hookAnswer({ approved: false, by: 'U01', at: 7, reason: 'no' }, 900)).toEqual({
      answer: 'fail',
      by: 'U01',
      reason: 'no',
    });
    // SendTaskFailure's cause on AWS; a Lambda error's Cause is JSON with errorMessage.
    expect(
      hookAnswer(
        { Error: 'ApprovalRejectedError', Cause: 'U01 rejected the approval: rejected in Slack by U01' },
        900,
      ),
    ).toEqual({ answer: 'fail', by: null, reason: 'U01 rejected the approval: rejected in Slack by U01' });
    for (const error of ['States.Timeout', 'States.HeartbeatTimeout']) {
      expect(hookAnswer({ Error: error, Cause: 'timed out' }, 900)).toEqual({
        answer: 'timed-out',
        timeoutSeconds: 900,
      });
    }
    for (const junk of [undefined, null, {}, { approved: 'yes' }, { Error: 'States.TaskFailed' }]) {
      expect(() => hookAnswer(junk, 900)).toThrow(
        /^the afterTraffic hook approval left no answer the hook step can read at \$\.hookApproval: /,
      );
    }
  });
});

describe('hook regions', () => {
  it('target and source follow the run; a fixed region stays', () => {
    const run = { from: 'us-east-1', to: 'us-west-2' };
    expect(hookRegion({ region: 'target' }, run)).toBe('us-west-2');
    expect(hookRegion({ region: 'source' }, run)).toBe('us-east-1');
    expect(hookRegion({ region: 'eu-west-1' }, run)).toBe('eu-west-1');
  });
});

// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
const withHooks = (hooks: Record<string, any>) => {
  const raw = exampleConfigJson();
  raw.hooks = hooks;
  return parseConfig(raw);
};
const issues = (hooks: Record<string, unknown>) => {
  const r = withHooks(hooks);
  return r.ok ? [] : r.issues;
};
const scale = (over: Record<string, unknown> = {}) => ({
  kind: 'ecs',
  name: 'scale-standby',
  region: 'target',
  timeoutMs: 600_000,
  onFailure: 'continue',
  cluster: 'orders',
  service: 'web',
  desiredCount: 6,
  ...over,
});

describe('the hooks section of the configuration', () => {
  it('accepts a warm standby: scale up before the promotion, down after the traffic moved', () => {
    const r = withHooks({
      beforePromote: [scale()],
      afterTraffic: [
        scale({ name: 'scale-old-primary', region: 'source', desiredCount: 1, onFailure: 'continue' }),
      ],
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.hooks?.beforePromoteBudgetMs).toBe(900_000);
  });

  it('refuses abort and ask before the promotion: after the fence, stopping leaves no writer', () => {
    for (const onFailure of ['abort', 'ask']) {
      expect(issues({ beforePromote: [scale({ onFailure })] })).toEqual([
        {
          field: 'hooks.beforePromote[0].onFailure',
          message: `is "${onFailure}": a beforePromote hook runs after the fence (traffic stopped, the old primary's lease revoked), so a failed hook that stops the failover leaves no region that can write; use "continue": the failover then promotes an under-scaled standby, which is degraded, not down`,
        },
      ]);
    }
    // Every kind, a fixed non-application region too: the rule is about the phase, not the hook.
    const warm = {
      kind: 'lambda-provisioned-concurrency',
      name: 'warm',
      region: 'target',
      timeoutMs: 60_000,
      onFailure: 'abort',
      functionName: 'api',
      qualifier: 'live',
      count: 5,
    };
    expect(issues({ beforePromote: [warm] }).map((i) => i.field)).toEqual([
      'hooks.beforePromote[0].onFailure',
    ]);
    expect(issues({ beforePromote: [{ ...warm, onFailure: 'continue' }] })).toEqual([]);
    // After the traffic moved, abort and ask stay allowed where the source cannot run them: the run is reported failed.
    expect(issues({ afterTraffic: [scale({ onFailure: 'abort' })] })).toEqual([]);
    expect(issues({ afterTraffic: [scale({ onFailure: 'ask', region: 'eu-west-1' })] })).toEqual([]);
  });

  it('refuses a beforePromote hook that can run in the region being left: source, or either application region', () => {
    // The example's primary is us-east-1 and its standby us-west-2; after a first failover us-west-2 is the source.
    const cases: [string, string][] = [
      ['source', '"source" is the region being left'],
      ['us-east-1', "(the primary's region)"],
      ['us-west-2', "(the standby's region)"],
    ];
    for (const [region, why] of cases) {
      const found = issues({ beforePromote: [scale({ region })] });
      expect(found).toEqual([
        { field: 'hooks.beforePromote[0].region', message: expect.stringContaining(why) },
      ]);
      expect(found[0]?.message).toMatch(/which may not answer in a region outage; use "target"$/);
    }
    expect(issues({ beforePromote: [scale({ region: 'us-west-2' })] })[0]?.message).toBe(
      `is "us-west-2" (the standby's region): a beforePromote hook readies the region the run moves to, and a fixed application region is the region being left by the failover in one direction or the other, which may not answer in a region outage; use "target"`,
    );
    // Both problems at once: both named.
    expect(
      issues({ beforePromote: [scale({ region: 'source', onFailure: 'ask' })] }).map((i) => i.field),
    ).toEqual(['hooks.beforePromote[0].region', 'hooks.beforePromote[0].onFailure']);
    // Accepted: the target, or a fixed region that is not an application region (a shared-services region).
    expect(issues({ beforePromote: [scale({ region: 'target' })] })).toEqual([]);
    expect(issues({ beforePromote: [scale({ region: 'eu-west-1' })] })).toEqual([]);
  });

  it('an afterTraffic hook that can run in the source must continue on failure; elsewhere any policy', () => {
    for (const region of ['source', 'us-east-1', 'us-west-2']) {
      for (const onFailure of ['abort', 'ask']) {
        const found = issues({ afterTraffic: [scale({ region, onFailure })] });
        expect(found).toEqual([
          { field: 'hooks.afterTraffic[0].onFailure', message: expect.stringContaining(`is "${onFailure}"`) },
        ]);
        expect(found[0]?.message).toMatch(/would end reported failed; use "continue"$/);
      }
      expect(issues({ afterTraffic: [scale({ region })] })).toEqual([]);
    }
    expect(issues({ afterTraffic: [scale({ region: 'us-west-2', onFailure: 'abort' })] })[0]?.message).toBe(
      `is "abort" for a hook that can run in the source region (us-west-2, the standby's region): in a region outage that region does not answer, and every failover that moved the traffic would end reported failed; use "continue"`,
    );
    for (const region of ['target', 'eu-west-1']) {
      expect(issues({ afterTraffic: [scale({ region, onFailure: 'abort' })] })).toEqual([]);
    }
  });

  it('an afterTraffic ask hook needs approval.slack approvers to ask; with them it is accepted', () => {
    const purge = scale({ name: 'purge', onFailure: 'ask' });
    expect(issues({ afterTraffic: [purge] })).toEqual([]);
    for (const [slack, what] of [
      [undefined, 'is not configured'],
      [{ channel: 'C0123456789', approvers: [] }, 'has no approvers'],
    ] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
      const raw = exampleConfigJson() as Record<string, any>;
      raw.hooks = { afterTraffic: [scale({ onFailure: 'continue' }), { ...purge }] };
      // With nobody to ask an ambiguous failover needs another policy too; this test is about the hook.
      raw.approval = { ambiguousPolicy: 'abort', ...(slack ? { slack } : {}) };
      const r = parseConfig(raw);
      expect(r.ok ? [] : r.issues).toEqual([
        {
          field: 'hooks.afterTraffic[1].onFailure',
          message: `is "ask", which asks approval.slack's approvers to continue or fail when the hook fails, but approval.slack ${what}: configure approval.slack (channel, approvers), or use "continue" or "abort"`,
        },
      ]);
      raw.hooks.afterTraffic[1].onFailure = 'abort';
      expect(parseConfig(raw).ok).toBe(true);
    }
  });

  it('refuses duplicate names, a timeout over the RTO budget, and one too short to read twice', () => {
    expect(issues({ beforePromote: [scale()], afterTraffic: [scale({ onFailure: 'continue' })] })).toEqual([
      {
        field: 'hooks.afterTraffic[0].name',
        message:
          '"scale-standby" is already the name of hooks.beforePromote[0]: each hook needs its own name',
      },
    ]);
    expect(
      issues({ beforePromote: [scale({ timeoutMs: 1_200_000 })], beforePromoteBudgetMs: 600_000 }),
    ).toEqual([
      {
        field: 'hooks.beforePromote[0].timeoutMs',
        message:
          'is 1200 s, over hooks.beforePromoteBudgetMs (600 s): `cutover rto` counts the longest beforePromote timeout in every failover; shorten it or raise the budget',
      },
    ]);
    expect(issues({ beforePromote: [scale({ timeoutMs: 5_000 })] })[0]).toEqual({
      field: 'hooks.beforePromote[0].timeoutMs',
      message: 'is 5 s: a ecs hook is read every 10 s, so it needs at least 10 s',
    });
  });

  it('refuses a lambda hook longer than one step, and an ARN whose region the hook does not act in', () => {
    const fn = {
      kind: 'lambda',
      name: 'purge',
      region: 'target',
      timeoutMs: 5_000,
      onFailure: 'continue',
      function: 'purge-cache',
    };
    expect(issues({ afterTraffic: [fn] })).toEqual([]);
    expect(issues({ afterTraffic: [{ ...fn, timeoutMs: 60_000 }] })[0]?.field).toBe(
      'hooks.afterTraffic[0].timeoutMs',
    );
    expect(
      issues({ afterTraffic: [{ ...fn, function: 'arn:aws:lambda:eu-west-1:123456789012:function:purge' }] }),
    ).toEqual([
      {
        field: 'hooks.afterTraffic[0].function',
        message:
          'is an ARN in eu-west-1, but region is "target", which changes with the direction of the run: give the function\'s name, or set region to eu-west-1',
      },
    ]);
  });

  it('names the field of a malformed hook, and refuses unknown kinds and fields', () => {
    expect(issues({ beforePromote: [scale({ onFailure: 'retry' })] })).toEqual([
      {
        field: 'hooks.beforePromote[0].onFailure',
        message: 'must be "abort", "continue" or "ask"; got "retry"',
      },
    ]);
    expect(issues({ beforePromote: [scale({ kind: 'eks' })] })[0]?.field).toBe('hooks.beforePromote[0].kind');
    expect(issues({ beforePromote: [scale({ desiredCount: -1 })] })[0]?.field).toBe(
      'hooks.beforePromote[0].desiredCount',
    );
    expect(issues({ beforePromote: [scale({ replicas: 3 })] })[0]?.field).toBe(
      'hooks.beforePromote[0].replicas',
    );
    expect(issues({ beforePromote: [scale({ region: 'mars' })] })[0]).toEqual({
      field: 'hooks.beforePromote[0].region',
      message: expect.stringMatching(
        /^must be "target", "source" or a commercial AWS region: "mars" is not an AWS region/,
      ),
    });
    expect(issues({ beforePromote: [scale({ region: 'us-wst-2' })] })[0]?.message).toMatch(
      /did you mean us-west-2\?/,
    );
    const pc = {
      kind: 'lambda-provisioned-concurrency',
      name: 'warm',
      region: 'target',
      timeoutMs: 60_000,
      onFailure: 'abort',
      functionName: 'api',
      count: 5,
    };
    expect(issues({ beforePromote: [{ ...pc, qualifier: '$LATEST' }] })).toEqual([
      {
        field: 'hooks.beforePromote[0].qualifier',
        message: 'must be an alias or a version number, not $LATEST; got "$LATEST"',
      },
    ]);
  });
});

describe('cutover rto counts the beforePromote hooks', () => {
  it('adds a hooks phase before the promotion: the longest timeout at worst, the hooks running together', () => {
    const r = withHooks({
      beforePromote: [scale(), scale({ name: 'scale-workers', timeoutMs: 300_000 })],
      afterTraffic: [scale({ name: 'shrink', region: 'source', onFailure: 'continue', desiredCount: 1 })],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const without = withHooks({});
    if (!without.ok) throw new Error('example');
    const e = estimateRto(r.config);
    const base = estimateRto(without.config);
    expect(e.phases.map((p) => p.id)).toEqual([
      'detection',
      'claim',
      'fence',
      'hooks',
      'promotion',
      'traffic',
    ]);
    const hooks = e.phases.find((p) => p.id === 'hooks')!;
    expect([hooks.best, hooks.expected, hooks.worst]).toEqual([100, 300_000, 600_000 + 10_000 + 1_500]);
    expect(hooks.parts[0]?.label).toBe('beforePromote hooks (scale-standby, scale-workers)');
    expect(e.total.worst - base.total.worst).toBe(hooks.worst);
    expect(e.caveats).toContain(
      'The afterTraffic hooks run once clients already reach the standby: they are not in these numbers.',
    );
    expect(base.phases.map((p) => p.id)).not.toContain('hooks');
  });
});
