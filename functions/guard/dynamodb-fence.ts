import {
  ConditionalCheckFailedException,
  ReplicatedWriteConflictException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

/**
 * The fencing-token pattern on an application's DynamoDB table. Each write carries the lease epoch it was made
 * under (`guard.check().epoch`), and the table refuses a write whose epoch is lower than one it has already
 * seen. Two granularities:
 *
 * - per item: the item stores its epoch; a put succeeds only over an item written at the same or a lower epoch.
 * - per application: a fence item stores the highest epoch seen; every write is a transaction that checks it.
 *   A new holder raises the fence once, before its first write, which stops a delayed write of the old holder
 *   to any item, not only to items the new holder has touched.
 *
 * The application table must be single-region or MRSC for either to hold: on an MREC global table conditions
 * are checked against the local replica only. On MRSC only the per-item fence is available: MRSC tables refuse
 * transactions (Amazon DynamoDB developer guide, global tables "How it works": multi-Region strong consistency
 * does not support transactional operations), so the application-wide fence refuses an MRSC table before it
 * sends anything. A conditional write that races a write to the same item from another MRSC region fails with
 * ReplicatedWriteConflictException, which AWS marks safe to retry: it is retried with backoff here.
 */
export type FencedWrite = { written: true } | { written: false; reason: 'STALE_EPOCH' };

/** Where the application's table lives: one region, or an MRSC global table. */
export type FenceTable = 'single-region' | 'mrsc';

export class FenceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FenceConfigError';
  }
}

export interface FenceRetry {
  attempts: number;
  baseDelayMs: number;
}

const DEFAULT_RETRY: FenceRetry = { attempts: 5, baseDelayMs: 20 };

/** Sends a conditional write, retrying MRSC's ReplicatedWriteConflictException with jittered backoff. */
async function sendRetryingConflicts<T>(send: () => Promise<T>, retry: FenceRetry): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof ReplicatedWriteConflictException) || attempt >= retry.attempts) throw err;
      const delay = retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export const EPOCH_ATTRIBUTE = 'leaseEpoch';

/** Per-item fence: a conditional put that refuses to overwrite an item written under a higher epoch. */
export async function fencedPut(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  epoch: number,
  retry: FenceRetry = DEFAULT_RETRY,
): Promise<FencedWrite> {
  try {
    await sendRetryingConflicts(
      () =>
        client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...item, [EPOCH_ATTRIBUTE]: epoch },
            ConditionExpression: 'attribute_not_exists(#epoch) OR #epoch <= :epoch',
            ExpressionAttributeNames: { '#epoch': EPOCH_ATTRIBUTE },
            ExpressionAttributeValues: { ':epoch': epoch },
          }),
        ),
      retry,
    );
    return { written: true };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return { written: false, reason: 'STALE_EPOCH' };
    throw err;
  }
}

export interface FenceItem {
  tableName: string;
  key: Record<string, unknown>;
}

/** Raises the application-wide fence to `epoch` (never lowers it). Returns false if it was already higher. */
export async function raiseFence(
  client: DynamoDBDocumentClient,
  fence: FenceItem,
  epoch: number,
  retry: FenceRetry = DEFAULT_RETRY,
): Promise<boolean> {
  try {
    await sendRetryingConflicts(
      () =>
        client.send(
          new UpdateCommand({
            TableName: fence.tableName,
            Key: fence.key,
            UpdateExpression: 'SET #epoch = :epoch',
            ConditionExpression: 'attribute_not_exists(#epoch) OR #epoch <= :epoch',
            ExpressionAttributeNames: { '#epoch': EPOCH_ATTRIBUTE },
            ExpressionAttributeValues: { ':epoch': epoch },
          }),
        ),
      retry,
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/**
 * Application-wide fence: the put happens only if the fence item has not seen a higher epoch. A transaction,
 * so single-region tables only: on an MRSC table it throws FenceConfigError and sends nothing.
 */
export async function fencedPutChecked(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  epoch: number,
  fence: FenceItem,
  table: FenceTable = 'single-region',
): Promise<FencedWrite> {
  if (table === 'mrsc') {
    throw new FenceConfigError(
      `the application-wide fence needs TransactWriteItems, which MRSC tables refuse; fence ${tableName} per item with fencedPut (each write conditional on the item's own epoch)`,
    );
  }
  try {
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: fence.tableName,
              Key: fence.key,
              ConditionExpression: 'attribute_not_exists(#epoch) OR #epoch <= :epoch',
              ExpressionAttributeNames: { '#epoch': EPOCH_ATTRIBUTE },
              ExpressionAttributeValues: { ':epoch': epoch },
            },
          },
          { Put: { TableName: tableName, Item: { ...item, [EPOCH_ATTRIBUTE]: epoch } } },
        ],
      }),
    );
    return { written: true };
  } catch (err) {
    if (
      err instanceof TransactionCanceledException &&
      err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
    ) {
      return { written: false, reason: 'STALE_EPOCH' };
    }
    throw err;
  }
}
