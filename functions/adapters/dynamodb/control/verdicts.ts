import { z } from 'zod';
import { LostRaceError } from '#core/errors.js';
import type { VerdictChange, VerdictRecord, VerdictStore } from '#core/ports.js';
import { type ControlTable, keys, parseItem } from './items.js';

const verdictItem = z.object({ kind: z.string().min(1), code: z.string(), since: z.number() });
// Of the item a change replaced, only the kind is read: the write is done, and a bad code there must not undo it.
const replacedVerdict = verdictItem.pick({ kind: true });

/** The last verdict kind per application: the item changes only with the kind, so a transition has one author. */
export class DynamoVerdictStore implements VerdictStore {
  constructor(private readonly table: ControlTable) {}

  async recordVerdict(application: string, kind: string, code: string, now: number): Promise<VerdictChange> {
    try {
      const res = await this.table.put(
        {
          Item: { ...keys.verdict(application), kind, code, since: now },
          // Only a change of kind is written, so a transition event has exactly one author across regions.
          ConditionExpression: 'attribute_not_exists(pk) OR kind <> :kind',
          ExpressionAttributeValues: { ':kind': kind },
          ReturnValues: 'ALL_OLD',
        },
        `record the verdict of ${application}`,
      );
      const previous = res.Attributes ? parseItem(replacedVerdict, 'verdict', res.Attributes).kind : null;
      return { changed: true, previous };
    } catch (err) {
      if (!(err instanceof LostRaceError)) throw err;
      return { changed: false, previous: kind };
    }
  }

  async getVerdict(application: string): Promise<VerdictRecord | null> {
    const item = await this.table.get(keys.verdict(application), `read the verdict of ${application}`);
    return item ? parseItem(verdictItem, 'verdict', item) : null;
  }
}
