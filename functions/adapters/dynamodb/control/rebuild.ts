import { z } from 'zod';
import type { RebuildMark } from '#core/eligibility.js';
import { LostRaceError } from '#core/errors.js';
import type { RebuildStore } from '#core/ports.js';
import { type ControlTable, keys, parseItem } from './items.js';

const rebuildItem = z.object({
  region: z.string().min(1),
  since: z.number(),
  incidentId: z.string().min(1),
  reason: z.string(),
});

const toMark = (item: Record<string, unknown>): RebuildMark => {
  const { region, since, incidentId, reason } = parseItem(rebuildItem, 'rebuild', item);
  return { region, since, incidentId, reason };
};

/** The regions that need a rebuild, one item each. Both writes are conditional: the older mark wins. */
export class DynamoRebuildStore implements RebuildStore {
  constructor(private readonly table: ControlTable) {}

  async getRebuild(application: string, region: string): Promise<RebuildMark | null> {
    const item = await this.table.get(
      keys.rebuild(application, region),
      `read the rebuild mark of ${region}`,
    );
    return item ? toMark(item) : null;
  }

  async listRebuilds(application: string): Promise<RebuildMark[]> {
    const items = await this.table.query(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': application, ':prefix': keys.rebuildPrefix },
      },
      `list the rebuild marks of ${application}`,
    );
    return items.map(toMark);
  }

  async markRebuild(application: string, mark: RebuildMark): Promise<void> {
    try {
      await this.table.put(
        {
          Item: { ...keys.rebuild(application, mark.region), ...mark },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        `mark ${mark.region} for rebuild`,
      );
    } catch (err) {
      // Marked already: the earlier divergence is the one a rebuild must cover.
      if (!(err instanceof LostRaceError)) throw err;
    }
  }

  async clearRebuild(application: string, region: string, since: number): Promise<void> {
    try {
      await this.table.delete(
        {
          Key: keys.rebuild(application, region),
          ConditionExpression: 'since = :since',
          ExpressionAttributeValues: { ':since': since },
        },
        `clear the rebuild mark of ${region}`,
      );
    } catch (err) {
      // Cleared already, or marked again since: the newer mark stands.
      if (!(err instanceof LostRaceError)) throw err;
    }
  }
}
