import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { approvalTimedOut } from './core/approval.js';
import type { TaskEvent } from './core/state.js';

/** Failover: apply the approval timeout policy (ApprovalTimedOut). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  approvalTimedOut(event, awsStepDeps()),
);
