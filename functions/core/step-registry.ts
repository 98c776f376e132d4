/**
 * The one list of the state machines' Task steps: which Lambda each ASL placeholder names, what it may touch,
 * and where each Task state of each machine sits, what it audits and where it keeps its result. The CDK app
 * (infra/workflows.ts), the local runner (functions/steps/core/task-handlers.ts), the execution timings, the
 * cost model and the failback's progress order all read it; test/unit/step-registry.test.ts holds it equal to
 * statemachines/*.asl.json. Pure data.
 */

export type Machine = 'failover' | 'failback';
export const MACHINES: readonly Machine[] = ['failover', 'failback'];

/** What a step function does beyond the control table, votes and the bus; each maps to IAM in infra/iam.ts. */
export type Capability =
  | 'route53-change'
  | 'route53-status'
  | 'rds-promote'
  | 'rds-describe'
  | 'replication-lag'
  | 'fence-lambda'
  /** The configured hooks' resources only (infra/iam.ts hookStatements). */
  | 'hooks'
  | 'slack';

export interface StepFunction {
  /** The Lambda handler. */
  entry: string;
  /** The function's name in the CDK app (cutover-<application>-<role>). */
  role: string;
  /** What it calls on its ports, granted in IAM. */
  capabilities: readonly Capability[];
}

/** Keyed by the ASL placeholder that names the function (`${ClaimIncidentFunctionArn}`). */
export const STEP_FUNCTIONS = {
  ClaimIncidentFunctionArn: {
    entry: 'functions/steps/claim-incident.ts',
    role: 'claim-incident',
    capabilities: [],
  },
  RecheckVotesFunctionArn: {
    entry: 'functions/steps/recheck-votes.ts',
    role: 'recheck-votes',
    capabilities: [],
  },
  RequestApprovalFunctionName: {
    entry: 'functions/steps/request-approval.ts',
    role: 'request-approval',
    capabilities: ['slack'],
  },
  ApprovalTimedOutFunctionArn: {
    entry: 'functions/steps/approval-timed-out.ts',
    role: 'approval-timed-out',
    capabilities: [],
  },
  StopTrafficFunctionArn: {
    entry: 'functions/steps/stop-traffic.ts',
    role: 'stop-traffic',
    capabilities: ['route53-change'],
  },
  TrafficStatusFunctionArn: {
    entry: 'functions/steps/traffic-status.ts',
    role: 'traffic-status',
    capabilities: ['route53-status'],
  },
  FenceFunctionArn: { entry: 'functions/steps/fence.ts', role: 'fence', capabilities: ['fence-lambda'] },
  RpoGuardFunctionArn: {
    entry: 'functions/steps/rpo-guard.ts',
    role: 'rpo-guard',
    capabilities: ['replication-lag'],
  },
  PromoteFunctionArn: {
    entry: 'functions/steps/promote.ts',
    role: 'promote',
    capabilities: ['rds-promote', 'rds-describe'],
  },
  PromoteStatusFunctionArn: {
    entry: 'functions/steps/promote-status.ts',
    role: 'promote-status',
    capabilities: ['rds-describe'],
  },
  GrantLeaseFunctionArn: { entry: 'functions/steps/grant-lease.ts', role: 'grant-lease', capabilities: [] },
  RouteTrafficFunctionArn: {
    entry: 'functions/steps/route-traffic.ts',
    role: 'route-traffic',
    capabilities: ['route53-change'],
  },
  VerifyFunctionArn: { entry: 'functions/steps/verify.ts', role: 'verify', capabilities: [] },
  // Notify, Abort and ReportFailure post to the approval channel when Slack is configured.
  NotifyFunctionArn: { entry: 'functions/steps/notify.ts', role: 'notify', capabilities: ['slack'] },
  AbortFunctionArn: { entry: 'functions/steps/abort.ts', role: 'abort', capabilities: ['slack'] },
  ReportFailureFunctionArn: {
    entry: 'functions/steps/fail.ts',
    role: 'report-failure',
    capabilities: ['slack'],
  },
  StartFailbackFunctionArn: {
    entry: 'functions/steps/start-failback.ts',
    role: 'start-failback',
    capabilities: [],
  },
  FailbackPreconditionsFunctionArn: {
    entry: 'functions/steps/failback-preconditions.ts',
    role: 'failback-preconditions',
    capabilities: ['rds-describe', 'replication-lag'],
  },
  DrainReplicationFunctionArn: {
    entry: 'functions/steps/drain-replication.ts',
    role: 'drain-replication',
    capabilities: ['replication-lag'],
  },
  HookFunctionArn: { entry: 'functions/steps/hook.ts', role: 'hook', capabilities: ['hooks'] },
} as const satisfies Record<string, StepFunction>;

export type Placeholder = keyof typeof STEP_FUNCTIONS;

/**
 * When a Task state runs: on the way of every run that completes (`run`), as a repeated status read of the
 * step before it (`poll`), only when a person is asked (`ask`), or to end a run that aborts or fails (`end`).
 */
export type Path = 'run' | 'poll' | 'ask' | 'end';

