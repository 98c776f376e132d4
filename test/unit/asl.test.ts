import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { StepDeps } from '#steps/core/deps.js';
import { HOOK_APPROVAL_KEY } from '#steps/core/hooks.js';
import { POLL_SECONDS } from '#steps/core/state.js';
import { failbackTaskHandlers, failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { loadDefinition } from '../../infra/local/sfn-runner.js';
import { exampleConfig } from '../support/fixtures.js';

// asl-validator ships CommonJS without types.
const aslValidator = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  options: { checkArn: boolean; checkPaths: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

const files = ['failover', 'failback'] as const;
const path = (f: string) => new URL(`../../statemachines/${f}.asl.json`, import.meta.url).pathname;
// biome-ignore lint/suspicious/noExplicitAny: ASL is untyped JSON here
type State = Record<string, any>;
const raw = (f: string) => JSON.parse(readFileSync(path(f), 'utf8')) as { States: Record<string, State> };
const handlers = { failover: failoverTaskHandlers, failback: failbackTaskHandlers };
const deps = { config: exampleConfig() } as unknown as StepDeps;

describe.each(files)('statemachines/%s.asl.json', (f) => {
  it('passes asl-validator once the placeholders are bound to ARNs (as the CDK app and the runner do)', () => {
    const bound = aslValidator(loadDefinition(path(f)).definition, { checkArn: true, checkPaths: true });
    expect(bound.errorsText('\n')).toBe('');
    expect(bound.isValid).toBe(true);
  });

  it('uses placeholders for function ARNs and names only, and every one has a local handler', () => {
    const text = readFileSync(path(f), 'utf8');
    const names = [...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!);
    expect(names.every((n) => /Function(Arn|Name)$/.test(n))).toBe(true);
    expect(Object.keys(handlers[f](deps))).toEqual(expect.arrayContaining([...new Set(names)]));
  });

  it('gives every Task a timeout, a Retry for transient errors by name, and a Catch to the failure path', () => {
    const states = raw(f).States;
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(8);
    for (const [name, s] of tasks) {
      expect(s.TimeoutSeconds ?? s.TimeoutSecondsPath, name).toBeDefined();
      const retried = (s.Retry ?? []).flatMap((r: State) => r.ErrorEquals);
      expect(retried, name).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
      if (!s.Resource.includes('waitForTaskToken')) expect(retried, name).toContain('TransientError');
      const caught = (s.Catch ?? []).flatMap((c: State) => c.ErrorEquals);
      expect(caught, name).toContain('States.ALL');
      expect(retried, name).not.toContain('States.ALL');
    }
  });

  it('reaches the failure event from every Catch-all', () => {
    const states = raw(f).States;
    for (const [name, s] of Object.entries(states)) {
      const all = (s.Catch ?? []).find((c: State) => c.ErrorEquals.includes('States.ALL'));
      if (!all || name === 'ReportFailure') continue;
      const next = states[all.Next]!;
      expect(next.Type, name).toBe('Pass');
      expect(next.Next, name).toBe('ReportFailure');
      expect(next.Parameters.step, name).toEqual(expect.any(String));
    }
    expect(states.ReportFailure!.Next).toMatch(/Failed$/);
    expect(states[states.ReportFailure!.Next]!.Type).toBe('Fail');
  });

  it('asks for approval with the real callback pattern, bounded by a timeout and a heartbeat', () => {
    const approvals = Object.values(raw(f).States).filter((s) =>
      String(s.Resource).endsWith('.waitForTaskToken'),
    );
    expect(approvals.length).toBeGreaterThan(0);
    for (const s of approvals) {
      expect(s.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(s.Parameters.FunctionName).toBe(`$${'{'}RequestApprovalFunctionName}`);
      expect(s.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
      expect(s.TimeoutSecondsPath).toMatch(/approvalTimeoutSeconds$/);
      expect(s.HeartbeatSecondsPath).toMatch(/approvalHeartbeatSeconds$/);
      expect(s.Catch.flatMap((c: State) => c.ErrorEquals)).toEqual(
        expect.arrayContaining(['ApprovalRejectedError', 'States.Timeout', 'States.HeartbeatTimeout']),
      );
    }
  });

  it('asks a person about a failed afterTraffic ask hook and brings every answer back to the hook step', () => {
    const states = raw(f).States;
    expect(states.AfterTrafficHooksDecision!.Choices).toContainEqual({
      Variable: '$.hooksAfterTraffic.action',
      StringEquals: 'ask',
      Next: 'ApproveHookFailure',
    });
    // Before the promotion nobody is asked (the run is fenced): only next and wait go on, the rest stops.
    expect(
      states.BeforePromoteHooksDecision!.Choices.map((c: State) => [c.StringEquals, c.Next]).sort(),
    ).toEqual([
      ['next', 'Promote'],
      ['wait', 'WaitBeforePromoteHooks'],
    ]);
    const ask = states.ApproveHookFailure!;
    expect(ask.Parameters.Payload).toMatchObject({
      kind: 'hook',
      'reason.$': '$.hooksAfterTraffic.ask.reason',
      'evidence.$': '$.hooksAfterTraffic.ask.evidence',
      'timeoutSeconds.$': '$.hooksAfterTraffic.ask.approvalTimeoutSeconds',
    });
    expect(ask.TimeoutSecondsPath).toBe('$.hooksAfterTraffic.ask.approvalTimeoutSeconds');
    // An answer, a rejection and a timeout all land where the hook step reads them, and it decides.
    expect(ask.ResultPath).toBe(`$.${HOOK_APPROVAL_KEY}`);
    expect(ask.Next).toBe('AfterTrafficHooks');
    for (const error of ['ApprovalRejectedError', 'States.Timeout', 'States.HeartbeatTimeout']) {
      const c = ask.Catch.find((x: State) => x.ErrorEquals.includes(error));
      expect(c, error).toMatchObject({ ResultPath: `$.${HOOK_APPROVAL_KEY}`, Next: 'AfterTrafficHooks' });
    }
    // Anything else (Slack down) is the failure path at the hooks step, like a failed hook.
    const all = ask.Catch.find((x: State) => x.ErrorEquals.includes('States.ALL'));
    expect(states[all.Next]!.Parameters.step).toBe('hooks-after-traffic');
    expect(states.AfterTrafficHookFailed!.Parameters).toMatchObject({
      step: 'hooks-after-traffic',
      Error: 'HookFailedError',
      'Cause.$': '$.hooksAfterTraffic.reason',
    });
  });

  it('polls only in bounded loops whose Wait states match the attempt arithmetic', () => {
    const states = raw(f).States;
    const seconds = new Set<number>(Object.values(POLL_SECONDS));
    for (const [name, s] of Object.entries(states)) {
      if (s.Type !== 'Wait') continue;
      if (s.SecondsPath) {
        // The fence's Wait: whole seconds counted from when the state begins (the step waited the rest).
        expect(s.SecondsPath, name).toBe('$.fence.waitSeconds');
        expect(s.TimestampPath, name).toBeUndefined();
        continue;
      }
      if (name === 'BakeTrafficStep') continue;
      expect(seconds.has(s.Seconds), `${name} waits ${s.Seconds} s`).toBe(true);
      // The state a poll Wait goes back to leads to a Choice with an attempts-exhausted branch.
      const task = states[s.Next]!;
      const choice = task.Type === 'Choice' ? task : states[task.Next];
      const bounded = choice?.Choices?.some(
        (c: State) =>
          c.NumericGreaterThanEqualsPath || c.StringEquals === 'ask' || c.StringEquals === 'abort',
      );
      expect(bounded || choice?.Default, name).toBeTruthy();
    }
  });
});

describe('the failover machine', () => {
  it('keeps the brief order: claim, approval when ambiguous, re-check, stop, fence, RPO guard, promote, lease, traffic, verify, notify', () => {
    const s = raw('failover').States;
    expect(s.Claimed!.Choices[1]).toMatchObject({ Variable: '$.needsApproval', Next: 'ApproveFailover' });
    const chain = ['RecheckVotes', 'StopTraffic', 'Fence', 'WaitOutOldLease', 'RpoGuard'];
    expect(s.PrimaryRecovered!.Choices[1]).toMatchObject({
      Variable: '$.recheck.proceed',
      Next: 'StopTraffic',
    });
    // Anything but an explicit go-on stops before the fence.
    expect(s.PrimaryRecovered!.Default).toBe('RecheckAbort');
    // The fence's Wait is skipped only when the fence found the old lease already over (waitNeeded false).
    expect(s.Fence!.Next).toBe('OldLeaseOver');
    expect(s.OldLeaseOver!.Choices).toEqual([
      { Variable: '$.fence.waitNeeded', BooleanEquals: false, Next: 'RpoGuard' },
    ]);
    expect(s.OldLeaseOver!.Default).toBe('WaitOutOldLease');
    expect(s.WaitOutOldLease!.Next).toBe('RpoGuard');
    expect(s.PromoteWritable!.Choices[0].Next).toBe('GrantLease');
    expect(s.GrantLease!.Next).toBe('RouteTraffic');
    expect(s.MoreTrafficSteps!.Choices[0].Next).toBe('Verify');
    expect(s.Verified!.Choices[0].Next).toBe('AfterTrafficHooks');
    expect(s.AfterTrafficHooksDecision!.Choices[0].Next).toBe('Notify');
    expect(chain.every((n) => s[n])).toBe(true);
  });
});
