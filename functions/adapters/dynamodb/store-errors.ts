import { LostRaceError, StoreError, StoreRefusedError } from '#core/errors.js';
import { isTransient } from '../aws/aws-errors.js';

/** DynamoDB's own names for "too much, too fast" and for writes that lost to a concurrent one: retry them. */
const DYNAMODB_TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'InternalServerError',
  'TransactionConflictException',
  'ReplicatedWriteConflictException',
]);

/**
 * The one translation of a DynamoDB SDK error into the domain's: a failed condition is a LostRaceError (the
 * caller re-reads, or gives it its own meaning first); throttling, timeouts, 5xx and network failures are the
 * StoreError that the state machines retry; anything else is a StoreRefusedError, which a retry will not fix.
 * The SDK error is always the cause.
 */
export function storeError(err: unknown, what: string): Error {
  if (err instanceof LostRaceError || err instanceof StoreError || err instanceof StoreRefusedError)
    return err;
  const name = (err as { name?: string } | null)?.name ?? 'Error';
  const message = `could not ${what}: ${name}: ${(err as { message?: string } | null)?.message ?? String(err)}`;
  if (name === 'ConditionalCheckFailedException') return new LostRaceError(message, { cause: err });
  if (DYNAMODB_TRANSIENT.has(name) || isTransient(err)) return new StoreError(message, { cause: err });
  return new StoreRefusedError(message, { cause: err });
}
