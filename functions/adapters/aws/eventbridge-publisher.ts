import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import { TransientError } from '#core/errors.js';
import type { EventPublisher } from '#core/ports.js';

export const EVENT_SOURCE = 'cutover';

/**
 * Puts one event on the Cutover bus. PutEvents can succeed as a call and still fail the entry
 * (FailedEntryCount, AWS EventBridge API reference), so the entry's own result is checked.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    let res: PutEventsCommandOutput;
    try {
      res = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.busName,
              Source: EVENT_SOURCE,
              DetailType: detailType,
              Detail: JSON.stringify(detail),
            },
          ],
        }),
      );
    } catch (err) {
      throw new TransientError(`could not put ${detailType} on ${this.busName}`, { cause: err });
    }
    if (res.FailedEntryCount) {
      const entry = res.Entries?.[0];
      throw new TransientError(
        `${detailType} was refused by ${this.busName}: ${entry?.ErrorCode} ${entry?.ErrorMessage}`,
      );
    }
  }
}
