import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { promote } from './core/database.js';
import type { TaskEvent } from './core/state.js';

/** Both: promote the target database (Promote). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  promote(event, awsStepDeps()),
);
