import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import type { TaskEvent } from './core/state.js';
import { trafficStatus } from './core/traffic.js';

/** Both: one poll of a Route 53 change (StopTrafficStatus, RouteTrafficStatus). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  trafficStatus(event, awsStepDeps()),
);
