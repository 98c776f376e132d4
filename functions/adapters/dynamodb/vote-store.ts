import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../../core/errors.js';
import type { VoteStore, VoteWrite } from '../../core/ports.js';
import { type Vote, voteSchema } from '../../core/vote.js';

export const votePk = (application: string, target: string) => `${application}#${target}`;

/** Votes on the MREC global table: one item per (application#target, voter), written conditionally on seq. */
export class DynamoVoteStore implements VoteStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

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
    return res.Item ? parseStoredVote(res.Item) : undefined;
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
        const v = parseStoredVote(item);
        if (v) votes.push(v);
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return votes;
  }
}

/** A stored item that is not a valid vote is not a vote: it abstains. */
export function parseStoredVote(item: Record<string, unknown>): Vote | undefined {
  const { pk: _pk, sk: _sk, ...rest } = item;
  const parsed = voteSchema.safeParse(rest);
  return parsed.success ? parsed.data : undefined;
}
