import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import type { TaskEvent } from './core/state.js';
import { routeTraffic } from './core/traffic.js';

/** Both: route traffic to the lease holder (RouteTraffic). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  routeTraffic(event, awsStepDeps()),
);
