import { localApproval } from './approval.js';
import type { StepDeps } from './deps.js';
import { drainReplication, failbackPreconditions, startFailback } from './failback.js';
import type { TaskEvent } from './state.js';
import {
  abort,
  approvalTimedOut,
  claimIncident,
  complete,
  fence,
  grantLease,
  promote,
  promoteStatus,
  recheckVotes,
  reportFailure,
  routeTraffic,
  rpoGuard,
  stopTraffic,
  trafficStatus,
  verify,
} from './steps.js';

/** A local handler as aws-local-stepfunctions calls it: the state's effective input in, its result out. */
// biome-ignore lint/suspicious/noExplicitAny: the library's JSONValue in and out
export type TaskHandler = (input: any) => Promise<any>;

/**
 * Keyed by the ASL placeholder that names the function (`${ClaimIncidentFunctionArn}` → ClaimIncidentFunctionArn).
 * The same keys name the Lambda functions in the CDK app; functions/steps/<step>.ts is the Lambda of each.
 */
const sharedHandlers = (deps: StepDeps): Record<string, TaskHandler> => ({
  RequestApprovalFunctionName: (input) => localApproval(input, deps),
  ApprovalTimedOutFunctionArn: (ev: TaskEvent) => approvalTimedOut(ev, deps),
  TrafficStatusFunctionArn: (ev: TaskEvent & { of?: string }) => trafficStatus(ev, deps),
  FenceFunctionArn: (ev: TaskEvent) => fence(ev, deps),
  PromoteFunctionArn: (ev: TaskEvent) => promote(ev, deps),
  PromoteStatusFunctionArn: (ev: TaskEvent) => promoteStatus(ev, deps),
  GrantLeaseFunctionArn: (ev: TaskEvent) => grantLease(ev, deps),
  RouteTrafficFunctionArn: (ev: TaskEvent) => routeTraffic(ev, deps),
  VerifyFunctionArn: (ev: TaskEvent) => verify(ev, deps),
  NotifyFunctionArn: (ev: TaskEvent) => complete(ev, deps),
  AbortFunctionArn: (ev: TaskEvent) => abort(ev, deps),
  ReportFailureFunctionArn: (ev: TaskEvent) => reportFailure(ev, deps),
});

export function failoverTaskHandlers(deps: StepDeps): Record<string, TaskHandler> {
  return {
    ...sharedHandlers(deps),
    ClaimIncidentFunctionArn: (ev: TaskEvent) => claimIncident(ev, deps),
    RecheckVotesFunctionArn: (ev: TaskEvent) => recheckVotes(ev, deps),
    StopTrafficFunctionArn: (ev: TaskEvent) => stopTraffic(ev, deps),
    RpoGuardFunctionArn: (ev: TaskEvent) => rpoGuard(ev, deps),
  };
}

export function failbackTaskHandlers(deps: StepDeps): Record<string, TaskHandler> {
  return {
    ...sharedHandlers(deps),
    StartFailbackFunctionArn: (ev: TaskEvent) => startFailback(ev, deps),
    FailbackPreconditionsFunctionArn: (ev: TaskEvent) => failbackPreconditions(ev, deps),
    DrainReplicationFunctionArn: (ev: TaskEvent) => drainReplication(ev, deps),
  };
}
