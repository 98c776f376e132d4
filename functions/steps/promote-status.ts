import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { promoteStatus } from './core/database.js';
import type { TaskEvent } from './core/state.js';

/** Both: one poll of the promotion (PromoteStatus). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  promoteStatus(event, awsStepDeps()),
);
