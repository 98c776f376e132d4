import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { recheckVotes } from './core/recheck.js';
import type { TaskEvent } from './core/state.js';

/** Failover: re-check the votes before acting (RecheckVotes). */
export const handler = middy<TaskEvent & { of?: string }, Record<string, unknown>>().handler((event) =>
  recheckVotes(event, awsStepDeps()),
);
