import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { LostRaceError, StoreError } from '../../core/errors.js';
import { type Incident, incidentId, parseIncidentId } from '../../core/incident.js';
import type {
  AuditEntry,
  ControlStore,
  IncidentClaim,
  IncidentCreate,
  IncidentProgress,
  IncidentRequest,
  IncidentTakeover,
  PauseRecord,
  VerdictChange,
  VerdictRecord,
} from '../../core/ports.js';

const pad = (n: number) => String(n).padStart(12, '0');
const incidentSk = (epoch: number) => `incident#${pad(epoch)}`;

/**
 * Incidents, pause, audit on the control table. The incident item is keyed by (application, epoch) and
 * created or reopened by one conditional update, which is what makes one winner across racing regions and
 * duplicate deliveries (I4).
 */
export class DynamoControlStore implements ControlStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async requestIncident(request: IncidentRequest, now: number): Promise<IncidentCreate> {
    const key = { pk: request.application, sk: incidentSk(request.epoch) };
    const fields: Record<string, unknown> = { ...request, status: 'requested' };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':one': 1,
      ':zero': 0,
      ':aborted': 'aborted',
      ':failed': 'failed',
      ':now': now,
    };
    const sets = ['attempt = if_not_exists(attempt, :zero) + :one'];
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    // A closed incident's leftovers must not leak into the new attempt.
    const removes = [
      'executionArn',
      'claimedAt',
      'closedAt',
      'closeReason',
      'reopenAfter',
      'publishedAt',
      'progressAt',
      'progressStep',
      'quietUntil',
      'takenOverFrom',
      'takenOverAt',
      'takeovers',
    ].filter((k) => !(k in fields));
    for (const k of removes) names[`#${k}`] = k;
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.map((k) => `#${k}`).join(', ')}` : ''}`,
          ConditionExpression:
            // An aborted or failed attempt may be followed by a new one at the same epoch once its hold-off
            // is over; a failure after the fence never gets here (the aggregator stands aside while the
            // lease is revoked), so this only retries failovers that failed before changing anything.
            'attribute_not_exists(pk) OR (#status IN (:aborted, :failed) AND (attribute_not_exists(#reopenAfter) OR #reopenAfter <= :now))',
          ExpressionAttributeNames: { ...names, '#status': 'status', '#reopenAfter': 'reopenAfter' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const incident = toIncident(res.Attributes ?? {});
      return { created: true, incident };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        return { created: false, existing: await this.readIncident(request.application, request.epoch) };
      }
      throw new StoreError(`could not request an incident for ${request.application}`, { cause: err });
    }
  }

  async getIncident(id: string): Promise<Incident | null> {
    const parsed = parseIncidentId(id);
    if (!parsed) return null;
    const incident = await this.readIncident(parsed.application, parsed.epoch);
    return incident && incident.attempt === parsed.attempt ? incident : null;
  }

  async claimIncident(id: string, executionArn: string, now: number): Promise<IncidentClaim> {
    const parsed = parseIncidentId(id);
    if (!parsed)
      return { claimed: false, incident: null, reason: `malformed incident id ${JSON.stringify(id)}` };
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: parsed.application, sk: incidentSk(parsed.epoch) },
          UpdateExpression:
            'SET #status = :running, executionArn = :arn, claimedAt = :now, progressAt = :now, progressStep = :claim REMOVE quietUntil',
          ConditionExpression:
            '#status = :requested AND attempt = :attempt AND attribute_not_exists(executionArn)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':requested': 'requested',
            ':arn': executionArn,
            ':now': now,
            ':attempt': parsed.attempt,
            ':claim': 'claim',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { claimed: true, incident: toIncident(res.Attributes ?? {}) };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const incident = await this.getIncident(id);
        const reason = !incident
          ? `incident ${id} does not exist`
          : incident.executionArn === executionArn
            ? `incident ${id} is already claimed by this execution`
            : `incident ${id} is ${incident.status}${incident.executionArn ? ` and claimed by ${incident.executionArn}` : ''}`;
        return { claimed: false, incident, reason };
      }
      throw new StoreError(`could not claim incident ${id}`, { cause: err });
    }
  }

  async recordProgress(
    id: string,
    executionArn: string,
    progress: { at: number; step: string; quietUntil?: number },
  ): Promise<IncidentProgress> {
    const parsed = parseIncidentId(id);
    if (!parsed)
      return { owned: false, incident: null, reason: `malformed incident id ${JSON.stringify(id)}` };
    const quiet = progress.quietUntil !== undefined;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: parsed.application, sk: incidentSk(parsed.epoch) },
          UpdateExpression: `SET progressAt = :at, progressStep = :step${quiet ? ', quietUntil = :quiet' : ' REMOVE quietUntil'}`,
          // Only the status-independent binding: a retried notify after the close must still pass.
          ConditionExpression: 'attempt = :attempt AND executionArn = :arn',
          ExpressionAttributeValues: {
            ':at': progress.at,
            ':step': progress.step,
            ':attempt': parsed.attempt,
            ':arn': executionArn,
            ...(quiet ? { ':quiet': progress.quietUntil } : {}),
          },
        }),
      );
      return { owned: true };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const incident = await this.getIncident(id);
        const reason = !incident
          ? `incident ${id} does not exist (any more)`
          : `incident ${id} is ${incident.status} and bound to ${incident.executionArn ?? 'no execution'}${
              incident.takenOverFrom === executionArn ? `, taken over by ${incident.requestedBy}` : ''
            }`;
        return { owned: false, incident, reason };
      }
      throw new StoreError(`could not record the progress of incident ${id}`, { cause: err });
    }
  }

  async openIncident(application: string, fromEpoch: number, toEpoch: number): Promise<Incident | null> {
    const res = await this.client
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': application,
            ':from': incidentSk(Math.max(0, fromEpoch)),
            ':to': incidentSk(Math.max(0, toEpoch)),
          },
          ScanIndexForward: false,
          ConsistentRead: true,
        }),
      )
      .catch((err) => {
        throw new StoreError(`could not list the open incidents of ${application}`, { cause: err });
      });
    const open = (res.Items ?? [])
      .map(toIncident)
      .find((i) => i.status === 'requested' || i.status === 'running');
    return open ?? null;
  }

  async takeOverIncident(seen: Incident, by: string, now: number): Promise<IncidentTakeover> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':requested': 'requested',
      ':seenStatus': seen.status,
      ':attempt': seen.attempt,
      ':by': by,
      ':from': seen.executionArn ?? seen.requestedBy,
      ':now': now,
      ':zero': 0,
      ':one': 1,
    };
    // The item must be exactly as judged stalled: any progress, claim or other takeover since then wins.
    const conditions = ['#status = :seenStatus', 'attempt = :attempt'];
    const same = (attr: string, value: unknown) => {
      if (value === undefined) {
        conditions.push(`attribute_not_exists(${attr})`);
      } else {
        values[`:seen_${attr}`] = value;
        conditions.push(`${attr} = :seen_${attr}`);
      }
    };
    same('executionArn', seen.executionArn);
    same('requestedBy', seen.requestedBy);
    same('progressAt', seen.progressAt);
    same('takeovers', seen.takeovers);
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: seen.application, sk: incidentSk(seen.epoch) },
          UpdateExpression:
            'SET #status = :requested, requestedBy = :by, takenOverFrom = :from, takenOverAt = :now, progressAt = :now, ' +
            'takeovers = if_not_exists(takeovers, :zero) + :one ' +
            'REMOVE executionArn, claimedAt, publishedAt, progressStep, quietUntil',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { takenOver: true, incident: toIncident(res.Attributes ?? {}) };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const incident = await this.getIncident(seen.id);
        return {
          takenOver: false,
          incident,
          reason: `incident ${seen.id} changed since it was judged stalled: now ${incident?.status ?? 'missing'}, bound to ${incident?.executionArn ?? 'no execution'}, requested by ${incident?.requestedBy ?? '-'}`,
        };
      }
      throw new StoreError(`could not take over incident ${seen.id}`, { cause: err });
    }
  }

  async closeIncident(
    id: string,
    status: 'aborted' | 'failed' | 'completed',
    reason: string,
    now: number,
    reopenAfter?: number,
    owner?: string | null,
  ): Promise<Incident> {
    const parsed = parseIncidentId(id);
    if (!parsed) throw new StoreError(`malformed incident id ${JSON.stringify(id)}`);
    const ownership =
      owner === undefined
        ? ''
        : owner === null
          ? ' AND attribute_not_exists(executionArn)'
          : ' AND executionArn = :owner';
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: parsed.application, sk: incidentSk(parsed.epoch) },
          UpdateExpression: `SET #status = :status, closedAt = :now, closeReason = :reason${reopenAfter === undefined ? '' : ', reopenAfter = :reopen'}`,
          ConditionExpression: `attempt = :attempt AND #status IN (:requested, :running)${ownership}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':now': now,
            ':reason': reason,
            ':attempt': parsed.attempt,
            ':requested': 'requested',
            ':running': 'running',
            ...(reopenAfter === undefined ? {} : { ':reopen': reopenAfter }),
            ...(typeof owner === 'string' ? { ':owner': owner } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toIncident(res.Attributes ?? {});
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const current = await this.getIncident(id);
        if (current && current.status === status) return current; // a retried close is a no-op
        if (current && (current.status === 'requested' || current.status === 'running')) {
          throw new LostRaceError(
            `incident ${id} is held by ${current.executionArn ?? 'no execution'}, not ${owner ?? 'an unclaimed request'}: not closed`,
          );
        }
        throw new StoreError(
          `incident ${id} cannot become ${status}: it is ${current?.status ?? 'missing'}`,
          {
            cause: err,
          },
        );
      }
      throw new StoreError(`could not close incident ${id}`, { cause: err });
    }
  }

  async lastCompletedFailover(application: string): Promise<Incident | null> {
    const res = await this.client
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': application, ':prefix': 'incident#' },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: 20,
        }),
      )
      .catch((err) => {
        throw new StoreError(`could not list incidents of ${application}`, { cause: err });
      });
    const done = (res.Items ?? [])
      .map(toIncident)
      .find((i) => i.status === 'completed' && i.kind === 'failover');
    return done ?? null;
  }

  async recordVerdict(application: string, kind: string, code: string, now: number): Promise<VerdictChange> {
    try {
      const res = await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: application, sk: 'verdict', kind, code, since: now },
          // Only a change of kind is written, so a transition event has exactly one author across regions.
          ConditionExpression: 'attribute_not_exists(pk) OR kind <> :kind',
          ExpressionAttributeValues: { ':kind': kind },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { changed: true, previous: (res.Attributes?.kind as string | undefined) ?? null };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return { changed: false, previous: kind };
      throw new StoreError(`could not record the verdict of ${application}`, { cause: err });
    }
  }

  async getVerdict(application: string): Promise<VerdictRecord | null> {
    const res = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: application, sk: 'verdict' },
          ConsistentRead: true,
        }),
      )
      .catch((err) => {
        throw new StoreError(`could not read the verdict of ${application}`, { cause: err });
      });
    if (!res.Item) return null;
    return { kind: String(res.Item.kind), code: String(res.Item.code), since: Number(res.Item.since) };
  }

  async claimPublish(id: string, now: number): Promise<boolean> {
    const parsed = parseIncidentId(id);
    if (!parsed) return false;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: parsed.application, sk: incidentSk(parsed.epoch) },
          UpdateExpression: 'SET publishedAt = :now',
          // One publisher per attempt: concurrent deliveries in one region must not both put the event.
          ConditionExpression:
            'attempt = :attempt AND #status = :requested AND attribute_not_exists(publishedAt)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':now': now, ':attempt': parsed.attempt, ':requested': 'requested' },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw new StoreError(`could not claim the publication of incident ${id}`, { cause: err });
    }
  }

  async releasePublish(id: string, claimedAt: number): Promise<void> {
    const parsed = parseIncidentId(id);
    if (!parsed) return;
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: parsed.application, sk: incidentSk(parsed.epoch) },
          UpdateExpression: 'REMOVE publishedAt',
          ConditionExpression: 'attempt = :attempt AND publishedAt = :at',
          ExpressionAttributeValues: { ':attempt': parsed.attempt, ':at': claimedAt },
        }),
      )
      .catch((err) => {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      });
  }

  async markPublished(id: string, now: number): Promise<void> {
    const parsed = parseIncidentId(id);
    if (!parsed) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: parsed.application, sk: incidentSk(parsed.epoch) },
        UpdateExpression: 'SET publishedAt = :now',
        ConditionExpression: 'attempt = :attempt',
        ExpressionAttributeValues: { ':now': now, ':attempt': parsed.attempt },
      }),
    );
  }

  async getPause(application: string): Promise<PauseRecord | null> {
    const res = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: application, sk: 'pause' },
        ConsistentRead: true,
      }),
    );
    if (!res.Item) return null;
    return {
      pausedBy: String(res.Item.pausedBy),
      pausedAt: Number(res.Item.pausedAt),
      reason: String(res.Item.reason),
    };
  }

  async setPause(application: string, record: PauseRecord): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: application, sk: 'pause', ...record } }),
    );
  }

  async clearPause(application: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: application, sk: 'pause' } }),
    );
  }

  async appendAudit(application: string, incident: string, entry: AuditEntry): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: application,
          sk: `audit#${incident}#${pad(entry.at)}#${entry.step}`,
          incidentId: incident,
          ...entry,
        },
      }),
    );
  }

  async listAudit(application: string, incident: string): Promise<AuditEntry[]> {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': application, ':prefix': `audit#${incident}#` },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map((i) => ({
      at: Number(i.at),
      step: String(i.step),
      outcome: String(i.outcome),
      ...(i.detail ? { detail: i.detail as Record<string, unknown> } : {}),
    }));
  }

  private async readIncident(application: string, epoch: number): Promise<Incident | null> {
    const res = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: application, sk: incidentSk(epoch) },
        ConsistentRead: true,
      }),
    );
    return res.Item ? toIncident(res.Item) : null;
  }
}

function toIncident(item: Record<string, unknown>): Incident {
  const { pk: _pk, sk: _sk, ...rest } = item;
  const i = rest as unknown as Omit<Incident, 'id'>;
  return { ...i, id: incidentId(i.application, Number(i.epoch), Number(i.attempt)) };
}
