import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { LostRaceError } from '#core/errors.js';
import type { GamedayMarker, GamedayMarkerStore } from '#core/gameday.js';
import { parseItem } from './control/items.js';
import { storeError } from './store-errors.js';

/**
 * The game-day marker in the control table: one item per (application, region), partition key the application
 * (so the application's lease-keeper policy, pinned to that partition by dynamodb:LeadingKeys, may read it), sort
 * key `gameday#<region>`. `until` is a plain attribute, not a TTL: an MRSC table has none, and the check compares
 * it with its clock, so the marker stops failing at `until` even if nobody deletes it.
 */
export const gamedayMarkerKey = (application: string, region: string) => ({
  pk: application,
  sk: `gameday#${region}`,
});

const markerItem = z.object({
  application: z.string().min(1),
  region: z.string().min(1),
  startedAt: z.number().int().nonnegative(),
  until: z.number().int().nonnegative(),
  by: z.string(),
  reason: z.string(),
});

export class DynamoGamedayMarkerStore implements GamedayMarkerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readMarker(application: string, region: string, signal?: AbortSignal): Promise<GamedayMarker | null> {
    const what = `read the game-day marker of ${application} in ${region}`;
    try {
      const res = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: gamedayMarkerKey(application, region),
          ConsistentRead: true,
        }),
        signal ? { abortSignal: signal } : {},
      );
      return res.Item ? parseItem(markerItem, 'game-day marker', res.Item) : null;
    } catch (err) {
      throw storeError(err, what);
    }
  }

  async putMarker(marker: GamedayMarker): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...gamedayMarkerKey(marker.application, marker.region), ...marker },
        }),
      );
    } catch (err) {
      throw storeError(err, `put the game-day marker of ${marker.application} in ${marker.region}`);
    }
  }

  async removeMarker(application: string, region: string, startedAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: gamedayMarkerKey(application, region),
          // Only this game day's own marker: another operator's later one stays.
          ConditionExpression: 'startedAt = :mine',
          ExpressionAttributeValues: { ':mine': startedAt },
        }),
      );
      return true;
    } catch (err) {
      const e = storeError(err, `delete the game-day marker of ${application} in ${region}`);
      if (e instanceof LostRaceError) return false;
      throw e;
    }
  }
}
