import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore, parseStoredVote } from '#adapters/dynamodb/vote-store.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import { aggregate } from '#commons/aggregate.js';
import { decide } from '#core/decide.js';
import { type Vote, voteKey } from '#core/vote.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig, vote } from '../support/fixtures.js';

const NOW = 1_800_000_000_000;
const config = exampleConfig();
const context = { primary: 'us-east-1', standby: 'us-west-2' };
const unhealthyForAnHour = (voter: string) =>
  vote({ voter, target: 'us-east-1', healthy: false, seq: 1_000_000, streakSince: NOW - 3_600_000 }, NOW);

/**
 * One compromised watcher files items that name the real watchers, unhealthy for an hour and with a huge seq,
 * under keys its role may be allowed to write: keys of its own making, and the partition every vote about the
 * target shared before the voter moved into the partition key. Read naively (every item about the target, the
 * newest vote per voter wins), five forged items outvote five honest healthy ones.
 */
function forgeries(): Record<string, unknown>[] {
  return config.watchers.flatMap((voter, i) => [
    { pk: `orders#us-east-1#forged-${i}`, sk: voter, ...unhealthyForAnHour(voter) },
    { pk: 'orders#us-east-1', sk: voter, ...unhealthyForAnHour(voter) },
  ]);
}

describe('forged and misfiled votes (DynamoDB Local)', () => {
  let t: Awaited<ReturnType<typeof freshTables>>;
  let store: DynamoVoteStore;
  const refused: string[] = [];
  const putRaw = (Item: Record<string, unknown>) =>
    t.doc.send(new PutCommand({ TableName: t.names.votes, Item }));

  beforeEach(async () => {
    t = await freshTables('forge');
    refused.length = 0;
    store = new DynamoVoteStore(t.doc, t.names.votes, config.watchers, (_m, f) =>
      refused.push(String(f.reason)),
    );
    for (const voter of config.watchers) {
      await store.put(vote({ voter, target: 'us-east-1', healthy: true, seq: 5 }, NOW));
    }
  });

  it('files each vote under a partition key that names its voter (what IAM pins each watcher to)', async () => {
    const items = (await t.doc.send(new ScanCommand({ TableName: t.names.votes }))).Items ?? [];
    expect(items.map((i) => `${i.pk}/${i.sk}`).sort()).toEqual(
      config.watchers.map((w) => `orders#us-east-1#${w}/${w}`).sort(),
    );
  });

  it('reads only the configured watchers’ own keys: forgeries under any other key are never even read', async () => {
    for (const item of forgeries()) await putRaw(item);
    const votes = await store.list('orders', 'us-east-1');
    expect(votes.map((v) => v.voter)).toEqual([...config.watchers].sort());
    expect(votes.every((v) => v.healthy && v.seq === 5)).toBe(true);
    expect(refused).toEqual([]);
    expect(decide(votes, config, NOW, context).kind).toBe('healthy');
  });

  it('the same table read naively (every item about the target) would fail the primary over: the read has teeth', async () => {
    for (const item of forgeries()) await putRaw(item);
    const all = (await t.doc.send(new ScanCommand({ TableName: t.names.votes }))).Items ?? [];
    const naive = all.map(({ pk: _pk, sk: _sk, ...v }) => v as Vote);
    const standby = config.watchers.map((voter) =>
      vote({ voter, target: 'us-west-2', healthy: true, seq: 5 }, NOW),
    );
    expect(decide([...naive, ...standby], config, NOW, context)).toMatchObject({
      kind: 'failover',
      code: 'QUORUM_UNHEALTHY',
    });
  });

  it('refuses a vote filed under one watcher’s key that signs as another: a watcher speaks only for itself', async () => {
    // The only forgery IAM still lets a compromised eu-west-1 write: its own key.
    await putRaw({ ...voteKey('orders', 'us-east-1', 'eu-west-1'), ...unhealthyForAnHour('ca-central-1') });
    const votes = await store.list('orders', 'us-east-1');
    expect(votes.map((v) => v.voter)).toEqual(config.watchers.filter((w) => w !== 'eu-west-1').sort());
    expect(votes.find((v) => v.voter === 'ca-central-1')).toMatchObject({ healthy: true, seq: 5 });
    expect(refused).toEqual([
      'filed under orders#us-east-1#eu-west-1/eu-west-1 but signed ca-central-1 (read for eu-west-1)',
    ]);
    const checked = parseStoredVote(
      { ...voteKey('orders', 'us-east-1', 'ca-central-1'), ...unhealthyForAnHour('ca-central-1') },
      { application: 'orders', target: 'us-east-1', voter: 'eu-west-1' },
    );
    expect(checked).toMatchObject({ ok: false });
  });

  it('never reads a vote of a voter that is not a configured watcher, however well filed', async () => {
    const watchers = config.watchers.filter((w) => w !== 'sa-east-1');
    const fewer = new DynamoVoteStore(t.doc, t.names.votes, watchers);
    const votes = await fewer.list('orders', 'us-east-1');
    expect(votes.map((v) => v.voter)).toEqual([...watchers].sort());
  });

  it('refuses a vote about another region filed under this region, and a vote about another application', async () => {
    const aboutStandby = vote({ voter: 'eu-west-1', target: 'us-west-2', healthy: false, seq: 99 }, NOW);
    await putRaw({ ...voteKey('orders', 'us-east-1', 'eu-west-1'), ...aboutStandby });
    expect(await store.get('orders', 'us-east-1', 'eu-west-1')).toBeUndefined();
    expect(refused.at(-1)).toMatch(/a vote about orders\/us-west-2 read for orders\/us-east-1/);
    await putRaw({
      ...voteKey('orders', 'us-east-1', 'ca-central-1'),
      ...vote({ voter: 'ca-central-1', target: 'us-east-1', seq: 99 }, NOW),
      application: 'billing',
    });
    const votes = await store.list('orders', 'us-east-1');
    expect(votes.map((v) => v.voter)).not.toContain('ca-central-1');
    expect(votes.map((v) => v.voter)).not.toContain('eu-west-1');
  });

  it('refuses a malformed item with the field that is wrong, and keeps the honest votes', async () => {
    await putRaw({ ...voteKey('orders', 'us-east-1', 'sa-east-1'), voter: 'sa-east-1', healthy: 'no' });
    const votes = await store.list('orders', 'us-east-1');
    expect(votes).toHaveLength(4);
    expect(refused.at(-1)).toMatch(/^not a vote: /);
  });
});

