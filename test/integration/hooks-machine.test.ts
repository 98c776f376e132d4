import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '#adapters/dynamodb/approval-store.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { LocalHookActuator } from '#adapters/local/hook-actuator.js';
import { type CutoverConfig, parseConfig } from '#core/config.js';
import type { Incident } from '#core/incident.js';
import { runHooks } from '#steps/core/hooks.js';
import { failbackTaskHandlers, failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { type SlackAnswer, SlackStandIn } from '../../infra/local/slack-standin.js';
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { exampleConfig, exampleConfigJson, vote } from '../support/fixtures.js';
import { at, type Harness, makeHarness, seedStalledPrimary } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const FAILBACK = new URL('../../statemachines/failback.asl.json', import.meta.url).pathname;
const fast = { waitMs: 0, retryIntervalMs: 0 };

let harness: Harness | undefined;
const standIns: SlackStandIn[] = [];
afterEach(async () => {
  harness?.restore();
  harness = undefined;
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
type Raw = Record<string, any>;

const scaleStandby = (over: Raw = {}): Raw => ({
  kind: 'ecs',
  name: 'scale-standby',
  region: 'target',
  timeoutMs: 60_000,
  onFailure: 'continue',
  cluster: 'orders',
  service: 'web',
  desiredCount: 6,
  ...over,
});
const purge = (over: Raw = {}): Raw => ({
  kind: 'lambda',
  name: 'purge-cache',
  region: 'target',
  timeoutMs: 5_000,
  onFailure: 'continue',
  function: 'purge',
  payload: { paths: ['/*'] },
  ...over,
});

/**
 * The harness with the local hook actuator: the ECS service `orders/web` runs 2 tasks in each application
 * region, and a task starts every `unitMs`. Its calls go to the harness log beside RDS and the lease.
 */
function withHooks(
  h: Harness,
  config: CutoverConfig,
  opts: { unitMs?: number; purge?: () => Promise<unknown> } = {},
) {
  const actuator = new LocalHookActuator({
    clock: { now: () => Date.now() },
    unitMs: opts.unitMs ?? 5,
    functions: { purge: opts.purge ?? (async () => ({ purged: 1 })) },
  });
  for (const hook of [...(config.hooks?.beforePromote ?? []), ...(config.hooks?.afterTraffic ?? [])]) {
    if (hook.kind !== 'lambda') for (const r of ['us-east-1', 'us-west-2']) actuator.seed(hook, r, 2);
  }
  h.deps.hooks = {
    read: (hook, region) => actuator.read(hook, region),
    apply: (hook, region) => {
      h.log.push(`hook.apply ${region} ${hook.name}`);
      return actuator.apply(hook, region);
    },
    invoke: (hook, region, event) => {
      h.log.push(`hook.invoke ${region} ${hook.name}`);
      return actuator.invoke(hook, region, event);
    },
  };
  return actuator;
}

/** What the configuration rules say of these hooks (hookIssues), on the example configuration. */
function refusals(hooks: Raw): string[] {
  const raw = exampleConfigJson();
  raw.hooks = hooks;
  const r = parseConfig(raw);
  return r.ok ? [] : r.issues.map((i) => i.field);
}

/**
 * `unchecked`: the hooks as given although the rules refuse them (a beforePromote hook with abort/ask, or in the
 * source region). The configuration is validated with those two fields made acceptable, then they are set back,
 * so the machines' own paths for such a hook stay tested: a configuration built around the rules must still not
 * promote past a failed abort/ask hook.
 */
async function failover(hooks: Raw, opts: { unchecked?: boolean; approvalTimeoutSeconds?: number } = {}) {
  const t = await freshTables('hk');
  const phases = ['beforePromote', 'afterTraffic'] as const;
  const config = exampleConfig((c) => {
    if (opts.approvalTimeoutSeconds) c.approval.timeoutSeconds = opts.approvalTimeoutSeconds;
    c.hooks = opts.unchecked
      ? Object.fromEntries(
          phases.map((p) => [
            p,
            (hooks[p] ?? []).map((x: Raw) => ({ ...x, region: 'target', onFailure: 'continue' })),
          ]),
        )
      : hooks;
  });
  if (opts.unchecked) {
    for (const p of phases) {
      config.hooks![p].forEach((x, i) => {
        Object.assign(x, { region: hooks[p][i].region, onFailure: hooks[p][i].onFailure });
      });
    }
  }
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const { control, request } = await seedStalledPrimary(t, config);
  return { h, t, config, control, input: request };
}

/**
 * The drill's Slack on the approval store of these tables: the real request core, Block Kit message, signed (or
 * forged) click and callback core; `answer` is what the approver does with a hook's question. Any other question
 * (the failback's own approval) is approved through the same path.
 */
function slack(
  h: Harness,
  t: Awaited<ReturnType<typeof freshTables>>,
  config: CutoverConfig,
  answer: SlackAnswer,
) {
  const approvals = new DynamoApprovalStore(t.doc, t.names.control);
  const control = new DynamoControlStore(t.doc, t.names.control);
  const approvers = config.approval.slack?.approvers ?? [];
  const person = new SlackStandIn({ approvals, control, approvers, answer });
  const planner = new SlackStandIn({ approvals, control, approvers, answer: 'approve' });
  standIns.push(person, planner);
  /** The incident as it stood when each hook question was asked. */
  const whileAsking: (Incident | null)[] = [];
  h.deps.approval = {
    requestApproval: async (req) => {
      if (req.kind !== 'hook') return planner.requestApproval(req);
      whileAsking.push(await control.getIncident(req.incidentId));
      return person.requestApproval(req);
    },
  };
  return { person, approvals, whileAsking };
}

const failing = async () => {
  throw new Error('CDN API refused');
};

/** The hook step on a clock that runs `stepMs` ahead at each reading: a hook's timeout passes in a few loops. */
function hurried(h: Harness, handlers: Record<string, (input: unknown) => Promise<unknown>>, stepMs: number) {
  let ahead = 0;
  handlers.HookFunctionArn = (input: unknown) => {
    ahead += stepMs;
    const clock = { now: () => Date.now() + ahead };
    return runHooks(input as Parameters<typeof runHooks>[0], { ...h.deps, clock });
  };
  return handlers;
}

const auditOf = async (control: DynamoControlStore, incidentId: string) =>
  (await control.listAudit('orders', incidentId)).map((a) => `${a.step}:${a.outcome}`);

function expectValidEvents(h: Harness) {
  for (const e of h.published) expect(eventErrors(e.detailType, e.detail), e.detailType).toEqual([]);
}

describe('hook steps in the failover machine (the real ASL, DynamoDB Local, the local hook actuator)', () => {
  it('scales the standby up before the promotion and waits until it is ready; scales once', async () => {
    const { h, config, control, input } = await failover({ beforePromote: [scaleStandby()] });
    const actuator = withHooks(h, config, { unitMs: 20 });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Completed');
    // The loop read more than once: 4 tasks to start, one every 20 ms.
    expect(run.path).toContain('WaitBeforePromoteHooks');
    expect(at(h.log, 'hook.apply us-west-2 scale-standby')).toBeLessThan(at(h.log, 'RDS.PromoteReadReplica'));
    expect(actuator.calls.filter((c) => c.startsWith('apply'))).toEqual(['apply us-west-2 scale-standby 6']);
    const audit = await auditOf(control, input.incidentId);
    expect(audit).toEqual(
      expect.arrayContaining([
        'hook:scale-standby:SCALE',
        'hook:scale-standby:READY',
        'hooks-before-promote:done',
      ]),
    );
    // A phase with no hook acts on nothing: no audit entry (nor ownership write), only its timing below.
    expect(audit.filter((a) => a.startsWith('hooks-after-traffic'))).toEqual([]);
    // The phase is one timed step of the run, and Failover Completed carries it.
    const done = h.published.find((e) => e.detailType === 'Failover Completed');
    const steps = (done?.detail.steps ?? []) as { name: string; durationMs: number; outcome: string }[];
    expect(steps.map((s) => s.name)).toContain('hooks-after-traffic');
    const hookStep = steps.find((s) => s.name === 'hooks-before-promote');
    expect(hookStep).toMatchObject({ outcome: 'done' });
    expect(hookStep!.durationMs).toBeGreaterThanOrEqual(60);
    expectValidEvents(h);
  });

  it('onFailure abort: a hook past its timeout aborts the failover before anything is promoted', async () => {
    const hooks = { beforePromote: [scaleStandby({ timeoutMs: 10_000, onFailure: 'abort' })] };
    // The rules refuse it (after the fence, stopping leaves no writer): this is the machine's own defence.
    expect(refusals(hooks)).toEqual(['hooks.beforePromote[0].onFailure']);
    const { h, config, control, input } = await failover(hooks, { unchecked: true });
    withHooks(h, config, { unitMs: 3_600_000 });
    const handlers = hurried(h, failoverTaskHandlers(h.deps), 4_000);
    const run = await runStateMachine(FAILOVER, input, handlers, fast);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.slice(-3)).toEqual(['BeforePromoteHookAbort', 'Abort', 'Aborted']);
    expect(h.log.some((l) => l.startsWith('RDS.PromoteReadReplica'))).toBe(false);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'aborted' });
    const aborted = h.published.find((e) => e.detailType === 'Failover Aborted');
    // After the fence: the event says so, and the control stack's rule sends such an event to the pager.
    expect(aborted?.detail).toMatchObject({
      code: 'HOOK_FAILED_ABORT',
      step: 'hooks-before-promote',
      fenced: true,
    });
    expect(aborted?.detail.reason).toMatch(
      /^hook scale-standby before the promotion failed \(ecs hook scale-standby: 2 ready of 6 after 1\d(\.\d)? s, past its timeoutMs \(10 s\)\); its onFailure is abort: abort the failover$/,
    );
    expect(await auditOf(control, input.incidentId)).toEqual(
      expect.arrayContaining([
        'hook:scale-standby:SCALE',
        'hook:scale-standby:TIMED_OUT',
        'hooks-before-promote:abort',
      ]),
    );
    expectValidEvents(h);
  });

  it('onFailure continue: a failed hook is recorded and the failover goes on', async () => {
    const { h, config, control, input } = await failover({ beforePromote: [purge()] });
    withHooks(h, config, {
      purge: async () => {
        throw new Error('CDN API refused');
      },
    });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Completed');
    const audit = await control.listAudit('orders', input.incidentId);
    expect(audit.find((a) => a.step === 'hook:purge-cache')).toMatchObject({
      outcome: 'INVOKE_FAILED',
      detail: { reason: 'lambda hook purge-cache failed: Unhandled: CDN API refused' },
    });
    expect(audit.find((a) => a.step === 'hooks-before-promote')?.detail).toMatchObject({
      code: 'HOOKS_DONE_WITH_FAILURES',
      continued: ['purge-cache'],
    });
  });

  it('onFailure ask before the promotion: nobody is asked after the fence, so it fails closed (aborts) and says why', async () => {
    const hooks = { beforePromote: [purge({ onFailure: 'ask' })] };
    expect(refusals(hooks)).toEqual(['hooks.beforePromote[0].onFailure']);
    const { h, config, control, input } = await failover(hooks, { unchecked: true });
    withHooks(h, config, {
      purge: async () => {
        throw new Error('CDN API refused');
      },
    });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.path.slice(-3)).toEqual(['BeforePromoteHookAbort', 'Abort', 'Aborted']);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'aborted' });
    const aborted = h.published.find((e) => e.detailType === 'Failover Aborted');
    expect(aborted?.detail).toMatchObject({ code: 'HOOK_FAILED_ASK', fenced: true });
    expect(aborted?.detail.reason).toContain(
      'its onFailure is ask, and before the promotion the run is fenced, so nobody is asked: failing closed',
    );
    expectValidEvents(h);
  });

  it('an afterTraffic hook with onFailure abort: too late to abort, the run is reported failed with the traffic moved', async () => {
    const { h, config, control, input } = await failover({ afterTraffic: [purge({ onFailure: 'abort' })] });
    withHooks(h, config, {
      purge: async () => {
        throw new Error('CDN API refused');
      },
    });
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.path).toContain('AfterTrafficHookFailed');
    expect(await h.deps.leases.read('orders')).toMatchObject({ holder: 'us-west-2' });
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'failed' });
    expect(h.published.find((e) => e.detailType === 'Failover Failed')?.detail).toMatchObject({
      step: 'hooks-after-traffic',
      error: 'HookFailedError',
      promoted: true,
      leaseGranted: true,
    });
  });

  it('a hook in the dead source region (onFailure continue) never blocks the failover: it times out and is recorded', async () => {
    const shrink = scaleStandby({
      name: 'shrink-old',
      region: 'source',
      desiredCount: 0,
      timeoutMs: 10_000,
      onFailure: 'continue',
    });
    const hooks = { beforePromote: [shrink], afterTraffic: [{ ...shrink, name: 'shrink-old-2' }] };
    // The rules refuse a beforePromote hook in the source; an afterTraffic one there is accepted with continue.
    expect(refusals(hooks)).toEqual(['hooks.beforePromote[0].region']);
    const { h, config, control, input } = await failover(hooks, { unchecked: true });
    const actuator = withHooks(h, config);
    actuator.setDown('us-east-1');
    const run = await runStateMachine(FAILOVER, input, hurried(h, failoverTaskHandlers(h.deps), 4_000), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Completed');
    expect(actuator.calls).toEqual([]);
    const audit = await control.listAudit('orders', input.incidentId);
    expect(
      audit.find((a) => a.step === 'hook:shrink-old' && a.outcome === 'TIMED_OUT')?.detail?.reason,
    ).toMatch(
      /^ecs hook shrink-old: no answer \(connect ECONNREFUSED: us-east-1 does not answer\) of 0 after 1\d(\.\d)? s, past its timeoutMs \(10 s\)$/,
    );
    expect(await auditOf(control, input.incidentId)).toEqual(
      expect.arrayContaining([
        'hook:shrink-old:PENDING',
        'hooks-before-promote:done',
        'hooks-after-traffic:done',
      ]),
    );
  });

  it('an afterTraffic ask hook that fails asks a person in Slack; "continue" completes the run with the hook continued', async () => {
    const { h, t, config, control, input } = await failover({ afterTraffic: [purge({ onFailure: 'ask' })] });
    withHooks(h, config, { purge: failing });
    const { person, approvals, whileAsking } = slack(h, t, config, 'approve');
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path.slice(-7)).toEqual([
      'AfterTrafficHooks',
      'AfterTrafficHooksDecision',
      'ApproveHookFailure',
      'AfterTrafficHooks',
      'AfterTrafficHooksDecision',
      'Notify',
      'Completed',
    ]);
    // The question names the hook, its region and its reason, and says the traffic has already moved.
    const asked = person.messages.find((m) => m.method === 'chat.postMessage')!;
    const text = JSON.stringify(asked.message);
    expect(asked.text).toContain('A hook failed after orders moved to us-west-2: continue or fail?');
    expect(text).toContain('hook purge-cache (lambda in us-west-2) after the traffic moved failed');
    expect(text).toContain('lambda hook purge-cache failed: Unhandled: CDN API refused');
    expect(text).toContain('already moved: us-west-2 holds the lease and serves');
    expect(text).toContain('that counts as Fail.');
    expect(person.clicks).toMatchObject([{ user: 'U012AB3CD', action: 'approve', statusCode: 200 }]);
    expect(await approvals.get(person.clicks[0]!.approvalId)).toMatchObject({
      status: 'approved',
      request: { kind: 'hook' },
    });

    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'completed' });
    const audit = await control.listAudit('orders', input.incidentId);
    expect(audit.map((a) => `${a.step}:${a.outcome}`)).toEqual(
      expect.arrayContaining([
        'hook:purge-cache:INVOKE_FAILED',
        'hooks-after-traffic:asking',
        'slack-approval:approved',
        'approval-hook:approved',
        'hooks-after-traffic:continued',
      ]),
    );
    expect(audit.find((a) => a.outcome === 'continued')?.detail).toMatchObject({
      code: 'HOOK_ASK_CONTINUED',
      continued: ['purge-cache'],
      answer: { answer: 'continue', by: 'U012AB3CD' },
    });
    // The wait for the answer is announced, so that no other control region takes the run for a dead one.
    const asking = audit.find((a) => a.outcome === 'asking')!;
    expect(whileAsking[0]?.quietUntil ?? 0).toBeGreaterThanOrEqual(
      asking.at + config.approval.timeoutSeconds * 1000,
    );

    const done = h.published.find((e) => e.detailType === 'Failover Completed');
    expect(done?.detail.hooks).toEqual({
      afterTraffic: {
        code: 'HOOK_ASK_CONTINUED',
        reason: expect.stringContaining('and U012AB3CD answered continue'),
        continued: ['purge-cache'],
        continuedBy: { by: 'U012AB3CD', at: expect.any(Number) },
      },
    });
    expect(h.notifications.at(-1)).toContain(
      'hooks failed and continued: purge-cache (afterTraffic, continued by U012AB3CD)',
    );
    expectValidEvents(h);
  });

  it('an afterTraffic ask hook answered "fail": Failover Failed at hooks-after-traffic, with the traffic moved', async () => {
    const { h, t, config, control, input } = await failover({ afterTraffic: [purge({ onFailure: 'ask' })] });
    withHooks(h, config, { purge: failing });
    const { person } = slack(h, t, config, 'reject');
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.path.slice(-6)).toEqual([
      'ApproveHookFailure',
      'AfterTrafficHooks',
      'AfterTrafficHooksDecision',
      'AfterTrafficHookFailed',
      'ReportFailure',
      'FailoverFailed',
    ]);
    expect(person.clicks).toMatchObject([{ user: 'U012AB3CD', action: 'reject', code: 'REJECTED' }]);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'failed' });
    const failed = h.published.find((e) => e.detailType === 'Failover Failed')?.detail;
    expect(failed).toMatchObject({
      step: 'hooks-after-traffic',
      error: 'HookFailedError',
      leaseGranted: true,
      trafficMoved: true,
    });
    expect(failed?.cause).toMatch(
      /its onFailure is ask, and the answer was fail \(U012AB3CD rejected the hook approval: rejected in Slack by U012AB3CD\): report the run failed$/,
    );
    expect(h.published.some((e) => e.detailType === 'Failover Completed')).toBe(false);
    expect(await auditOf(control, input.incidentId)).toEqual(
      expect.arrayContaining([
        'slack-approval:rejected',
        'hooks-after-traffic:abort',
        'report-failure:failed',
      ]),
    );
    expectValidEvents(h);
  });

  it('an afterTraffic ask hook nobody answers: the approval times out, which is "fail"', async () => {
    const { h, t, config, control, input } = await failover(
      { afterTraffic: [purge({ onFailure: 'ask' })] },
      { approvalTimeoutSeconds: 1 },
    );
    withHooks(h, config, { purge: failing });
    const { person } = slack(h, t, config, 'silent');
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(run.path).toContain('AfterTrafficHookFailed');
    expect(person.clicks).toEqual([]);
    const failed = h.published.find((e) => e.detailType === 'Failover Failed')?.detail;
    expect(failed).toMatchObject({
      step: 'hooks-after-traffic',
      error: 'HookFailedError',
      trafficMoved: true,
    });
    expect(failed?.cause).toMatch(/nobody answered within 1 s, which counts as fail: report the run failed$/);
    expect(await control.getIncident(input.incidentId)).toMatchObject({ status: 'failed' });
    const audit = await control.listAudit('orders', input.incidentId);
    expect(
      audit.find((a) => a.step === 'hooks-after-traffic' && a.outcome === 'abort')?.detail,
    ).toMatchObject({
      code: 'HOOK_ASK_TIMED_OUT',
      answer: { answer: 'timed-out', timeoutSeconds: 1 },
    });
    // The approval was asked and is left undecided: a late click finds it expired.
    const asked = person.messages.find((m) => m.method === 'chat.postMessage')!;
    const late = await person.click({ channel: asked.channel, ts: asked.ts! }, 'U012AB3CD', 'approve');
    expect(late.statusCode).toBe(410);
    expect(audit.some((a) => a.step === 'slack-approval')).toBe(false);
  });

  it('a forged "continue" changes nothing: refused, the approval stays pending, and the run fails on the timeout', async () => {
    const { h, t, config, control, input } = await failover(
      { afterTraffic: [purge({ onFailure: 'ask' })] },
      { approvalTimeoutSeconds: 1 },
    );
    withHooks(h, config, { purge: failing });
    const { person, approvals } = slack(h, t, config, 'forged');
    const run = await runStateMachine(FAILOVER, input, failoverTaskHandlers(h.deps), fast);
    expect(run.status).toBe('FAILED');
    expect(person.clicks).toMatchObject([
      { action: 'approve', forged: true, statusCode: 401, code: 'SIGNATURE_INVALID' },
    ]);
    expect(await approvals.get(person.clicks[0]!.approvalId)).toMatchObject({
      status: 'pending',
      votes: [],
      decision: null,
    });
    const audit = await control.listAudit('orders', input.incidentId);
    expect(audit.some((a) => a.step === 'slack-approval' || a.step === 'approval-hook')).toBe(false);
    expect(audit.some((a) => a.outcome === 'continued')).toBe(false);
    expect(h.published.find((e) => e.detailType === 'Failover Failed')?.detail.cause).toMatch(
      /nobody answered within 1 s, which counts as fail/,
    );
    expect(h.published.some((e) => e.detailType === 'Failover Completed')).toBe(false);
  });

  it('a retried hook step (the first answer lost) does not scale twice', async () => {
    const { h, config, input } = await failover({ beforePromote: [scaleStandby()] });
    const actuator = withHooks(h, config, { unitMs: 20 });
    const handlers = failoverTaskHandlers(h.deps);
    const once = handlers.HookFunctionArn!;
    handlers.HookFunctionArn = async (ev) => {
      await once(ev);
      return once(ev);
    };
    const run = await runStateMachine(FAILOVER, input, handlers, fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(actuator.calls.filter((c) => c.startsWith('apply'))).toEqual(['apply us-west-2 scale-standby 6']);
  });
});

