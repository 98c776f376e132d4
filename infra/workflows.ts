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
 * The shortest TimeoutSeconds of the Task states that call each placeholder: a Lambda that outlives its
 * state would keep working (and writing) after the execution moved on, so the function gets no more time.
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
