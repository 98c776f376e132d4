import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoVoteStore, parseStoredVote, votePk } from '#adapters/dynamodb/vote-store.js';
import { decide } from '#core/decide.js';
import type { Vote } from '#core/vote.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig, vote } from '../support/fixtures.js';

const NOW = 1_800_000_000_000;
const config = exampleConfig();
const context = { primary: 'us-east-1', standby: 'us-west-2' };

/**
 * One compromised watcher with write access to the votes table files items under made-up voter keys that
 * name the real watchers, unhealthy for an hour and with a huge seq. Read naively (the newest vote per voter
 * wins), five forged items outvote five honest healthy ones.
 */
function forgeries(): Record<string, unknown>[] {
  return config.watchers.map((voter, i) => ({
    pk: votePk('orders', 'us-east-1'),
    sk: `forged-${i}`,
    ...vote(
      { voter, target: 'us-east-1', healthy: false, seq: 1_000_000, streakSince: NOW - 3_600_000 },
      NOW,
    ),
  }));
}

describe('forged and misfiled votes (DynamoDB Local)', () => {
  let t: Awaited<ReturnType<typeof freshTables>>;
  let store: DynamoVoteStore;
  const refused: string[] = [];

  beforeEach(async () => {
    t = await freshTables('forge');
    refused.length = 0;
    store = new DynamoVoteStore(t.doc, t.names.votes, (_m, f) => refused.push(String(f.reason)));
    for (const voter of config.watchers) {
      await store.put(vote({ voter, target: 'us-east-1', healthy: true, seq: 5 }, NOW));
    }
  });

  it('reads only items filed under the voter they name: five forgeries change nothing', async () => {
    for (const item of forgeries())
      await t.doc.send(new PutCommand({ TableName: t.names.votes, Item: item }));
    const votes = await store.list('orders', 'us-east-1');
    expect(votes.map((v) => v.voter).sort()).toEqual([...config.watchers].sort());
    expect(votes.every((v) => v.healthy)).toBe(true);
    expect(refused).toHaveLength(5);
    expect(refused[0]).toMatch(/^filed under voter forged-\d but signed /);
    const verdict = decide(votes, config, NOW, context);
    expect(verdict.kind).toBe('healthy');
  });

  it('the same forgeries, read without the key check, would fail the primary over (the check has teeth)', () => {
    const honest = config.watchers.map((voter) =>
      vote({ voter, target: 'us-east-1', healthy: true, seq: 5 }, NOW),
    );
    const naive = forgeries().map(({ pk: _pk, sk: _sk, ...v }) => v as Vote);
    const standby = config.watchers.map((voter) =>
      vote({ voter, target: 'us-west-2', healthy: true, seq: 5 }, NOW),
    );
    expect(decide([...honest, ...naive, ...standby], config, NOW, context)).toMatchObject({
      kind: 'failover',
      code: 'QUORUM_UNHEALTHY',
    });
    const checked = forgeries().map((item) =>
      parseStoredVote(item, { application: 'orders', target: 'us-east-1' }),
    );
    expect(checked.every((r) => !r.ok)).toBe(true);
  });

  it('refuses a vote about another region filed under this region, and a vote about another application', async () => {
    const aboutStandby = vote({ voter: 'eu-west-1', target: 'us-west-2', healthy: false, seq: 99 }, NOW);
    await t.doc.send(
      new PutCommand({
        TableName: t.names.votes,
        Item: { pk: votePk('orders', 'us-east-1'), sk: 'eu-west-1', ...aboutStandby },
      }),
    );
    expect(await store.get('orders', 'us-east-1', 'eu-west-1')).toBeUndefined();
    expect(refused.at(-1)).toMatch(/a vote about orders\/us-west-2 read for orders\/us-east-1/);
    const otherApp = {
      pk: votePk('orders', 'us-east-1'),
      sk: 'ca-central-1',
      ...vote({ voter: 'ca-central-1', target: 'us-east-1', seq: 99 }, NOW),
      application: 'billing',
    };
    await t.doc.send(new PutCommand({ TableName: t.names.votes, Item: otherApp }));
    const votes = await store.list('orders', 'us-east-1');
    expect(votes.map((v) => v.voter)).not.toContain('ca-central-1');
    expect(votes.map((v) => v.voter)).not.toContain('eu-west-1');
  });

  it('refuses a malformed item with the field that is wrong, and keeps the honest votes', async () => {
    await t.doc.send(
      new PutCommand({
        TableName: t.names.votes,
        Item: { pk: votePk('orders', 'us-east-1'), sk: 'junk', voter: 'junk', healthy: 'no' },
      }),
    );
    const votes = await store.list('orders', 'us-east-1');
    expect(votes).toHaveLength(5);
    expect(refused.at(-1)).toMatch(/^not a vote: /);
  });
});