/**
 * A failback from us-west-2 (holding the lease) back to us-east-1, healthy for 15 minutes by four watchers, with
 * these hooks and the local hook actuator. The failback's own approval says yes unless a test binds Slack.
 */
async function failback(
  hooks: (c: Raw) => Raw,
  opts: { unitMs?: number; approvalTimeoutSeconds?: number } = {},
) {
  const t = await freshTables('hkb');
  const config = exampleConfig((c) => {
    c.probe = { ...c.probe, connectTimeoutMs: 300, responseTimeoutMs: 700 };
    c.lease = {
      ttlMs: 3000,
      renewIntervalMs: 1000,
      retryTimeoutMs: 300,
      maxSkewMs: 200,
      safetyMarginMs: 200,
    };
    if (opts.approvalTimeoutSeconds) c.approval.timeoutSeconds = opts.approvalTimeoutSeconds;
    c.hooks = hooks(c);
  });
  const h = makeHarness(t.doc, t.names.control, t.names.votes, config);
  harness = h;
  const held = await h.deps.leases.acquire('orders', 'us-west-2', null);
  if (!held.ok) throw new Error('could not seed the lease');
  h.lagSeconds.value = 0;
  const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
  const now = Date.now();
  for (const voter of ['eu-west-1', 'ca-central-1', 'ap-northeast-1', 'sa-east-1']) {
    await votes.put(
      vote(
        {
          voter,
          target: 'us-east-1',
          healthy: true,
          observedAt: now - 500,
          streakSince: now - 15 * 60_000,
        },
        now,
      ),
    );
  }
  h.setApproval(async () => ({ approved: true, by: 'U012AB3CD', at: Date.now(), reason: 'planned' }));
  const actuator = withHooks(h, config, { unitMs: opts.unitMs ?? 5, purge: failing });
  h.log.length = 0;
  const input = JSON.parse(
    readFileSync(new URL('../../events/failback-input.sample.json', import.meta.url), 'utf8'),
  );
  return { h, t, config, actuator, input, control: new DynamoControlStore(t.doc, t.names.control) };
}

