import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { verify } from './core/finish.js';
import type { TaskEvent } from './core/state.js';

/** Both: verify the new primary through its health endpoint (Verify). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  verify(event, awsStepDeps()),
);
