import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { claimIncident } from './core/claim.js';
import type { TaskEvent } from './core/state.js';

/** Failover: claim the incident for this execution (Claim). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  claimIncident(event, awsStepDeps()),
);
