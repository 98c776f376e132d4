import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { grantLease } from './core/lease.js';
import type { TaskEvent } from './core/state.js';

/** Both: grant the lease to the new primary (GrantLease). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  grantLease(event, awsStepDeps()),
);