describe('hook steps in the failback machine', () => {
  it('scales the original primary up before promoting it, and the standby down after the traffic moved', async () => {
    const { h, actuator, input, control } = await failback(() => ({
      beforePromote: [scaleStandby({ name: 'scale-target' })],
      // us-west-2 is the source of this failback: a live region, but the rule holds for both machines.
      afterTraffic: [
        scaleStandby({ name: 'scale-source', region: 'source', desiredCount: 1, onFailure: 'continue' }),
      ],
    }));
    const run = await runStateMachine(FAILBACK, input, failbackTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(at(h.log, 'hook.apply us-east-1 scale-target')).toBeLessThan(at(h.log, 'RDS.PromoteReadReplica'));
    expect(at(h.log, 'health https://orders-use1.example.com/health')).toBeLessThan(
      at(h.log, 'hook.apply us-west-2 scale-source'),
    );
    expect(actuator.calls.filter((c) => c.startsWith('apply'))).toEqual([
      'apply us-east-1 scale-target 6',
      'apply us-west-2 scale-source 1',
    ]);
    expect(await auditOf(control, run.output.incidentId as string)).toEqual(
      expect.arrayContaining([
        'hook:scale-target:READY',
        'hook:scale-source:READY',
        'hooks-after-traffic:done',
      ]),
    );
  });

  it('an afterTraffic ask hook asks in Slack after the failback\'s own approval; "continue" completes it', async () => {
    const { h, t, config, input, control } = await failback(() => ({
      afterTraffic: [purge({ onFailure: 'ask' })],
    }));
    const { person } = slack(h, t, config, 'approve');
    const run = await runStateMachine(FAILBACK, input, failbackTaskHandlers(h.deps), fast);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.path).toContain('ApproveHookFailure');
    const asked = person.messages.find((m) => m.method === 'chat.postMessage')!;
    expect(asked.text).toContain('A hook failed after orders moved to us-east-1: continue or fail?');
    expect(JSON.stringify(asked.message)).toContain(
      'hook purge-cache (lambda in us-east-1) after the traffic moved',
    );
    const incidentId = run.output.incidentId as string;
    expect(await control.getIncident(incidentId)).toMatchObject({ status: 'completed' });
    expect(await auditOf(control, incidentId)).toEqual(
      expect.arrayContaining([
        'slack-approval:approved',
        'hooks-after-traffic:asking',
        'hooks-after-traffic:continued',
      ]),
    );
    const done = h.published.find((e) => e.detailType === 'Failback Completed');
    expect(done?.detail.hooks).toMatchObject({
      afterTraffic: { code: 'HOOK_ASK_CONTINUED', continuedBy: { by: 'U012AB3CD' } },
    });
    expectValidEvents(h);
  });

  it('an afterTraffic ask hook answered "fail", or not answered: Failback Failed at hooks-after-traffic', async () => {
    for (const [answer, cause] of [
      ['reject', /the answer was fail \(U012AB3CD rejected the hook approval/],
      ['silent', /nobody answered within 1 s, which counts as fail: report the run failed$/],
    ] as const) {
      const { h, t, config, input, control } = await failback(
        () => ({ afterTraffic: [purge({ onFailure: 'ask' })] }),
        { approvalTimeoutSeconds: 1 },
      );
      slack(h, t, config, answer);
      const run = await runStateMachine(FAILBACK, input, failbackTaskHandlers(h.deps), fast);
      expect(run.status, answer).toBe('FAILED');
      expect(run.path.slice(-4), answer).toEqual([
        'AfterTrafficHooksDecision',
        'AfterTrafficHookFailed',
        'ReportFailure',
        'FailbackFailed',
      ]);
      const failed = h.published.find((e) => e.detailType === 'Failback Failed')?.detail;
      expect(failed, answer).toMatchObject({
        step: 'hooks-after-traffic',
        error: 'HookFailedError',
        trafficMoved: true,
      });
      expect(failed?.cause, answer).toMatch(cause);
      const incidentId = h.published.find((e) => e.detailType === 'Failback Failed')?.detail.incidentId;
      expect(await control.getIncident(incidentId as string), answer).toMatchObject({ status: 'failed' });
      expectValidEvents(h);
      harness?.restore();
      harness = undefined;
    }
  });
});
