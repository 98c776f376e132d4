import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  Approval,
  ApprovalStore,
  ApprovalWrite,
  NewApproval,
  SlackMessageRef,
} from '#core/approval-ports.js';
import { StoreError } from '#core/errors.js';
import type { ApprovalDecision } from '#core/failover-ports.js';

// One partition per approval: the callback knows nothing but the id that Slack echoes back.
const key = (id: string) => ({ pk: `approval#${id}`, sk: 'approval' });

/**
 * Approvals on the control table. The task token is stored here and never leaves AWS; every state change is a
 * conditional update, so a second click, a replayed request or a racing approver changes nothing.
 */
export class DynamoApprovalStore implements ApprovalStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly newId: () => string = randomUUID,
  ) {}

  async create(approval: NewApproval): Promise<Approval> {
    const item: Approval = {
      ...approval,
      id: this.newId(),
      status: 'pending',
      votes: [],
      decision: null,
      message: null,
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key(item.id), ...item },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      throw new StoreError(`could not store an approval for incident ${approval.request.incidentId}`, {
        cause: err,
      });
    }
    return item;
  }

  async get(id: string): Promise<Approval | null> {
    const res = await this.client
      .send(new GetCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true }))
      .catch((err) => {
        throw new StoreError(`could not read approval ${id}`, { cause: err });
      });
    return res.Item ? toApproval(res.Item) : null;
  }

  async attachMessage(id: string, message: SlackMessageRef): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'SET message = :message',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':message': message },
        }),
      )
      .catch((err) => {
        throw new StoreError(`could not attach the Slack message to approval ${id}`, { cause: err });
      });
  }

  async recordVote(id: string, user: string, now: number): Promise<ApprovalWrite> {
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'SET votes = list_append(votes, :vote)',
          ConditionExpression:
            'attribute_exists(pk) AND #status = :pending AND expiresAt > :now AND NOT contains(votes, :user)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':vote': [user], ':user': user, ':pending': 'pending', ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { ok: true, approval: toApproval(res.Attributes ?? {}) };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return this.refusal(id, now, user);
      throw new StoreError(`could not record ${user}'s vote on approval ${id}`, { cause: err });
    }
  }

  async decide(id: string, decision: ApprovalDecision): Promise<ApprovalWrite> {
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'SET #status = :status, decision = :decision',
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending AND expiresAt > :at',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': decision.approved ? 'approved' : 'rejected',
            ':decision': decision,
            ':pending': 'pending',
            ':at': decision.at,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { ok: true, approval: toApproval(res.Attributes ?? {}) };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return this.refusal(id, decision.at);
      throw new StoreError(`could not decide approval ${id}`, { cause: err });
    }
  }

  /** Why a conditional write was refused, read back after the fact (the write itself changed nothing). */
  private async refusal(id: string, now: number, voter?: string): Promise<ApprovalWrite> {
    const approval = await this.get(id);
    if (!approval) return { ok: false, code: 'UNKNOWN_APPROVAL', approval };
    if (approval.status !== 'pending') return { ok: false, code: 'ALREADY_DECIDED', approval };
    if (approval.expiresAt <= now) return { ok: false, code: 'EXPIRED', approval };
    if (voter && approval.votes.includes(voter)) return { ok: false, code: 'SAME_APPROVER', approval };
    // The item moved between the write and the read (another approver decided): report it as decided.
    return { ok: false, code: 'ALREADY_DECIDED', approval };
  }
}

function toApproval(item: Record<string, unknown>): Approval {
  const { pk: _pk, sk: _sk, ...rest } = item;
  const a = rest as unknown as Approval;
  return {
    ...a,
    votes: a.votes ?? [],
    decision: a.decision ?? null,
    message: a.message ?? null,
  };
}
