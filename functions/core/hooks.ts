import type { ConfigIssue, CutoverConfig } from './config-schema.js';

/**
 * Hook steps (issue 15): what each hook does next, given what it read, and what a phase of hooks does with the
 * machine when they end. Pure: functions/steps/core/hooks.ts reads and acts; the ports are below.
 */

export type HookPhase = 'beforePromote' | 'afterTraffic';
export const HOOK_PHASES: readonly HookPhase[] = ['beforePromote', 'afterTraffic'];
export type Hook = NonNullable<CutoverConfig['hooks']>['beforePromote'][number];
export type HookKind = Hook['kind'];
export type HookPolicy = Hook['onFailure'];

/** Seconds between two readings of a phase's hooks (the Wait state of each hook loop in the ASL). */
export const HOOK_POLL_SECONDS = 10;
/**
 * A `lambda` hook is one synchronous Invoke inside one hook step, whose Lambda has 60 s (its Task state's 75 s
 * minus the margin in infra/workflows.ts); 40 s leaves the rest for the phase's other hooks and the audit writes.
 */
export const LAMBDA_HOOK_MAX_MS = 40_000;
/** A capacity hook is read every HOOK_POLL_SECONDS; a shorter timeout would allow no second reading. */
export const CAPACITY_HOOK_MIN_MS = HOOK_POLL_SECONDS * 1_000;
/** One hour: past it a scale-up is no longer part of a failover but a rebuild. */
export const HOOK_MAX_MS = 3_600_000;

/** The region a hook acts in, for a run moving from `from` to `to`. */
export function hookRegion(hook: Pick<Hook, 'region'>, run: { from: string; to: string }): string {
  if (hook.region === 'target') return run.to;
  if (hook.region === 'source') return run.from;
  return hook.region;
}

/** How many the hook asks for: tasks, instances, or provisioned executions; null for a `lambda` hook. */
export function hookTarget(hook: Hook): number | null {
  switch (hook.kind) {
    case 'ecs':
      return hook.desiredCount;
    case 'autoscaling':
      return hook.desiredCapacity;
    case 'lambda-provisioned-concurrency':
      return hook.count;
    case 'lambda':
      return null;
  }
}

/** What a capacity hook reads in its region: what is asked for and what is ready. */
export interface HookReading {
  /** ECS desiredCount, the group's DesiredCapacity, the requested provisioned concurrency (0 when none). */
  desired: number;
  /** ECS runningCount, InService instances, the allocated provisioned concurrency. */
  ready: number;
  /** Provisioned concurrency's own status; FAILED is final. */
  status?: 'ready' | 'pending' | 'failed';
  detail: string;
}

/** The answer of a `lambda` hook's function. */
export interface HookInvocation {
  ok: boolean;
  detail: string;
}

/** Acts on a hook's resource in a region. One per deployment: AWS (functions/adapters/aws), local (the drill). */
export interface HookActuator {
  read(hook: Hook, region: string): Promise<HookReading>;
  /** Sets the hook's absolute target (never an increment), so a repeated call changes nothing. */
  apply(hook: Hook, region: string): Promise<{ detail: string }>;
  /** Invokes a `lambda` hook's function with its payload, bounded by the hook's timeout. */
  invoke(hook: Hook, region: string, event: Record<string, unknown>): Promise<HookInvocation>;
}

/** The refusal of a hook's API that retrying cannot change (no such service, access denied). */
export class HookError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HookError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Starting a hook

export type StartPlan =
  | { action: 'apply'; code: 'SCALE'; direction: 'up' | 'down'; reason: string }
  | {
      action: 'skip';
      code: 'ALREADY_AT_TARGET' | 'NEVER_LOWER_BEFORE_PROMOTE';
      direction: 'up' | 'down';
      reason: string;
    }
  | { action: 'invoke'; code: 'INVOKE'; direction: 'none'; reason: string };

/**
 * What to do first: set the target, or nothing. A hook sets an absolute value, so a retried step that finds it
 * set changes nothing; and a beforePromote hook never lowers capacity that something else raised (an autoscaler
 * that already scaled the standby up for the load on its way), since the traffic is about to arrive.
 */
