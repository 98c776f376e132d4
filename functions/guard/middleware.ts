import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type LeaseGuard, WriteFencedError } from './lease-guard.js';

/** What a guarded handler finds on its context: the fencing token to store with each write. */
export interface LeaseContext {
  leaseEpoch: number;
  /** The instant (this host's clock) after which the guard stops allowing writes under this epoch. */
  leaseValidUntil: number;
}

export type GuardedContext = Context & LeaseContext;

export interface LeaseGuardMiddlewareOptions {
  guard: Pick<LeaseGuard, 'check' | 'ensureFresh'>;
  /** Re-read the lease before checking when the cache is due (timers do not run in a frozen sandbox). */
  refreshIfDue?: boolean;
}

/**
 * Refuses the handler with WriteFencedError (statusCode 503) unless this region holds a valid lease, and puts
 * the epoch on `context.leaseEpoch`. Pair it with @middy/http-error-handler to turn the error into a response.
 */
export function leaseGuard(
  options: LeaseGuardMiddlewareOptions,
): MiddlewareObj<unknown, unknown, Error, Context> {
  if (!options?.guard || typeof options.guard.check !== 'function') {
    throw new TypeError('leaseGuard middleware needs options.guard (a LeaseGuard)');
  }
  const { guard, refreshIfDue = true } = options;
  return {
    before: async (request) => {
      if (refreshIfDue) await guard.ensureFresh();
      const decision = guard.check();
      if (!decision.allowed) throw new WriteFencedError(decision);
      Object.assign(request.context, {
        leaseEpoch: decision.epoch,
        leaseValidUntil: decision.validUntil,
      } satisfies LeaseContext);
    },
  };
}