describe('forged votes at the aggregator (DynamoDB Local)', () => {
  it('every item one compromised watcher can write, and those it cannot read back, leave five healthy votes healthy', async () => {
    const t = await freshTables('forga');
    const store = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    for (const voter of config.watchers) {
      await store.put(vote({ voter, target: 'us-east-1', healthy: true, seq: 5 }, NOW));
      await store.put(vote({ voter, target: 'us-west-2', healthy: true, seq: 5 }, NOW));
    }
    // Keys of its own making, the partition every vote about the target used to share (where the honest votes
    // themselves lived, and where an unscoped role could overwrite them), and its own key signed as another.
    const items = [
      ...forgeries(),
      { ...voteKey('orders', 'us-east-1', 'eu-west-1'), ...unhealthyForAnHour('ca-central-1') },
    ];
    for (const Item of items) await t.doc.send(new PutCommand({ TableName: t.names.votes, Item }));
    const events = new RecordingPublisher(() => NOW);
    const honest = vote({ voter: 'sa-east-1', target: 'us-east-1', healthy: true, seq: 5 }, NOW);
    const record = {
      eventName: 'MODIFY',
      dynamodb: {
        SequenceNumber: '1',
        NewImage: marshall({ ...voteKey('orders', 'us-east-1', 'sa-east-1'), ...honest }),
      },
    };
    const result = await aggregate([record], {
      config,
      region: 'us-east-2',
      votes: store,
      leases: new DynamoLeaseStore(t.doc, t.names.control, config.lease, { now: () => NOW }),
      control: new DynamoControlStore(t.doc, t.names.control),
      events,
      clock: { now: () => NOW },
    });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.decisions[0]?.verdict).toMatchObject({ kind: 'healthy', code: 'ALL_HEALTHY' });
    expect(result.decisions[0]?.verdict?.evidence.fresh.every((v) => v.healthy)).toBe(true);
    expect(events.ofType('Failover Requested')).toHaveLength(0);
  });
});
