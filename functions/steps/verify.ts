import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import type { TaskEvent } from './core/state.js';
import { verify } from './core/steps.js';

/** Both: verify the new primary through its health endpoint (Verify). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  verify(event, awsStepDeps()),
);