export function planStart(hook: Hook, phase: HookPhase, reading: HookReading): StartPlan {
  const target = hookTarget(hook);
  if (target === null) {
    return { action: 'invoke', code: 'INVOKE', direction: 'none', reason: `invoke ${hookName(hook)}` };
  }
  const what = `${hookName(hook)} asks for ${target}, ${reading.desired} desired now`;
  if (reading.desired === target) {
    const direction = phase === 'afterTraffic' && reading.ready > target ? 'down' : 'up';
    return { action: 'skip', code: 'ALREADY_AT_TARGET', direction, reason: `${what}: already set` };
  }
  if (phase === 'beforePromote' && reading.desired > target) {
    return {
      action: 'skip',
      code: 'NEVER_LOWER_BEFORE_PROMOTE',
      direction: 'up',
      reason: `${what}: a beforePromote hook never lowers capacity; waiting for ${target} ready`,
    };
  }
  const direction = target > reading.desired ? 'up' : 'down';
  return { action: 'apply', code: 'SCALE', direction, reason: `${what}: scale ${direction} to ${target}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Judging a hook's reading

/** One hook's progress, carried in the execution state from one reading to the next. */
export interface HookProgress {
  name: string;
  kind: HookKind;
  region: string;
  onFailure: HookPolicy;
  startedAt: number;
  direction: 'up' | 'down' | 'none';
  /** What the start did: SCALE, ALREADY_AT_TARGET, NEVER_LOWER_BEFORE_PROMOTE, INVOKE, or START_FAILED. */
  start: string;
  status: 'running' | 'done' | 'failed';
  code: HookCode;
  reason: string;
  reads: number;
  endedAt?: number;
}

export type HookCode =
  | 'READY'
  | 'NOT_READY'
  | 'UNREACHABLE'
  | 'TIMED_OUT'
  | 'FAILED'
  | 'INVOKED'
  | 'INVOKE_FAILED';

export interface HookJudgement {
  status: HookProgress['status'];
  code: HookCode;
  reason: string;
}

/**
 * A capacity hook's reading against its target: ready in the direction it moves (up: at least the target ready;
 * down: at most), still waiting, failed for good (provisioned concurrency FAILED), or out of time. `reading` is an
 * Error when the region did not answer: that is waiting, until the hook's timeout.
 */
export function judgeReading(
  hook: Hook,
  progress: Pick<HookProgress, 'startedAt' | 'direction'>,
  reading: HookReading | Error,
  now: number,
): HookJudgement {
  const target = hookTarget(hook) ?? 0;
  const name = hookName(hook);
  const elapsed = now - progress.startedAt;
  if (!(reading instanceof Error)) {
    if (reading.status === 'failed') {
      return { status: 'failed', code: 'FAILED', reason: `${name} failed: ${reading.detail}` };
    }
    const ready = progress.direction === 'down' ? reading.ready <= target : reading.ready >= target;
    if (ready && reading.status !== 'pending') {
      return {
        status: 'done',
        code: 'READY',
        reason: `${name}: ${reading.ready} ready of ${target} after ${seconds(elapsed)}`,
      };
    }
  }
  const seen = reading instanceof Error ? `no answer (${reading.message})` : `${reading.ready} ready`;
  if (elapsed >= hook.timeoutMs) {
    return {
      status: 'failed',
      code: 'TIMED_OUT',
      reason: `${name}: ${seen} of ${target} after ${seconds(elapsed)}, past its timeoutMs (${seconds(hook.timeoutMs)})`,
    };
  }
  return {
    status: 'running',
    code: reading instanceof Error ? 'UNREACHABLE' : 'NOT_READY',
    reason: `${name}: ${seen} of ${target} after ${seconds(elapsed)}; waiting up to ${seconds(hook.timeoutMs)}`,
  };
}

/** A `lambda` hook's answer (or the error of the call) as its judgement: it is done in one call or failed. */
export function judgeInvocation(hook: Hook, answer: HookInvocation | Error): HookJudgement {
  const name = hookName(hook);
  if (answer instanceof Error) {
    return { status: 'failed', code: 'INVOKE_FAILED', reason: `${name} failed: ${answer.message}` };
  }
  return answer.ok
    ? { status: 'done', code: 'INVOKED', reason: `${name} answered: ${answer.detail}` }
    : { status: 'failed', code: 'INVOKE_FAILED', reason: `${name} failed: ${answer.detail}` };
}

// ---------------------------------------------------------------------------------------------------------------
// The phase's outcome

export type PhaseCode =
  | 'NO_HOOKS'
  | 'HOOKS_RUNNING'
  | 'HOOKS_DONE'
  | 'HOOKS_DONE_WITH_FAILURES'
  | 'HOOK_FAILED_ABORT'
  | 'HOOK_FAILED_ASK'
  | 'HOOK_ASK_CONTINUED'
  | 'HOOK_ASK_FAILED'
  | 'HOOK_ASK_TIMED_OUT';

export interface PhaseOutcome {
  /**
   * wait: read again after HOOK_POLL_SECONDS; next: go on; ask: a person decides (after the traffic only);
   * abort: before the promotion the Abort path, after it the failure path.
   */
  action: 'wait' | 'next' | 'ask' | 'abort';
  code: PhaseCode;
  reason: string;
  /** Hooks that failed under `continue`, or under `ask` when a person answered continue: recorded, and the run went on. */
  continued: string[];
}

/**
 * What a person answered to an afterTraffic `ask` (the approval task's result, or its caught error): continue
 * (approved), fail (rejected), or nothing within the approval timeout, which counts as fail.
 */
export type HookAnswer =
  | { answer: 'continue'; by: string; at: number; reason: string }
  | { answer: 'fail'; by: string | null; reason: string }
  | { answer: 'timed-out'; timeoutSeconds: number };

/**
 * What the machine does after this reading of a phase's hooks. A failed `abort` hook ends the phase at once (the
 * others' readings no longer matter). A failed `ask` hook after the traffic waits for the others to end (an
 * `abort` among them still fails the run without asking), then asks a person once for every failed `ask` hook:
 * `answer` is what the person said, and turns the ask into continue or fail; a timeout is fail. Before the
 * promotion there is no one to ask: the run is fenced, so the configuration accepts only `continue` there
 * (hookIssues), and an `abort` or `ask` hook in a configuration built around the rules stops the run (fails
 * closed). `continue` failures are recorded once every hook has ended.
 */
export function phaseOutcome(
  phase: HookPhase,
  hooks: readonly HookProgress[],
  answer?: HookAnswer,
): PhaseOutcome {
  const where = phase === 'beforePromote' ? 'before the promotion' : 'after the traffic moved';
  if (hooks.length === 0) {
    return { action: 'next', code: 'NO_HOOKS', reason: `no ${phase} hooks`, continued: [] };
  }
  const failed = hooks.filter((h) => h.status === 'failed');
  const aborting = failed.find((h) => h.onFailure === 'abort');
  const asking = failed.filter((h) => h.onFailure === 'ask');
  const stop = phase === 'beforePromote' ? 'abort the failover' : 'report the run failed';
  if (aborting) {
    return {
      action: 'abort',
      code: 'HOOK_FAILED_ABORT',
      reason: `hook ${aborting.name} ${where} failed (${aborting.reason}); its onFailure is abort: ${stop}`,
      continued: [],
    };
  }
  if (asking.length > 0 && phase === 'beforePromote') {
    const h = asking[0]!;
    return {
      action: 'abort',
      code: 'HOOK_FAILED_ASK',
      reason: `hook ${h.name} ${where} failed (${h.reason}); its onFailure is ask, and before the promotion the run is fenced, so nobody is asked: failing closed (${stop})`,
      continued: [],
    };
  }
  const running = hooks.filter((h) => h.status === 'running');
  if (running.length > 0) {
    const pending = asking.length > 0 ? `; a person is asked about ${names(asking)} once they end` : '';
    return {
      action: 'wait',
      code: 'HOOKS_RUNNING',
      reason: `${running.length} of ${hooks.length} ${phase} hooks not ready: ${names(running)}${pending}`,
      continued: [],
    };
  }
  const continued = failed.map((h) => h.name);
  if (asking.length > 0) {
    const what = `${asking.map((h) => `hook ${h.name} (${h.kind} in ${h.region})`).join(', ')} ${where} failed (${asking.map((h) => h.reason).join('; ')}); ${asking.length === 1 ? 'its' : 'their'} onFailure is ask`;
    if (!answer) {
      return {
        action: 'ask',
        code: 'HOOK_FAILED_ASK',
        reason: `${what}: asking a person to continue or fail; the traffic has already moved and stays`,
        continued: [],
      };
    }
    if (answer.answer === 'continue') {
      return {
        action: 'next',
        code: 'HOOK_ASK_CONTINUED',
        reason: `${what}, and ${answer.by} answered continue: going on with ${continued.join(', ')} recorded as failed`,
        continued,
      };
    }
    if (answer.answer === 'fail') {
      return {
        action: 'abort',
        code: 'HOOK_ASK_FAILED',
        reason: `${what}, and ${answer.by ? `${answer.by} answered fail` : 'the answer was fail'} (${answer.reason}): ${stop}`,
        continued: [],
      };
    }
    return {
      action: 'abort',
      code: 'HOOK_ASK_TIMED_OUT',
      reason: `${what}, and nobody answered within ${answer.timeoutSeconds} s, which counts as fail: ${stop}`,
      continued: [],
    };
  }
  if (continued.length > 0) {
    return {
      action: 'next',
      code: 'HOOKS_DONE_WITH_FAILURES',
      reason: `${phase} hooks ended; ${continued.join(', ')} failed and ${continued.length === 1 ? 'its' : 'their'} onFailure is continue: going on`,
      continued,
    };
  }
  return {
    action: 'next',
    code: 'HOOKS_DONE',
    reason: `all ${hooks.length} ${phase} hooks ready`,
    continued,
  };
}

/**
 * The evidence of the Slack question for the failed `ask` hooks after the traffic moved: each hook with its kind,
 * region, code and reason, and where the traffic is. Slack shows each entry as a line.
 */
export function askEvidence(hooks: readonly HookProgress[], run: { to: string }): Record<string, string> {
  const evidence: Record<string, string> = {};
  for (const h of hooks.filter((x) => x.status === 'failed' && x.onFailure === 'ask')) {
    evidence[`hook ${h.name}`] = `${h.kind} in ${h.region}, ${h.code}: ${h.reason}`;
  }
  evidence.traffic = `already moved: ${run.to} holds the lease and serves; neither answer moves it back`;
  evidence['if nobody answers'] = 'fail';
  return evidence;
}

const names = (hs: readonly Pick<HookProgress, 'name'>[]) => hs.map((h) => h.name).join(', ');

// ---------------------------------------------------------------------------------------------------------------
// Configuration rules

/**
 * The hooks section against the rest of the configuration (called from crossFieldIssues). Refused: two hooks of
 * one name; a beforePromote hook that could stop a fenced failover (any onFailure but continue) or that can run in
 * the region being left; an afterTraffic hook there that could fail the run; a timeout the step or the RTO budget
 * cannot hold; a function ARN in a region the hook does not act in.
 */
export function hookIssues(c: Pick<CutoverConfig, 'hooks' | 'primary' | 'standby'>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!c.hooks) return issues;
  const seen = new Map<string, string>();
  for (const phase of HOOK_PHASES) {
    c.hooks[phase].forEach((hook, i) => {
      const at = `hooks.${phase}[${i}]`;
      const add = (field: string, message: string) => issues.push({ field: `${at}.${field}`, message });
      const first = seen.get(hook.name);
      if (first) add('name', `"${hook.name}" is already the name of ${first}: each hook needs its own name`);
      else seen.set(hook.name, at);

      // The source of a run is the region being left, and the one that may be down. A fixed application region is
      // the source of one direction or the other: after a first failover the standby's region is the source of the
      // next failover (and of every failback), so both application regions count, not only today's primary.
      const appRegion =
        hook.region === c.primary.region
          ? `the primary's region`
          : hook.region === c.standby.region
            ? `the standby's region`
            : undefined;
      const inSource = hook.region === 'source' || appRegion !== undefined;
      if (phase === 'beforePromote') {
        if (inSource) {
          add(
            'region',
            `is "${hook.region}"${appRegion ? ` (${appRegion})` : ''}: a beforePromote hook readies the region the run moves to, and ${appRegion ? 'a fixed application region is the region being left by the failover in one direction or the other' : '"source" is the region being left'}, which may not answer in a region outage; use "target"`,
          );
        }
        // beforePromote runs after StopTraffic, Fence and the old lease's wait: the old primary no longer writes, and
        // the only way forward is to promote. Stopping there (the Abort path) would leave no region able to write.
        if (hook.onFailure !== 'continue') {
          add(
            'onFailure',
            `is "${hook.onFailure}": a beforePromote hook runs after the fence (traffic stopped, the old primary's lease revoked), so a failed hook that stops the failover leaves no region that can write; use "continue": the failover then promotes an under-scaled standby, which is degraded, not down`,
          );
        }
      } else if (inSource && hook.onFailure !== 'continue') {
        add(
          'onFailure',
          `is "${hook.onFailure}" for a hook that can run in the source region (${hook.region}${appRegion ? `, ${appRegion}` : ''}): in a region outage that region does not answer, and every failover that moved the traffic would end reported failed; use "continue"`,
        );
      }
      if (hook.timeoutMs > HOOK_MAX_MS) {
        add('timeoutMs', `is ${seconds(hook.timeoutMs)}: at most ${seconds(HOOK_MAX_MS)}`);
      }
      if (hook.kind === 'lambda') {
        if (hook.timeoutMs > LAMBDA_HOOK_MAX_MS) {
          add(
            'timeoutMs',
            `is ${seconds(hook.timeoutMs)}: a lambda hook is one Invoke inside one hook step, at most ${seconds(LAMBDA_HOOK_MAX_MS)}; for longer work, have the function start it and use a capacity hook or a second hook to wait`,
          );
        }
        const arnRegion = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):\d{12}:function:/.exec(hook.function)?.[1];
        if (hook.function.startsWith('arn:') && !arnRegion) {
          add('function', 'must be a function name or a Lambda function ARN');
        } else if (arnRegion && (hook.region === 'target' || hook.region === 'source')) {
          add(
            'function',
            `is an ARN in ${arnRegion}, but region is "${hook.region}", which changes with the direction of the run: give the function's name, or set region to ${arnRegion}`,
          );
        } else if (arnRegion && arnRegion !== hook.region) {
          add('function', `is an ARN in ${arnRegion}, but the hook's region is ${hook.region}`);
        }
      } else if (hook.timeoutMs < CAPACITY_HOOK_MIN_MS) {
        add(
          'timeoutMs',
          `is ${seconds(hook.timeoutMs)}: a ${hook.kind} hook is read every ${HOOK_POLL_SECONDS} s, so it needs at least ${seconds(CAPACITY_HOOK_MIN_MS)}`,
        );
      }
      if (hook.kind === 'autoscaling' && hook.minSize !== undefined && hook.minSize > hook.desiredCapacity) {
        add('minSize', `is ${hook.minSize}, above desiredCapacity (${hook.desiredCapacity})`);
      }
      if (phase === 'beforePromote' && hook.timeoutMs > c.hooks!.beforePromoteBudgetMs) {
        add(
          'timeoutMs',
          `is ${seconds(hook.timeoutMs)}, over hooks.beforePromoteBudgetMs (${seconds(c.hooks!.beforePromoteBudgetMs)}): \`cutover rto\` counts the longest beforePromote timeout in every failover; shorten it or raise the budget`,
        );
      }
    });
  }
  return issues;
}

/** The longest timeout among a phase's hooks (they run together), 0 without any. */
export function longestHookMs(c: Pick<CutoverConfig, 'hooks'>, phase: HookPhase): number {
  return Math.max(0, ...(c.hooks?.[phase] ?? []).map((h) => h.timeoutMs));
}

export const hookName = (hook: Pick<Hook, 'name' | 'kind'>): string => `${hook.kind} hook ${hook.name}`;
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
