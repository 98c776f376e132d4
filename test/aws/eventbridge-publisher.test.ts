import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { EVENT_SOURCE, EventBridgePublisher } from '#adapters/aws/eventbridge-publisher.js';
import { TransientError } from '#core/errors.js';
import { motoClient, motoQuery, unique, xmlText } from '../support/moto-clients.js';

const REGION = 'us-east-2';

/** A Cutover bus in moto with a rule on source "cutover" that delivers to an SQS queue we can read. */
async function busWithQueue() {
  const events = motoClient(EventBridgeClient, REGION);
  const bus = unique('cutover-bus');
  await events.send(new CreateEventBusCommand({ Name: bus }));
  const queue = unique('events');
  const queueUrl = xmlText(
    await motoQuery('sqs', REGION, { Action: 'CreateQueue', QueueName: queue }),
    'QueueUrl',
  )!;
  await events.send(
    new PutRuleCommand({
      Name: 'all-cutover',
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'all-cutover',
      EventBusName: bus,
      Targets: [{ Id: 'queue', Arn: `arn:aws:sqs:${REGION}:123456789012:${queue}` }],
    }),
  );
  const received = async () => {
    const xml = await motoQuery('sqs', REGION, {
      Action: 'ReceiveMessage',
      QueueUrl: queueUrl,
      MaxNumberOfMessages: '10',
    });
    return [...xml.matchAll(/<Body>([\s\S]*?)<\/Body>/g)].map((m) => JSON.parse(xmlText(m[0], 'Body')!));
  };
  return { events, bus, received };
}

describe('EventBridgePublisher on moto', () => {
  it('puts the event on the Cutover bus, where a rule on source "cutover" delivers it', async () => {
    const { events, bus, received } = await busWithQueue();
    await new EventBridgePublisher(events, bus).publish('Failover Completed', {
      incidentId: 'i-1',
      rtoMs: 41_000,
    });
    const [event, ...more] = await received();
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      source: 'cutover',
      'detail-type': 'Failover Completed',
      detail: { incidentId: 'i-1', rtoMs: 41_000 },
      region: REGION,
    });
  });

  it('an entry that the bus refuses (call accepted, FailedEntryCount 1) is an error naming its code', async () => {
    const { events, bus, received } = await busWithQueue();
    const err = await new EventBridgePublisher(events, bus).publish('', { x: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(
      new RegExp(` was refused by ${bus}: InvalidArgument Parameter DetailType is not valid`),
    );
    expect(await received()).toEqual([]);
  });

  it('a bus that does not exist is an error, not a silent drop', async () => {
    const { events } = await busWithQueue();
    const err = await new EventBridgePublisher(events, unique('no-bus'))
      .publish('Failover Failed', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(((err as Error).cause as Error).name).toBe('ResourceNotFoundException');
  });
});
