import { LostRaceError, StoreError } from '#core/errors.js';
import { type Incident, type IncidentStatus, parseIncidentId } from '#core/incident.js';
import type {
  IncidentClaim,
  IncidentClose,
  IncidentCreate,
  IncidentProgress,
  IncidentRequest,
  IncidentStore,
  IncidentTakeover,
} from '#core/ports.js';
import { ATTEMPT_FIELDS, toIncident } from './incident-item.js';
import { type ControlTable, keys } from './items.js';
import { claimRefusal, closeRefusal, malformedId, progressRefusal, takeoverRefusal } from './refusals.js';

/**
 * Incidents on the control table. The incident item is keyed by (application, epoch) and created or reopened
 * by one conditional update, which is what makes one winner across racing regions and duplicate deliveries
 * (I4); every later change is conditional on the attempt and on who holds it.
 */
export class DynamoIncidentStore implements IncidentStore {
  constructor(private readonly table: ControlTable) {}

  async requestIncident(request: IncidentRequest, now: number): Promise<IncidentCreate> {
    const fields: Record<string, unknown> = { ...request, status: 'requested' };
    const names: Record<string, string> = { '#status': 'status', '#reopenAfter': 'reopenAfter' };
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
    const removes = ATTEMPT_FIELDS.filter((k) => !(k in fields));
    for (const k of removes) names[`#${k}`] = k;
    try {
      const res = await this.table.update(
        {
          Key: keys.incident(request.application, request.epoch),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.map((k) => `#${k}`).join(', ')}` : ''}`,
          ConditionExpression:
            // An aborted or failed attempt may be followed by a new one at the same epoch once its hold-off
            // is over; a failure after the fence never gets here (the aggregator stands aside while the
            // lease is revoked), so this only retries failovers that failed before changing anything.
            'attribute_not_exists(pk) OR (#status IN (:aborted, :failed) AND (attribute_not_exists(#reopenAfter) OR #reopenAfter <= :now))',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        },
        `request an incident for ${request.application}`,
      );
      return { created: true, incident: toIncident(res.Attributes ?? {}) };
    } catch (err) {
      if (!(err instanceof LostRaceError)) throw err;
      return { created: false, existing: await this.read(request.application, request.epoch) };
    }
  }

  async getIncident(id: string): Promise<Incident | null> {
    const parsed = parseIncidentId(id);
    if (!parsed) return null;
    const incident = await this.read(parsed.application, parsed.epoch);
    return incident && incident.attempt === parsed.attempt ? incident : null;
  }

  async claimIncident(id: string, executionArn: string, now: number): Promise<IncidentClaim> {
    const parsed = parseIncidentId(id);
    if (!parsed) return { claimed: false, incident: null, reason: malformedId(id) };
    try {
      const res = await this.table.update(
        {
          Key: keys.incident(parsed.application, parsed.epoch),
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
        },
        `claim incident ${id}`,
      );
      return { claimed: true, incident: toIncident(res.Attributes ?? {}) };
    } catch (err) {
      if (!(err instanceof LostRaceError)) throw err;
      const incident = await this.getIncident(id);
      return { claimed: false, incident, reason: claimRefusal(id, executionArn, incident) };
    }
  }

  async recordProgress(
    id: string,
    executionArn: string,
    progress: { at: number; step: string; quietUntil?: number },
  ): Promise<IncidentProgress> {
    const parsed = parseIncidentId(id);
    if (!parsed) return { owned: false, incident: null, reason: malformedId(id) };
    const quiet = progress.quietUntil !== undefined;
    try {
      await this.table.update(
        {
          Key: keys.incident(parsed.application, parsed.epoch),
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
        },
        `record the progress of incident ${id}`,
      );
      return { owned: true };
    } catch (err) {
      if (!(err instanceof LostRaceError)) throw err;
      const incident = await this.getIncident(id);
      return { owned: false, incident, reason: progressRefusal(id, executionArn, incident) };
    }
  }

  async openIncident(application: string, fromEpoch: number, toEpoch: number): Promise<Incident | null> {
    const items = await this.table.query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': application,
          ':from': keys.incident(application, fromEpoch).sk,
          ':to': keys.incident(application, toEpoch).sk,
        },
        ScanIndexForward: false,
      },
      `list the open incidents of ${application}`,
    );
    return items.map(toIncident).find((i) => i.status === 'requested' || i.status === 'running') ?? null;
  }

  async takeOverIncident(seen: Incident, by: string, now: number): Promise<IncidentTakeover> {
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
      const res = await this.table.update(
        {
          Key: keys.incident(seen.application, seen.epoch),
          UpdateExpression:
            'SET #status = :requested, requestedBy = :by, takenOverFrom = :from, takenOverAt = :now, progressAt = :now, ' +
            'takeovers = if_not_exists(takeovers, :zero) + :one ' +
            'REMOVE executionArn, claimedAt, publishedAt, progressStep, quietUntil',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        },
        `take over incident ${seen.id}`,
      );
      return { takenOver: true, incident: toIncident(res.Attributes ?? {}) };
    } catch (err) {
      if (!(err instanceof LostRaceError)) throw err;
      const incident = await this.getIncident(seen.id);
      return { takenOver: false, incident, reason: takeoverRefusal(seen.id, incident) };
    }
  }

  async closeIncident({ id, status, reason, now, reopenAfter, owner }: IncidentClose): Promise<Incident> {
    const parsed = parseIncidentId(id);
    if (!parsed) throw new StoreError(malformedId(id));
    const ownership =
      'any' in owner
        ? ''
        : 'unclaimed' in owner
          ? ' AND attribute_not_exists(executionArn)'
          : ' AND executionArn = :owner';
    try {
      const res = await this.table.update(
        {
          Key: keys.incident(parsed.application, parsed.epoch),
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
            ...('execution' in owner ? { ':owner': owner.execution } : {}),
          },
          ReturnValues: 'ALL_NEW',
        },
        `close incident ${id}`,
      );
      return toIncident(res.Attributes ?? {});
    } catch (err) {
      if (!(err instanceof LostRaceError)) throw err;
      const current = await this.getIncident(id);
      return closeRefusal({ id, status, owner }, current, err);
    }
  }

  async lastCompletedFailover(application: string): Promise<Incident | null> {
    return this.lastClosedIncident(application, ['completed']);
  }

  async lastClosedIncident(
    application: string,
    statuses: readonly IncidentStatus[],
  ): Promise<Incident | null> {
    const items = await this.table.query(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': application, ':prefix': keys.incidentPrefix },
        ScanIndexForward: false,
        Limit: 20,
      },
      `list the incidents of ${application}`,
    );
    return items.map(toIncident).find((i) => statuses.includes(i.status)) ?? null;
  }

  private async read(application: string, epoch: number): Promise<Incident | null> {
    const item = await this.table.get(
      keys.incident(application, epoch),
      `read the incident of ${application} at epoch ${epoch}`,
    );
    return item ? toIncident(item) : null;
  }
}
