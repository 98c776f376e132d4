import middy from '@middy/core';
import { awsStepDeps } from './aws-deps.js';
import { type HookEvent, runHooks } from './core/hooks.js';

/** Both: one reading of a phase's hooks (BeforePromoteHooks, AfterTrafficHooks). */
export const handler = middy<HookEvent, Record<string, unknown>>().handler((event) =>
  runHooks(event, awsStepDeps()),
);
