import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';

export type BatchHandler = (
  records: _Record[],
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

export interface StreamPollerOptions {
  endpoint: string;
  tableName: string;
  client: DynamoDBClient;
  handler: BatchHandler;
  batchSize?: number;
  pollIntervalMs?: number;
  /** Attempts per batch before its failed records are given up (and reported to onGiveUp). */
  maxAttempts?: number;
  onGiveUp?: (records: _Record[], error: unknown) => void;
  onError?: (error: unknown) => void;
  /** Start from the oldest record (TRIM_HORIZON) or only new ones (LATEST). */
  from?: 'TRIM_HORIZON' | 'LATEST';
}

/**
 * Stands in for Lambda's DynamoDB event source mapping: polls every shard of the table's stream, hands
 * batches in order to the handler, and on reported batch item failures retries from the first failed
 * record (Lambda checkpoints at the lowest failed sequence number; AWS Lambda developer guide,
 * "Configuring partial batch response with DynamoDB and Lambda"). One poller per consumer region.
 */
export class StreamPoller {
  private readonly streams: DynamoDBStreamsClient;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly iterators = new Map<string, string | null>();
  /** The last sequence number handed over per shard, to resume after an iterator goes bad. */
  private readonly lastSeq = new Map<string, string>();
  private wake: (() => void) | undefined;
  delivered = 0;

  constructor(private readonly opts: StreamPollerOptions) {
    this.streams = new DynamoDBStreamsClient({
      endpoint: opts.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  async start(): Promise<void> {
    const table = await this.opts.client.send(new DescribeTableCommand({ TableName: this.opts.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.opts.tableName} has no stream`);
    await this.discoverShards(arn, this.opts.from ?? 'LATEST');
    this.running = true;
    this.loop = this.run(arn);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.streams.destroy();
  }

  private async discoverShards(arn: string, from: 'TRIM_HORIZON' | 'LATEST'): Promise<void> {
    const desc = await this.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    for (const shard of desc.StreamDescription?.Shards ?? []) {
      const id = shard.ShardId;
      if (!id || this.iterators.has(id)) continue;
      // A shard found after start is new: read it from its beginning so nothing written to it is missed.
      const type = this.iterators.size === 0 && !this.running ? from : 'TRIM_HORIZON';
      const it = await this.streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: id, ShardIteratorType: type }),
      );
      this.iterators.set(id, it.ShardIterator ?? null);
    }
  }

  private async run(arn: string): Promise<void> {
    let sinceDiscovery = 0;
    while (this.running) {
      let got = 0;
      try {
        for (const [shard, iterator] of this.iterators) {
          if (!iterator) continue;
          let res: Awaited<ReturnType<typeof this.getRecords>>;
          try {
            res = await this.getRecords(iterator);
          } catch (err) {
            // DynamoDB Local trims and expires iterators: resume after the last record handed over.
            const name = (err as Error).name;
            if (name !== 'TrimmedDataAccessException' && name !== 'ExpiredIteratorException') throw err;
            const after = this.lastSeq.get(shard);
            const it = await this.streams.send(
              new GetShardIteratorCommand({
                StreamArn: arn,
                ShardId: shard,
                ...(after
                  ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
                  : { ShardIteratorType: 'TRIM_HORIZON' }),
              }),
            );
            this.iterators.set(shard, it.ShardIterator ?? null);
            continue;
          }
          this.iterators.set(shard, res.NextShardIterator ?? null);
          const records = res.Records ?? [];
          if (records.length) {
            got += records.length;
            await this.deliver(records);
            const seq = records.at(-1)?.dynamodb?.SequenceNumber;
            if (seq) this.lastSeq.set(shard, seq);
          }
        }
        if (++sinceDiscovery >= 10) {
          sinceDiscovery = 0;
          await this.discoverShards(arn, 'TRIM_HORIZON');
        }
      } catch (err) {
        if (!this.running) break;
        this.opts.onError?.(err);
      }
      if (got === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.pollIntervalMs ?? 100);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  }

  private getRecords(iterator: string) {
    return this.streams.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: this.opts.batchSize ?? 100 }),
    );
  }

  private async deliver(batch: _Record[]): Promise<void> {
    let pending = batch;
    const maxAttempts = this.opts.maxAttempts ?? 3;
    for (let attempt = 1; pending.length; attempt++) {
      let failedFrom = -1;
      let error: unknown;
      try {
        const { batchItemFailures } = await this.opts.handler(pending);
        const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
        failedFrom = pending.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
      } catch (err) {
        // A thrown handler fails the whole batch, as in Lambda.
        failedFrom = 0;
        error = err;
      }
      if (failedFrom < 0) {
        this.delivered += pending.length;
        return;
      }
      this.delivered += failedFrom;
      pending = pending.slice(failedFrom);
      if (attempt >= maxAttempts) {
        this.opts.onGiveUp?.(pending, error);
        return;
      }
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
