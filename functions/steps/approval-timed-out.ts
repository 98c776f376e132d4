import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import type { TaskEvent } from './core/state.js';
import { approvalTimedOut } from './core/steps.js';

/** Failover: apply the approval timeout policy (ApprovalTimedOut). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  approvalTimedOut(event, awsStepDeps()),
);
