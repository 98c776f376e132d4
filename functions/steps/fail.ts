import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { reportFailure } from './core/finish.js';
import type { TaskEvent } from './core/state.js';

/** Both: the failure path (ReportFailure). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  reportFailure(event, awsStepDeps()),
);
