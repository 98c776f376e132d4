import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { fetchHealthDocument } from '#adapters/http/deep-health-probe.js';
import { probeHealth } from '#adapters/http/health-probe.js';
import { documentClient } from '#commons/clients.js';
import { configFromEnv, requiredEnv } from '#commons/env-config.js';
import { logger, logTo } from '#commons/logger.js';
import { runProber } from '#commons/prober-loop.js';
import { systemClock } from '#core/ports.js';

const config = configFromEnv();
const votes = new DynamoVoteStore(documentClient, requiredEnv('VOTES_TABLE'), config.watchers);
const voter = requiredEnv('AWS_REGION');

/**
 * Started once a minute by EventBridge Scheduler (its floor); loops every probe interval inside the
 * invocation so that votes are fresher than the schedule allows.
 */
export const handler = middy<ScheduledEvent, { rounds: number }>().handler(
  async (_event, context: Context) => {
    const rounds = await runProber({
      config,
      voter,
      votes,
      probe: probeHealth,
      // Read only when the configuration has a health section: the deep checks of the health contract (issue 15).
      deepProbe: fetchHealthDocument,
      clock: systemClock,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      remainingMs: () => context.getRemainingTimeInMillis(),
      log: logTo(logger),
    });
    return { rounds: rounds.length };
  },
);
