import { type Machine, type Placeholder, placeholdersOf } from '#core/step-registry.js';
import { approvalTimedOut, localApproval } from './approval.js';
import { claimIncident } from './claim.js';
import { promote, promoteStatus, rpoGuard } from './database.js';
import type { StepDeps } from './deps.js';
import { drainReplication, failbackPreconditions, startFailback } from './failback.js';
import { fence } from './fence.js';
import { abort, complete, reportFailure, verify } from './finish.js';
import { runHooks } from './hooks.js';
import { grantLease } from './lease.js';
import { recheckVotes } from './recheck.js';
import { routeTraffic, stopTraffic, trafficStatus } from './traffic.js';

/** A local handler as aws-local-stepfunctions calls it: the state's effective input in, its result out. */
// biome-ignore lint/suspicious/noExplicitAny: the library's JSONValue in and out
export type TaskHandler = (input: any) => Promise<any>;

/**
 * The step of each placeholder in the step registry (functions/core/step-registry.ts), which also names
 * functions/steps/<step>.ts, the Lambda of each.
 */
// biome-ignore lint/suspicious/noExplicitAny: each step takes its own event shape
export const STEP_HANDLERS: Record<Placeholder, (input: any, deps: StepDeps) => Promise<unknown>> = {
  ClaimIncidentFunctionArn: claimIncident,
  RecheckVotesFunctionArn: recheckVotes,
  RequestApprovalFunctionName: localApproval,
  ApprovalTimedOutFunctionArn: approvalTimedOut,
  StopTrafficFunctionArn: stopTraffic,
  TrafficStatusFunctionArn: trafficStatus,
  FenceFunctionArn: fence,
  RpoGuardFunctionArn: rpoGuard,
  PromoteFunctionArn: promote,
  PromoteStatusFunctionArn: promoteStatus,
  GrantLeaseFunctionArn: grantLease,
  RouteTrafficFunctionArn: routeTraffic,
  VerifyFunctionArn: verify,
  NotifyFunctionArn: complete,
  AbortFunctionArn: abort,
  ReportFailureFunctionArn: reportFailure,
  StartFailbackFunctionArn: startFailback,
  FailbackPreconditionsFunctionArn: failbackPreconditions,
  DrainReplicationFunctionArn: drainReplication,
  HookFunctionArn: runHooks,
};

/** The local handlers of a machine, keyed by the ASL placeholder that names each function. */
export function taskHandlers(machine: Machine, deps: StepDeps): Record<string, TaskHandler> {
  return Object.fromEntries(
    placeholdersOf(machine).map((p) => [p, (input: unknown) => STEP_HANDLERS[p](input, deps)]),
  );
}

export const failoverTaskHandlers = (deps: StepDeps) => taskHandlers('failover', deps);
export const failbackTaskHandlers = (deps: StepDeps) => taskHandlers('failback', deps);
