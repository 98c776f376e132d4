import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import type { TaskEvent } from './core/state.js';
import { grantLease } from './core/steps.js';

/** Both: grant the lease to the new primary (GrantLease). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  grantLease(event, awsStepDeps()),
);
