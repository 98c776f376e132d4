import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { MetricsError } from '#core/failover-errors.js';
import type { QueueBacklogReader } from '#core/health.js';
import type { Clock } from '#core/ports.js';
import { mapAwsError } from './aws-errors.js';

/**
 * The queue-backlog check's reading: SQS's `ApproximateAgeOfOldestMessage` (seconds, namespace AWS/SQS, dimension
 * QueueName), the newest minute's maximum. SQS reports it only while the queue holds at least one active message
 * ("Available CloudWatch metrics for Amazon SQS", Amazon SQS developer guide,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
 * so no datapoint in the lookback means nothing is waiting: null.
 */
export class CloudWatchQueueBacklogReader implements QueueBacklogReader {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly clock: Clock,
    private readonly lookbackMs = 5 * 60_000,
  ) {}

  async oldestMessageAgeSeconds(queue: string, signal: AbortSignal): Promise<number | null> {
    const now = this.clock.now();
    try {
      const res = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            {
              Id: 'age',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/SQS',
                  MetricName: 'ApproximateAgeOfOldestMessage',
                  Dimensions: [{ Name: 'QueueName', Value: queue }],
                },
                Period: 60,
                Stat: 'Maximum',
              },
              ReturnData: true,
            },
          ],
          StartTime: new Date(now - this.lookbackMs),
          EndTime: new Date(now),
          ScanBy: 'TimestampDescending',
        }),
        { abortSignal: signal },
      );
      const value = res.MetricDataResults?.find((m) => m.Id === 'age')?.Values?.[0];
      return value === undefined ? null : Math.round(value);
    } catch (err) {
      throw mapAwsError(err, `read ApproximateAgeOfOldestMessage of ${queue}`, MetricsError);
    }
  }
}
