import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import type { TaskEvent } from './core/state.js';
import { reportFailure } from './core/steps.js';

/** Both: the failure path (ReportFailure). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  reportFailure(event, awsStepDeps()),
);
