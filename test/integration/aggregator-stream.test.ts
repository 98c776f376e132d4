import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import { type AggregatorDeps, aggregate } from '#commons/aggregate.js';
import type { CutoverConfig } from '#core/config.js';
import { StreamPoller } from '../../infra/local/stream-poller.js';
import { freshTables } from '../support/dynamodb.js';
import { eventErrors } from '../support/event-schemas.js';
import { exampleConfig, vote } from '../support/fixtures.js';

const NOW = 1_800_000_000_000;
const clock = { now: () => NOW };

async function readStream(
  endpoint: string,
  raw: import('@aws-sdk/client-dynamodb').DynamoDBClient,
  table: string,
) {
  const streams = new DynamoDBStreamsClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const arn = (await raw.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn;
  const desc = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  const records: _Record[] = [];
  for (const shard of desc.StreamDescription?.Shards ?? []) {
    let it = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    for (let i = 0; it && i < 5; i++) {
      const res = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
      records.push(...(res.Records ?? []));
      if (!res.Records?.length) break;
      it = res.NextShardIterator;
    }
  }
  streams.destroy();
  return records;
}

describe('aggregator on the real votes stream (DynamoDB Local)', () => {
  let t: Awaited<ReturnType<typeof freshTables>>;
  let config: CutoverConfig;
  let events: RecordingPublisher;
  let deps: (region: string) => AggregatorDeps;

  beforeEach(async () => {
    t = await freshTables('agg');
    config = exampleConfig();
    events = new RecordingPublisher(clock.now);
    deps = (region) => ({
      config,
      region,
      votes: new DynamoVoteStore(t.doc, t.names.votes, config.watchers),
      leases: new DynamoLeaseStore(t.doc, t.names.control, config.lease, clock),
      control: new DynamoControlStore(t.doc, t.names.control),
      events,
      clock,
    });
  });

  async function writeVotes(unhealthyVoters: string[], opts: { since?: number } = {}) {
    const store = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    for (const voter of config.watchers) {
      const unhealthy = unhealthyVoters.includes(voter);
      await store.put(
        vote(
          {
            voter,
            target: 'us-east-1',
            healthy: !unhealthy,
            detail: unhealthy ? 'refused' : 'ok 200',
            streakSince: opts.since ?? NOW - 60_000,
            seq: 1,
          },
          NOW,
        ),
      );
      await store.put(vote({ voter, target: 'us-west-2', seq: 1 }, NOW));
    }
  }

  it('requests exactly one failover when a quorum is unhealthy past the debounce window', async () => {
    await writeVotes(config.watchers);
    const records = await readStream(t.endpoint, t.raw, t.names.votes);
    expect(records.length).toBe(10);
    const result = await aggregate(records, deps('us-east-2'));
    expect(result.batchItemFailures).toEqual([]);
    expect(result.decisions[0]?.outcome).toEqual({ action: 'requested', incidentId: 'orders:0:1' });
    const requested = events.ofType('Failover Requested');
    expect(requested).toHaveLength(1);
    expect(requested[0]?.detail).toMatchObject({
      from: 'us-east-1',
      to: 'us-west-2',
      epoch: 0,
      needsApproval: false,
    });
  });

  it('asks a person, with a data-loss warning, for a standby marked for rebuild, even under policy proceed', async () => {
    config = exampleConfig((c) => {
      c.approval.ambiguousPolicy = 'proceed';
    });
    await new DynamoControlStore(t.doc, t.names.control).markRebuild('orders', {
      region: 'us-west-2',
      since: NOW - 600_000,
      incidentId: 'orders:0:1',
      reason: 'failover orders:0:1 promoted us-east-1 in its place',
    });
    await writeVotes(config.watchers);
    const result = await aggregate(await readStream(t.endpoint, t.raw, t.names.votes), deps('us-east-2'));
    expect(result.decisions[0]?.verdict).toMatchObject({
      kind: 'failover-needs-approval',
      code: 'QUORUM_UNHEALTHY_AMBIGUOUS',
    });
    expect(result.decisions[0]?.verdict?.ambiguities.map((a) => a.code)).toEqual(['TARGET_NOT_REPLICA']);
    const requested = events.ofType('Failover Requested');
    expect(requested[0]?.detail).toMatchObject({ to: 'us-west-2', needsApproval: true });
    expect(String(requested[0]?.detail.reason)).toMatch(/^approval needed \(DATA LOSS if approved\): /);
  });

  it('proves I4: the same batch twice and two regions concurrently give one incident and one event', async () => {
    await writeVotes(config.watchers);
    const records = await readStream(t.endpoint, t.raw, t.names.votes);
    const [a, b, c] = await Promise.all([
      aggregate(records, deps('us-east-2')),
      aggregate(records, deps('eu-central-1')),
      aggregate(records, deps('us-east-2')),
    ]);
    const again = await aggregate(records, deps('eu-central-1'));
    const outcomes = [a, b, c, again].map((r) => r.decisions[0]?.outcome.action);
    expect(outcomes.filter((o) => o === 'requested')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(3);
    expect(events.ofType('Failover Requested')).toHaveLength(1);
    const incident = await new DynamoControlStore(t.doc, t.names.control).getIncident('orders:0:1');
    expect(incident?.status).toBe('requested');
  });

  it('does not request a failover when only 2 of 5 watchers lose sight of the primary', async () => {
    await writeVotes(config.watchers.slice(0, 2));
    const records = await readStream(t.endpoint, t.raw, t.names.votes);
    const result = await aggregate(records, deps('us-east-2'));
    expect(result.decisions[0]?.verdict?.code).toBe('UNHEALTHY_BELOW_QUORUM');
    expect(events.ofType('Failover Requested')).toHaveLength(0);
    expect(events.ofType('Primary Suspect')).toHaveLength(1);
  });

  it('does not request before the debounce window is covered, then emits Primary Recovered on recovery', async () => {
    await writeVotes(config.watchers, { since: NOW - 5_000 });
    let result = await aggregate(await readStream(t.endpoint, t.raw, t.names.votes), deps('us-east-2'));
    expect(result.decisions[0]?.verdict?.code).toBe('DEBOUNCING');
    const store = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    for (const voter of config.watchers) {
      await store.put(vote({ voter, target: 'us-east-1', seq: 2, streakSince: NOW - 1_500 }, NOW));
    }
    result = await aggregate(await readStream(t.endpoint, t.raw, t.names.votes), deps('us-east-2'));
    expect(result.decisions[0]?.verdict?.kind).toBe('healthy');
    expect(events.events.map((e) => e.detailType)).toEqual(['Primary Suspect', 'Primary Recovered']);
    for (const e of events.events) expect(eventErrors(e.detailType, e.detail)).toEqual([]);
  });

  it('skips malformed and foreign records by rule, never counts them, and loses nothing', async () => {
    await t.doc.send(
      new PutCommand({
        TableName: t.names.votes,
        Item: { pk: 'orders#us-east-1#eu-west-1', sk: 'eu-west-1', healthy: 'nope' },
      }),
    );
    await writeVotes(config.watchers);
    const records = await readStream(t.endpoint, t.raw, t.names.votes);
    const forged: unknown[] = [
      null,
      { eventName: 'INSERT' },
      { eventName: 'INSERT', dynamodb: { SequenceNumber: 'x1', NewImage: { healthy: { Q: 'bad' } } } },
      { eventName: 'REMOVE', dynamodb: { SequenceNumber: 'x2' } },
      { eventName: 'WHAT', dynamodb: { SequenceNumber: 'x3' } },
    ];
    const result = await aggregate([...forged, ...records], deps('us-east-2'));
    expect(result.batchItemFailures).toEqual([]);
    expect(result.skipped.map((s) => s.rule)).toEqual([
      'MALFORMED',
      'MALFORMED',
      'MALFORMED',
      'NOT_A_VOTE_EVENT',
      'MALFORMED',
      'MALFORMED', // the invalid stored item
    ]);
    expect(events.ofType('Failover Requested')).toHaveLength(1);
  });

  it('changes nothing for a batch of malformed records: no decision, no verdict, no event, no retry', async () => {
    const forged: unknown[] = [
      undefined,
      { eventName: 'MODIFY', dynamodb: { SequenceNumber: 'x4', NewImage: {} } },
    ];
    const result = await aggregate(forged, deps('us-east-2'));
    expect(result).toMatchObject({ batchItemFailures: [], decisions: [] });
    expect(result.skipped).toEqual([
      { id: '#0', rule: 'MALFORMED', reason: 'unknown eventName undefined' },
      expect.objectContaining({
        id: 'x4',
        rule: 'MALFORMED',
        reason: expect.stringContaining('not a vote:'),
      }),
    ]);
    expect(await new DynamoControlStore(t.doc, t.names.control).getVerdict('orders')).toBeNull();
    expect(events.events).toEqual([]);
  });

  it('decides past a stored verdict item with no code or since: no retry loop, the item is rewritten whole', async () => {
    // As an older writer or a hand edit could leave it: only the kind is there.
    await t.doc.send(
      new PutCommand({ TableName: t.names.control, Item: { pk: 'orders', sk: 'verdict', kind: 'healthy' } }),
    );
    await writeVotes(config.watchers);
    const records = await readStream(t.endpoint, t.raw, t.names.votes);
    const logged: string[] = [];
    const result = await aggregate(records, { ...deps('us-east-2'), log: (m) => logged.push(m) });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.decisions[0]?.outcome).toEqual({ action: 'requested', incidentId: 'orders:0:1' });
    expect(events.ofType('Failover Requested')).toHaveLength(1);
    expect(logged).toContain('stored verdict is malformed; deciding as if it differed');
    expect(await new DynamoControlStore(t.doc, t.names.control).getVerdict('orders')).toEqual({
      kind: 'failover',
      code: 'QUORUM_UNHEALTHY',
      since: NOW,
    });
  });

  it('decides past a malformed stored verdict of the same kind: the conditional write keeps one author', async () => {
    await t.doc.send(
      new PutCommand({
        TableName: t.names.control,
        Item: { pk: 'orders', sk: 'verdict', kind: 'failover', code: 7 },
      }),
    );
    await writeVotes(config.watchers);
    const result = await aggregate(await readStream(t.endpoint, t.raw, t.names.votes), deps('us-east-2'));
    expect(result.batchItemFailures).toEqual([]);
    expect(result.decisions[0]?.outcome).toEqual({ action: 'requested', incidentId: 'orders:0:1' });
  });

  it('reports every record as a batch item failure when the decision cannot be stored, and a retry succeeds', async () => {
    await writeVotes(config.watchers);
    const records = await readStream(t.endpoint, t.raw, t.names.votes);
    const broken = { ...deps('us-east-2'), control: new DynamoControlStore(t.doc, 'missing-table') };
    const failed = await aggregate(records, broken);
    expect(failed.batchItemFailures).toHaveLength(records.length);
    expect(events.events).toHaveLength(0);
    const retried = await aggregate(records, deps('us-east-2'));
    expect(retried.decisions[0]?.outcome.action).toBe('requested');
  });

  it('re-puts the event when the winner crashed after creating the incident', async () => {
    await writeVotes(config.watchers);
    const records = await readStream(t.endpoint, t.raw, t.names.votes);
    const flaky = new RecordingPublisher();
    flaky.publish = async () => {
      throw new Error('bus unavailable');
    };
    const first = await aggregate(records, { ...deps('us-east-2'), events: flaky });
    expect(first.batchItemFailures).toHaveLength(records.length);
    const other = await aggregate(records, deps('eu-central-1'));
    expect(other.decisions[0]?.outcome.action).toBe('duplicate');
    const retry = await aggregate(records, deps('us-east-2'));
    expect(retry.decisions[0]?.outcome).toEqual({ action: 're-published', incidentId: 'orders:0:1' });
    expect(events.ofType('Failover Requested')).toHaveLength(1);
  });

  it('feeds the aggregator through the stream poller like an event source mapping', async () => {
    const seen: number[] = [];
    const poller = new StreamPoller({
      endpoint: t.endpoint,
      tableName: t.names.votes,
      client: t.raw,
      from: 'TRIM_HORIZON',
      pollIntervalMs: 20,
      handler: async (records) => {
        seen.push(records.length);
        return aggregate(records, deps('us-east-2'));
      },
    });
    await poller.start();
    await writeVotes(config.watchers);
    const deadline = Date.now() + 10_000;
    while (poller.delivered < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await poller.stop();
    expect(poller.delivered).toBe(10);
    expect(events.ofType('Failover Requested')).toHaveLength(1);
  });
});
