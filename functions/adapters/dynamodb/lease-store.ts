import { ConditionalCheckFailedException, ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '#core/errors.js';
import { type Lease, type LeaseTiming, newExpiry } from '#core/lease.js';
import type { Clock, LeaseResult, LeaseStore } from '#core/ports.js';

const LEASE_SK = 'lease';

/** Per call: an AbortSignal that ends the request (and any retry) when it fires, whatever the client's timeouts. */
export interface LeaseCall {
  signal?: AbortSignal;
}

/**
 * The lease item on the control table. Every change is one conditional UpdateItem on the epoch (and holder or
 * expiry): on an MRSC table the condition is checked against the latest replicated version, so two concurrent
 * winners are impossible (AWS DynamoDB developer guide, "Multi-Region strong consistency"). Expiry is compared
 * with the caller's clock, shifted by maxSkew where a taker is concerned.
 */
export class DynamoLeaseStore implements LeaseStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly timing: LeaseTiming,
    private readonly clock: Clock,
    private readonly retry = { attempts: 5, baseDelayMs: 20 },
  ) {}

  async read(application: string, call: LeaseCall = {}): Promise<Lease | null> {
    const res = await this.send(
      () =>
        this.client.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: application, sk: LEASE_SK },
            ConsistentRead: true,
          }),
          { abortSignal: call.signal },
        ),
      `read the lease of ${application}`,
      call,
    );
    return res.Item ? toLease(application, res.Item) : null;
  }

  async acquire(
    application: string,
    region: string,
    expectedEpoch: number | null,
    call: LeaseCall = {},
  ): Promise<LeaseResult> {
    const now = this.clock.now();
    const condition =
      expectedEpoch === null
        ? 'attribute_not_exists(pk)'
        : // Held but not renewed, once expiry + maxSkew has passed on our clock. A revoked lease is not free:
          // only the failover that fenced it may grant it.
          'epoch = :expected AND attribute_exists(holder) AND expiresAt <= :takeBefore';
    return this.update(
      application,
      {
        UpdateExpression:
          'SET holder = :region, epoch = :epoch, expiresAt = :exp, updatedAt = :now, lastHolder = :region',
        ConditionExpression: condition,
        ExpressionAttributeValues: {
          ':region': region,
          ':epoch': (expectedEpoch ?? 0) + 1,
          ':exp': newExpiry(now, this.timing),
          ':now': now,
          ...(expectedEpoch === null
            ? {}
            : { ':expected': expectedEpoch, ':takeBefore': now - this.timing.maxSkewMs }),
        },
      },
      'LOST_RACE',
      `acquire the lease of ${application} for ${region}`,
      call,
    );
  }

  async renew(
    application: string,
    region: string,
    epoch: number,
    call: LeaseCall = {},
  ): Promise<LeaseResult> {
    const now = this.clock.now();
    const result = await this.update(
      application,
      {
        UpdateExpression: 'SET expiresAt = :exp, updatedAt = :now',
        // Only the holder, only at its epoch, and never shortening the lease.
        ConditionExpression: 'holder = :region AND epoch = :epoch AND expiresAt < :exp',
        ExpressionAttributeValues: {
          ':region': region,
          ':epoch': epoch,
          ':exp': newExpiry(now, this.timing),
          ':now': now,
        },
      },
      'NOT_HOLDER',
      `renew the lease of ${application} for ${region}`,
      call,
    );
    // Still the holder, and the stored expiry already reaches as far (a second renewal in the same instant, or
    // a grant written by a clock ahead of ours): the lease is held, nothing to extend.
    if (!result.ok && result.current?.holder === region && result.current.epoch === epoch) {
      return { ok: true, lease: result.current };
    }
    return result;
  }

  async revoke(application: string, expectedEpoch: number): Promise<LeaseResult> {
    const now = this.clock.now();
    // The fence: a new epoch with no holder. expiresAt stays, so takers still wait out the old lease.
    return this.update(
      application,
      {
        UpdateExpression: 'SET epoch = :next, updatedAt = :now, revokedAt = :now REMOVE holder',
        ConditionExpression: 'epoch = :expected',
        ExpressionAttributeValues: { ':expected': expectedEpoch, ':next': expectedEpoch + 1, ':now': now },
      },
      'LOST_RACE',
      `revoke the lease of ${application} at epoch ${expectedEpoch}`,
    );
  }

  async grant(application: string, region: string, expectedEpoch: number): Promise<LeaseResult> {
    const now = this.clock.now();
    const result = await this.update(
      application,
      {
        UpdateExpression:
          'SET holder = :region, epoch = :next, expiresAt = :exp, updatedAt = :now, grantedAt = :now, lastHolder = :region',
        ConditionExpression:
          'epoch = :expected AND attribute_not_exists(holder) AND expiresAt <= :takeBefore',
        ExpressionAttributeValues: {
          ':region': region,
          ':expected': expectedEpoch,
          ':next': expectedEpoch + 1,
          ':exp': newExpiry(now, this.timing),
          ':now': now,
          ':takeBefore': now - this.timing.maxSkewMs,
        },
      },
      'LOST_RACE',
      `grant the lease of ${application} to ${region}`,
    );
    if (
      !result.ok &&
      result.current &&
      result.current.epoch === expectedEpoch &&
      result.current.holder === null
    ) {
      return { ok: false, code: 'NOT_SAFE_YET', current: result.current };
    }
    return result;
  }

  private async update(
    application: string,
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
    lostCode: 'LOST_RACE' | 'NOT_HOLDER',
    what: string,
    call: LeaseCall = {},
  ): Promise<LeaseResult> {
    try {
      const res = await this.send(
        () =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: application, sk: LEASE_SK },
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              ...input,
            }),
            { abortSignal: call.signal },
          ),
        what,
        call,
      );
      return { ok: true, lease: toLease(application, res.Attributes ?? {}) };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const current = err.Item ? toLeaseFromRaw(application, err.Item) : await this.read(application, call);
        return { ok: false, code: lostCode, current };
      }
      throw err;
    }
  }

  /** Retries MRSC's ReplicatedWriteConflictException with jittered backoff; other errors become StoreError. */
  private async send<T>(call: () => Promise<T>, what: string, options: LeaseCall = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) throw err;
        if (
          err instanceof ReplicatedWriteConflictException &&
          attempt < this.retry.attempts &&
          !options.signal?.aborted
        ) {
          const delay = this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
        throw new StoreError(`could not ${what}`, { cause: err });
      }
    }
  }
}

function toLease(application: string, item: Record<string, unknown>): Lease {
  return {
    application,
    holder: typeof item.holder === 'string' ? item.holder : null,
    epoch: Number(item.epoch ?? 0),
    expiresAt: Number(item.expiresAt ?? 0),
    updatedAt: Number(item.updatedAt ?? 0),
  };
}

/** ConditionalCheckFailedException carries the old item in the low-level (AttributeValue) shape. */
function toLeaseFromRaw(application: string, raw: Record<string, { S?: string; N?: string }>): Lease {
  return {
    application,
    holder: raw.holder?.S ?? null,
    epoch: Number(raw.epoch?.N ?? 0),
    expiresAt: Number(raw.expiresAt?.N ?? 0),
    updatedAt: Number(raw.updatedAt?.N ?? 0),
  };
}