export interface TaskState {
  /** The ASL state name. */
  state: string;
  placeholder: Placeholder;
  /** The step name it records in the audit trail, and as the incident's progressStep once claimed. */
  audit: string;
  /** Where its result sits in the execution state: ResultPath without `$.`. */
  result: string;
  /** The state's output replaces the execution state (no ResultPath); the step nests its own result. */
  replacesState?: true;
  path: Path;
}

const task = (
  state: string,
  placeholder: Placeholder,
  audit: string,
  result: string,
  path: Path = 'run',
): TaskState => ({ state, placeholder, audit, result, path });

/** From the promotion on, both machines run the same steps, and end alike. */
const PROMOTE_TO_END = [
  // The hook loops: one Task state each, read again after a Wait until the phase ends (functions/core/hooks.ts).
  task('BeforePromoteHooks', 'HookFunctionArn', 'hooks-before-promote', 'hooksBeforePromote'),
  task('Promote', 'PromoteFunctionArn', 'promote', 'promote'),
  task('PromoteStatus', 'PromoteStatusFunctionArn', 'promote-status', 'promote.poll', 'poll'),
  task('GrantLease', 'GrantLeaseFunctionArn', 'grant-lease', 'lease'),
  task('RouteTraffic', 'RouteTrafficFunctionArn', 'route-traffic', 'route'),
  task('RouteTrafficStatus', 'TrafficStatusFunctionArn', 'route-traffic-status', 'route.poll', 'poll'),
  task('Verify', 'VerifyFunctionArn', 'verify', 'verify'),
  task('AfterTrafficHooks', 'HookFunctionArn', 'hooks-after-traffic', 'hooksAfterTraffic'),
  // A failed afterTraffic hook with onFailure ask: a person answers continue or fail; the answer goes back to
  // AfterTrafficHooks, which decides.
  task('ApproveHookFailure', 'RequestApprovalFunctionName', 'approval-hook', 'hookApproval', 'ask'),
  task('Notify', 'NotifyFunctionArn', 'notify', 'notify'),
  task('Abort', 'AbortFunctionArn', 'abort', 'abort', 'end'),
  task('ReportFailure', 'ReportFailureFunctionArn', 'report-failure', 'report', 'end'),
];

/** The Task states of each machine, in the order a run reaches them. */
export const MACHINE_STEPS: Record<Machine, readonly TaskState[]> = {
  failover: [
    task('Claim', 'ClaimIncidentFunctionArn', 'claim', 'claim'),
    task('ApproveFailover', 'RequestApprovalFunctionName', 'approval-failover', 'approval', 'ask'),
    task('ApprovalTimedOut', 'ApprovalTimedOutFunctionArn', 'approval-timeout', 'approvalTimeout', 'ask'),
    task('RecheckVotes', 'RecheckVotesFunctionArn', 'recheck', 'recheck'),
    task('StopTraffic', 'StopTrafficFunctionArn', 'stop-traffic', 'stop'),
    task('StopTrafficStatus', 'TrafficStatusFunctionArn', 'stop-traffic-status', 'stop.poll', 'poll'),
    task('Fence', 'FenceFunctionArn', 'fence', 'fence'),
    task('RpoGuard', 'RpoGuardFunctionArn', 'rpo-guard', 'rpo'),
    task('ApproveDataLoss', 'RequestApprovalFunctionName', 'approval-data-loss', 'dataLossApproval', 'ask'),
    ...PROMOTE_TO_END,
  ],
  failback: [
    { ...task('StartFailback', 'StartFailbackFunctionArn', 'start', 'start'), replacesState: true },
    task('Preconditions', 'FailbackPreconditionsFunctionArn', 'preconditions', 'preconditions'),
    // Every failback asks a person; as in a failover, that wait is no step of the run's timings.
    task('ApproveFailback', 'RequestApprovalFunctionName', 'approval-failback', 'approval', 'ask'),
    task('Fence', 'FenceFunctionArn', 'fence', 'fence'),
    task('DrainReplication', 'DrainReplicationFunctionArn', 'drain-replication', 'replication'),
    ...PROMOTE_TO_END,
  ],
};

/** Every step function with its placeholder, as the CDK app deploys them. */
export function stepFunctions(): ({ placeholder: Placeholder } & StepFunction)[] {
  return (Object.keys(STEP_FUNCTIONS) as Placeholder[]).map((placeholder) => ({
    placeholder,
    ...STEP_FUNCTIONS[placeholder],
  }));
}

/** The placeholders a machine calls, each once. */
export function placeholdersOf(machine: Machine): Placeholder[] {
  return [...new Set(MACHINE_STEPS[machine].map((t) => t.placeholder))];
}

/** The audit step names of a machine in the order a run reaches them, without the abort and failure endings. */
export function stepOrder(machine: Machine): string[] {
  return MACHINE_STEPS[machine].filter((t) => t.path !== 'end').map((t) => t.audit);
}

/** The failback's steps in run order: progressStep is the last one started. */
export const failbackOrder = (): string[] => stepOrder('failback');

/** The Task states every completed run of a machine passes, once each when nothing is polled. */
export function runStates(machine: Machine): string[] {
  return MACHINE_STEPS[machine].filter((t) => t.path === 'run').map((t) => t.state);
}

/** Where those steps keep their results in the execution state, in run order. */
export function runResultKeys(machine: Machine): string[] {
  return MACHINE_STEPS[machine].filter((t) => t.path === 'run').map((t) => t.result);
}
