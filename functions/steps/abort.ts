import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { abort } from './core/finish.js';
import type { TaskEvent } from './core/state.js';

/** Both: close as aborted and report why (Abort). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  abort(event, awsStepDeps()),
);
