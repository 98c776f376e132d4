import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import type { TaskEvent } from './core/state.js';
import { stopTraffic } from './core/traffic.js';

/** Failover: take the old primary out of rotation (StopTraffic). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  stopTraffic(event, awsStepDeps()),
);
