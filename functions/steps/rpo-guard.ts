import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { rpoGuard } from './core/database.js';
import type { TaskEvent } from './core/state.js';

/** Failover: replication lag against the RPO budget (RpoGuard). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  rpoGuard(event, awsStepDeps()),
);
