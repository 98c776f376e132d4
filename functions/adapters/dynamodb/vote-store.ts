import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '#core/errors.js';
import type { VoteStore, VoteWrite } from '#core/ports.js';
import { type Vote, voteSchema } from '#core/vote.js';

export const votePk = (application: string, target: string) => `${application}#${target}`;

/** Votes on the MREC global table: one item per (application#target, voter), written conditionally on seq. */
export class DynamoVoteStore implements VoteStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Hears of every stored item refused as a vote (forged, misfiled or malformed). */
    private readonly log?: (message: string, fields: Record<string, unknown>) => void,
  ) {}

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
          Item: { pk: votePk(vote.application, vote.target), sk: vote.voter, ...vote },
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
          Key: { pk: votePk(application, target), sk: voter },
          ConsistentRead: true,
        }),
      )
      .catch((err) => {
        throw new StoreError(`could not read the vote of ${voter} about ${target}`, { cause: err });
      });
    return res.Item ? this.accept(res.Item, { application, target }) : undefined;
  }

  async list(application: string, target: string): Promise<Vote[]> {
    const votes: Vote[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.client
        .send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': votePk(application, target) },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        )
        .catch((err) => {
          throw new StoreError(`could not list the votes about ${target}`, { cause: err });
        });
      for (const item of res.Items ?? []) {
        const v = this.accept(item, { application, target });
        if (v) votes.push(v);
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return votes;
  }
}

type VoteKey = { application: string; target: string };

/**
 * A stored item that is not a valid vote is not a vote: it abstains. The item's key must be the key of what it
 * says (pk application#target, sk the voter) and match what was asked for: an item filed under another voter's
 * name, or about another region, is a forgery or a misfiling, never a second vote of the voter it names.
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
  if (pk !== votePk(vote.application, vote.target)) {
    return {
      ok: false,
      reason: `filed under pk ${String(pk)}, not ${votePk(vote.application, vote.target)}`,
    };
  }
  if (sk !== vote.voter) {
    return { ok: false, reason: `filed under voter ${String(sk)} but signed ${vote.voter}` };
  }
  return { ok: true, vote };
}
