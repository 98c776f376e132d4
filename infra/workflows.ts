import { readFileSync } from 'node:fs';
import { stepFunctions } from '#core/step-registry.js';
import { repoPath } from './constructs/cutover-function.js';

export type { Capability } from '#core/step-registry.js';

export type StepSpec = ReturnType<typeof stepFunctions>[number];

/** The step Lambdas, from the step registry (functions/core/step-registry.ts). */
export const STEPS: readonly StepSpec[] = stepFunctions();

export const WORKFLOWS = {
  failover: 'statemachines/failover.asl.json',
  failback: 'statemachines/failback.asl.json',
} as const;
export type WorkflowKind = keyof typeof WORKFLOWS;

export const readAsl = (kind: WorkflowKind): string => readFileSync(repoPath(WORKFLOWS[kind]), 'utf8');

/** Every `${Name}` placeholder in an ASL document. */
export function placeholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!))];
}

interface AslState {
  Type?: string;
  Resource?: string;
  Parameters?: { FunctionName?: string };
  TimeoutSeconds?: number;
  States?: Record<string, AslState>;
  Branches?: AslState[];
  Iterator?: AslState;
  ItemProcessor?: AslState;
}

/**
 * The shortest TimeoutSeconds of the Task states that call each placeholder. A Lambda must end before the
 * shortest of them (see stepFunctionTimeouts): one that outlives its state keeps working, and writing, after
 * the execution moved on or a States.Timeout retry started a second invocation beside it.
 */
export function taskTimeouts(asl: string): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (node: AslState): void => {
    for (const state of Object.values(node.States ?? {})) {
      if (state.Type === 'Task') {
        const ref = state.Parameters?.FunctionName ?? state.Resource ?? '';
        const name = /\$\{([A-Za-z0-9_]+)\}/.exec(ref)?.[1];
        // waitForTaskToken tasks time the wait, not the call; they keep the function's own timeout.
        const waits = state.Resource?.endsWith('.waitForTaskToken');
        if (name && state.TimeoutSeconds && !waits) {
          out.set(name, Math.min(out.get(name) ?? Number.POSITIVE_INFINITY, state.TimeoutSeconds));
        }
      }
      for (const b of state.Branches ?? []) visit(b);
      if (state.Iterator) visit(state.Iterator);
      if (state.ItemProcessor) visit(state.ItemProcessor);
    }
  };
  visit(JSON.parse(asl) as AslState);
  return out;
}

/**
 * Lambda's Init phase (cold start) may run for up to 10 s before the function's own timeout starts; past that,
 * Lambda retries the Init inside the timeout (Lambda developer guide, "Understanding the Lambda execution
 * environment lifecycle", Init phase).
 */
export const LAMBDA_INIT_LIMIT_SECONDS = 10;
/**
 * Step Functions starts a Task state's clock when it schedules the task (the TaskScheduled event carries the
 * state's timeoutInSeconds), before the Invoke reaches Lambda; this covers scheduling and the invoke's latency.
 */
export const INVOKE_LATENCY_SECONDS = 5;
/** How much shorter a step function's timeout is than the shortest TimeoutSeconds of the states calling it. */
export const STATE_TIMEOUT_MARGIN_SECONDS = LAMBDA_INIT_LIMIT_SECONDS + INVOKE_LATENCY_SECONDS;
/** Less than this leaves a step too little for its reads and conditional writes: lengthen the state instead. */
export const MIN_STEP_TIMEOUT_SECONDS = 10;
/** Lambda's longest timeout. */
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

export class StateTimeoutTooShortError extends Error {
  constructor(
    readonly placeholder: string,
    readonly stateTimeoutSeconds: number,
  ) {
    super(
      `a Task state calling \${${placeholder}} has TimeoutSeconds ${stateTimeoutSeconds}: it needs at least ${MIN_STEP_TIMEOUT_SECONDS + STATE_TIMEOUT_MARGIN_SECONDS} (the function's ${MIN_STEP_TIMEOUT_SECONDS} s plus ${STATE_TIMEOUT_MARGIN_SECONDS} s for scheduling, invoke and a cold start)`,
    );
    this.name = 'StateTimeoutTooShortError';
  }
}

/**
 * Each step function's timeout in seconds, from the Task states of all the given machines that call it: the
 * shortest TimeoutSeconds minus STATE_TIMEOUT_MARGIN_SECONDS. So an invocation has ended, cold start included,
 * before its state can time out, and a States.Timeout retry never overlaps it. Placeholders called only from
 * `.waitForTaskToken` states (whose timeout times the wait, not the call) are absent.
 */
export function stepFunctionTimeouts(asls: readonly string[]): Map<string, number> {
  const shortest = new Map<string, number>();
  for (const asl of asls) {
    for (const [name, seconds] of taskTimeouts(asl)) {
      shortest.set(name, Math.min(shortest.get(name) ?? Number.POSITIVE_INFINITY, seconds));
    }
  }
  const out = new Map<string, number>();
  for (const [name, state] of shortest) {
    const seconds = state - STATE_TIMEOUT_MARGIN_SECONDS;
    if (seconds < MIN_STEP_TIMEOUT_SECONDS) throw new StateTimeoutTooShortError(name, state);
    out.set(name, Math.min(seconds, LAMBDA_MAX_TIMEOUT_SECONDS));
  }
  return out;
}
