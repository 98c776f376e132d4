import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { LocalHookActuator } from '#adapters/local/hook-actuator.js';
import { type CutoverConfig, parseConfig } from '#core/config.js';
import { runHooks } from '#steps/core/hooks.js';
import { failbackTaskHandlers, failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { exampleConfig, exampleConfigJson, vote } from '../support/fixtures.js';
import { at, type Harness, makeHarness, seedStalledPrimary } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const FAILBACK = new URL('../../statemachines/failback.asl.json', import.meta.url).pathname;
const fast = { waitMs: 0, retryIntervalMs: 0 };

let harness: Harness | undefined;
afterEach(() => {
  harness?.restore();
  harness = undefined;
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
async function failover(hooks: Raw, opts: { unchecked?: boolean } = {}) {
  const t = await freshTables('hk');
  const phases = ['beforePromote', 'afterTraffic'] as const;
  const config = exampleConfig((c) => {
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
  return { h, config, control, input: request };
}

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
        'hooks-after-traffic:none',
      ]),
    );
    // The phase is one timed step of the run, and Failover Completed carries it.
    const done = h.published.find((e) => e.detailType === 'Failover Completed');
    const steps = done?.detail.steps as { name: string; durationMs: number; outcome: string }[];
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

  it('onFailure ask: no approval path fits a hook, so it fails closed (aborts) and says why', async () => {
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
      'its onFailure is ask, and no approval path fits a hook yet: failing closed',
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

describe('hook steps in the failback machine', () => {
  it('scales the original primary up before promoting it, and the standby down after the traffic moved', async () => {
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
      c.hooks = {
        beforePromote: [scaleStandby({ name: 'scale-target' })],
        // us-west-2 is the source of this failback: a live region, but the rule holds for both machines.
        afterTraffic: [
          scaleStandby({ name: 'scale-source', region: 'source', desiredCount: 1, onFailure: 'continue' }),
        ],
      };
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
    const actuator = withHooks(h, config, { unitMs: 5 });
    h.log.length = 0;
    const input = JSON.parse(
      readFileSync(new URL('../../events/failback-input.sample.json', import.meta.url), 'utf8'),
    );
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
    const control = new DynamoControlStore(t.doc, t.names.control);
    expect(await auditOf(control, run.output.incidentId as string)).toEqual(
      expect.arrayContaining([
        'hook:scale-target:READY',
        'hook:scale-source:READY',
        'hooks-after-traffic:done',
      ]),
    );
  });
});
