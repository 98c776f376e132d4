import { readFileSync } from 'node:fs';
import { repoPath } from './constructs/cutover-function.js';

/** What a step function does beyond the control table, votes and the bus; each maps to IAM in infra/iam.ts. */
export type Capability =
  | 'route53-change'
  | 'route53-status'
  | 'rds-promote'
  | 'rds-describe'
  | 'replication-lag'
  | 'fence-lambda'
  | 'slack';

export interface StepSpec {
  /** The ASL placeholder that names the function (functions/steps/core/task-handlers.ts uses the same keys). */
  placeholder: string;
  entry: string;
  role: string;
  capabilities: Capability[];
}

/**
 * The step Lambdas, keyed like functions/steps/core/task-handlers.ts. Capabilities follow what each step
 * calls on its ports (functions/steps/core/steps.ts, failback.ts).
 */
export const STEPS: readonly StepSpec[] = [
  {
    placeholder: 'ClaimIncidentFunctionArn',
    entry: 'functions/steps/claim-incident.ts',
    role: 'claim-incident',
    capabilities: [],
  },
  {
    placeholder: 'RecheckVotesFunctionArn',
    entry: 'functions/steps/recheck-votes.ts',
    role: 'recheck-votes',
    capabilities: [],
  },
  {
    placeholder: 'RequestApprovalFunctionName',
    entry: 'functions/steps/request-approval.ts',
    role: 'request-approval',
    capabilities: ['slack'],
  },
  {
    placeholder: 'ApprovalTimedOutFunctionArn',
    entry: 'functions/steps/approval-timed-out.ts',
    role: 'approval-timed-out',
    capabilities: [],
  },
  {
    placeholder: 'StopTrafficFunctionArn',
    entry: 'functions/steps/stop-traffic.ts',
    role: 'stop-traffic',
    capabilities: ['route53-change'],
  },
  {
    placeholder: 'TrafficStatusFunctionArn',
    entry: 'functions/steps/traffic-status.ts',
    role: 'traffic-status',
    capabilities: ['route53-status'],
  },
  {
    placeholder: 'FenceFunctionArn',
    entry: 'functions/steps/fence.ts',
    role: 'fence',
    capabilities: ['fence-lambda'],
  },
  {
    placeholder: 'RpoGuardFunctionArn',
    entry: 'functions/steps/rpo-guard.ts',
    role: 'rpo-guard',
    capabilities: ['replication-lag'],
  },
  {
    placeholder: 'PromoteFunctionArn',
    entry: 'functions/steps/promote.ts',
    role: 'promote',
    capabilities: ['rds-promote', 'rds-describe'],
  },
  {
    placeholder: 'PromoteStatusFunctionArn',
    entry: 'functions/steps/promote-status.ts',
    role: 'promote-status',
    capabilities: ['rds-describe'],
  },
  {
    placeholder: 'GrantLeaseFunctionArn',
    entry: 'functions/steps/grant-lease.ts',
    role: 'grant-lease',
    capabilities: [],
  },
  {
    placeholder: 'RouteTrafficFunctionArn',
    entry: 'functions/steps/route-traffic.ts',
    role: 'route-traffic',
    capabilities: ['route53-change'],
  },
  { placeholder: 'VerifyFunctionArn', entry: 'functions/steps/verify.ts', role: 'verify', capabilities: [] },
  // Notify, Abort and ReportFailure post to the approval channel when Slack is configured (deps.notifier).
  {
    placeholder: 'NotifyFunctionArn',
    entry: 'functions/steps/notify.ts',
    role: 'notify',
    capabilities: ['slack'],
  },
  {
    placeholder: 'AbortFunctionArn',
    entry: 'functions/steps/abort.ts',
    role: 'abort',
    capabilities: ['slack'],
  },
  {
    placeholder: 'ReportFailureFunctionArn',
    entry: 'functions/steps/fail.ts',
    role: 'report-failure',
    capabilities: ['slack'],
  },
  {
    placeholder: 'StartFailbackFunctionArn',
    entry: 'functions/steps/start-failback.ts',
    role: 'start-failback',
    capabilities: [],
  },
  {
    placeholder: 'FailbackPreconditionsFunctionArn',
    entry: 'functions/steps/failback-preconditions.ts',
    role: 'failback-preconditions',
    capabilities: ['rds-describe', 'replication-lag'],
  },
  {
    placeholder: 'DrainReplicationFunctionArn',
    entry: 'functions/steps/drain-replication.ts',
    role: 'drain-replication',
    capabilities: ['replication-lag'],
  },
];

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
