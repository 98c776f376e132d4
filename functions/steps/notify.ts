import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { complete } from './core/finish.js';
import type { TaskEvent } from './core/state.js';

/** Both: close as completed and put the completion event with timings (Notify). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  complete(event, awsStepDeps()),
);
