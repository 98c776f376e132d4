import { LostRaceError } from '#core/errors.js';
import { parseIncidentId } from '#core/incident.js';
import type { PublicationClaims } from '#core/ports.js';
import { type ControlTable, keys } from './items.js';

/** Who puts an incident's `Failover Requested` event: a claim stamped on the incident item. */
export class DynamoPublicationClaims implements PublicationClaims {
  constructor(private readonly table: ControlTable) {}

  async claimPublish(id: string, now: number): Promise<boolean> {
    const parsed = parseIncidentId(id);
    if (!parsed) return false;
    try {
      await this.table.update(
        {
          Key: keys.incident(parsed.application, parsed.epoch),
          UpdateExpression: 'SET publishedAt = :now',
          // One publisher per attempt: concurrent deliveries in one region must not both put the event.
          ConditionExpression:
            'attempt = :attempt AND #status = :requested AND attribute_not_exists(publishedAt)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':now': now, ':attempt': parsed.attempt, ':requested': 'requested' },
        },
        `claim the publication of incident ${id}`,
      );
      return true;
    } catch (err) {
      if (err instanceof LostRaceError) return false;
      throw err;
    }
  }

  async releasePublish(id: string, claimedAt: number): Promise<void> {
    const parsed = parseIncidentId(id);
    if (!parsed) return;
    try {
      await this.table.update(
        {
          Key: keys.incident(parsed.application, parsed.epoch),
          UpdateExpression: 'REMOVE publishedAt',
          ConditionExpression: 'attempt = :attempt AND publishedAt = :at',
          ExpressionAttributeValues: { ':attempt': parsed.attempt, ':at': claimedAt },
        },
        `release the publication of incident ${id}`,
      );
    } catch (err) {
      // Someone else's claim, or none: nothing of ours to hand back.
      if (!(err instanceof LostRaceError)) throw err;
    }
  }

  async markPublished(id: string, now: number): Promise<void> {
    const parsed = parseIncidentId(id);
    if (!parsed) return;
    // LostRaceError when the incident is gone or at another attempt: that attempt's event is not ours to mark.
    await this.table.update(
      {
        Key: keys.incident(parsed.application, parsed.epoch),
        UpdateExpression: 'SET publishedAt = :now',
        ConditionExpression: 'attempt = :attempt',
        ExpressionAttributeValues: { ':now': now, ':attempt': parsed.attempt },
      },
      `mark incident ${id} published`,
    );
  }
}
