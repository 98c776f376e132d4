import { z } from 'zod';
import type { PauseRecord, PauseStore } from '#core/ports.js';
import { type ControlTable, keys, parseItem } from './items.js';

const pauseItem = z.object({ pausedBy: z.string(), pausedAt: z.number(), reason: z.string() });

/** The pause flag: while it is set, the aggregator decides but starts nothing. Last writer wins, on purpose. */
export class DynamoPauseStore implements PauseStore {
  constructor(private readonly table: ControlTable) {}

  async getPause(application: string): Promise<PauseRecord | null> {
    const item = await this.table.get(keys.pause(application), `read the pause of ${application}`);
    return item ? parseItem(pauseItem, 'pause', item) : null;
  }

  async setPause(application: string, record: PauseRecord): Promise<void> {
    await this.table.put({ Item: { ...keys.pause(application), ...record } }, `pause ${application}`);
  }

  async clearPause(application: string): Promise<void> {
    await this.table.delete({ Key: keys.pause(application) }, `resume ${application}`);
  }
}
