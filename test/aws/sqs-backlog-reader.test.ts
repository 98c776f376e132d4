import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CloudWatchQueueBacklogReader } from '#adapters/aws/sqs-backlog-reader.js';
import { systemClock } from '#core/ports.js';
import { healthContract } from '#guard/health.js';
import { queueBacklogCheck } from '#guard/health-checks.js';
import { motoClient, unique } from '../support/moto-clients.js';

const REGION = 'us-east-1';

/** Datapoints as SQS publishes them, `agoMs` before now. */
async function publish(queue: string, points: { agoMs: number; value: number }[]) {
  await motoClient(CloudWatchClient, REGION).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/SQS',
      MetricData: points.map((p) => ({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: queue }],
        Timestamp: new Date(Date.now() - p.agoMs),
        Value: p.value,
        Unit: 'Seconds',
      })),
    }),
  );
}

const reader = () => new CloudWatchQueueBacklogReader(motoClient(CloudWatchClient, REGION), systemClock);
const signal = () => new AbortController().signal;

describe('CloudWatchQueueBacklogReader on moto', () => {
  it("reads the newest minute's maximum age of the queue's oldest message, in seconds", async () => {
    const queue = unique('orders');
    await publish(queue, [
      { agoMs: 200_000, value: 900 },
      { agoMs: 5_000, value: 40 },
      { agoMs: 4_000, value: 42 },
    ]);
    await publish(unique('other'), [{ agoMs: 1_000, value: 9_999 }]);
    expect(await reader().oldestMessageAgeSeconds(queue, signal())).toBe(42);
  });

  it('reads nothing waiting as null: SQS reports the age only while a message is there', async () => {
    expect(await reader().oldestMessageAgeSeconds(unique('empty'), signal())).toBeNull();
  });

  it('drives the queue-backlog check of the health contract, both ways', async () => {
    const queue = unique('backlog');
    await publish(queue, [{ agoMs: 2_000, value: 600 }]);
    const run = healthContract({
      checks: [
        { name: 'queue', kind: 'queue-backlog', weight: 'warn', timeoutMs: 2_000 },
        { name: 'idle', kind: 'queue-backlog', weight: 'warn', timeoutMs: 2_000 },
      ],
      run: {
        queue: queueBacklogCheck(reader(), queue, 300),
        idle: queueBacklogCheck(reader(), unique('idle'), 300),
      },
    });
    const answer = await run();
    expect(answer.statusCode).toBe(200);
    expect(answer.body.status).toBe('degraded');
    expect(answer.body.checks.map((c) => [c.name, c.ok, c.detail])).toEqual([
      ['queue', false, `${queue}: oldest message 600 s > 300 s`],
      ['idle', true, expect.stringMatching(/: no message waiting$/)],
    ]);
  });
});
