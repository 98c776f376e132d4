import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '#core/errors.js';
import type { VoteStore, VoteWrite } from '#core/ports.js';
import { type Vote, voteKey, voteSchema } from '#core/vote.js';

/** BatchGetItem reads at most 100 keys a call (BatchGetItem, Amazon DynamoDB API reference). */
const BATCH_GET_MAX_KEYS = 100;
/** Rounds of UnprocessedKeys retried before the read fails; the batch is redelivered then. */
const UNPROCESSED_ROUNDS = 5;

/**
 * Votes on the MREC global table: one item per (application, target, voter) under `voteKey`, written
 * conditionally on seq. A target's votes are read by key, one per configured watcher, with a strongly consistent
 * BatchGetItem: an item under any other key (a forgery, a retired watcher) is never read, and each key can be
 * written only by its own watcher's role (infra/iam.ts, `voteWriterStatements`).
 */
export class DynamoVoteStore implements VoteStore {
  private readonly watchers: readonly string[];

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The configured watchers: the only voters whose items are read. */
    watchers: readonly string[],
    /** Hears of every stored item refused as a vote (forged, misfiled or malformed). */
    private readonly log?: (message: string, fields: Record<string, unknown>) => void,
  ) {
    this.watchers = [...new Set(watchers)];
  }

  private accept(item: Record<string, unknown>, expected: VoteKey): Vote | undefined {
    const read = parseStoredVote(item, expected);
    if (read.ok) return read.vote;
    this.log?.('vote item refused', { pk: item.pk, sk: item.sk, reason: read.reason });
    return undefined;
  }

  async put(vote: Vote): Promise<VoteWrite> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...voteKey(vote.application, vote.target, vote.voter), ...vote },
          // A late or duplicated write never replaces a newer vote.
          ConditionExpression: 'attribute_not_exists(pk) OR seq < :seq',
          ExpressionAttributeValues: { ':seq': vote.seq },
        }),
      );
      return 'written';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'superseded';
      throw new StoreError(`could not write the vote of ${vote.voter} about ${vote.target}`, { cause: err });
    }
  }

  async get(application: string, target: string, voter: string): Promise<Vote | undefined> {
    const res = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: voteKey(application, target, voter),
          ConsistentRead: true,
        }),
      )
      .catch((err) => {
        throw new StoreError(`could not read the vote of ${voter} about ${target}`, { cause: err });
      });
    return res.Item ? this.accept(res.Item, { application, target, voter }) : undefined;
  }

  async list(application: string, target: string): Promise<Vote[]> {
    const askedFor = new Map(this.watchers.map((voter) => [voteKey(application, target, voter).pk, voter]));
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < this.watchers.length; i += BATCH_GET_MAX_KEYS) {
      const voters = this.watchers.slice(i, i + BATCH_GET_MAX_KEYS);
      items.push(
        ...(await this.batchGet(
          voters.map((voter) => voteKey(application, target, voter)),
          target,
        )),
      );
    }
    const votes: Vote[] = [];
    for (const item of items) {
      // Checked against the voter whose key was asked for, not against what the item says of itself.
      const voter = askedFor.get(String(item.pk)) ?? '(a key not asked for)';
      const v = this.accept(item, { application, target, voter });
      if (v) votes.push(v);
    }
    // BatchGetItem returns items in no particular order.
    return votes.sort((a, b) => (a.voter < b.voter ? -1 : a.voter > b.voter ? 1 : 0));
  }

  private async batchGet(
    keys: Record<string, unknown>[],
    target: string,
  ): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    let pending = keys;
    for (let round = 0; pending.length > 0; round++) {
      if (round === UNPROCESSED_ROUNDS) {
        throw new StoreError(
          `could not list the votes about ${target}: ${pending.length} keys left unprocessed`,
        );
      }
      if (round > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** round));
      const res = await this.client
        .send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        )
        .catch((err) => {
          throw new StoreError(`could not list the votes about ${target}`, { cause: err });
        });
      found.push(...(res.Responses?.[this.tableName] ?? []));
      pending = res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }
}

type VoteKey = { application: string; target: string; voter: string };

/**
 * A stored item that is not a valid vote is not a vote: it abstains. The item's key must be the key of what it
 * says (`voteKey` of its application, target and voter) and match what was asked for: an item filed under another
 * voter's key, or about another region, is a forgery or a misfiling, never a vote of the voter it names.
 */
export function parseStoredVote(
  item: Record<string, unknown>,
  expected: VoteKey,
): { ok: true; vote: Vote } | { ok: false; reason: string } {
  const { pk, sk, ...rest } = item;
  const parsed = voteSchema.safeParse(rest);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `not a vote: ${first?.path.join('.') || '(item)'}: ${first?.message}` };
  }
  const vote = parsed.data;
  if (vote.application !== expected.application || vote.target !== expected.target) {
    return {
      ok: false,
      reason: `a vote about ${vote.application}/${vote.target} read for ${expected.application}/${expected.target}`,
    };
  }
  const own = voteKey(vote.application, vote.target, vote.voter);
  if (pk !== own.pk || sk !== own.sk || vote.voter !== expected.voter) {
    return {
      ok: false,
      reason: `filed under ${String(pk)}/${String(sk)} but signed ${vote.voter} (read for ${expected.voter})`,
    };
  }
  return { ok: true, vote };
}
