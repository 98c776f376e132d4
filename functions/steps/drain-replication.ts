import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { drainReplication } from './core/failback.js';
import type { TaskEvent } from './core/state.js';

/** Failback: wait for replication lag 0 (DrainReplication). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  drainReplication(event, awsStepDeps()),
);
