import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { failbackPreconditions } from './core/failback.js';
import type { TaskEvent } from './core/state.js';

/** Failback: preconditions (Preconditions). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  failbackPreconditions(event, awsStepDeps()),
);
