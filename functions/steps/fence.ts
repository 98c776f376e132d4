import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { fence } from './core/fence.js';
import type { TaskEvent } from './core/state.js';

/** Both: revoke the lease and compute the end of the old lease (Fence). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  fence(event, awsStepDeps()),
);
