import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { startFailback } from './core/failback.js';
import type { TaskEvent } from './core/state.js';

/** Failback: validate the operator input, open and claim the incident (StartFailback). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  startFailback(event, awsStepDeps()),
);
