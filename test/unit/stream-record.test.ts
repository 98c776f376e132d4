import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStreamRecord, sortBatch } from '#commons/stream-record.js';
import { vote } from '../support/fixtures.js';

const NOW = 1_800_000_000_000;
const good = (voter: string, application = 'orders', seq = '1') => {
  const v = vote({ voter, target: 'us-east-1', application }, NOW);
  return {
    eventName: 'MODIFY',
    dynamodb: {
      SequenceNumber: seq,
      NewImage: marshall({ pk: `${application}#us-east-1#${voter}`, sk: voter, ...v }),
    },
  };
};

describe('parseStreamRecord: the edge of the aggregator', () => {
  it('reads a vote from its NewImage', () => {
    const parsed = parseStreamRecord(good('eu-west-1'), 0);
    expect(parsed).toMatchObject({ ok: true, id: '1', vote: { voter: 'eu-west-1', target: 'us-east-1' } });
  });

  it('names the rule and the reason of every record it skips', () => {
    const image = marshall({
      pk: 'orders#us-east-1#sa-east-1',
      sk: 'sa-east-1',
      ...vote({ voter: 'eu-west-1', target: 'us-east-1' }, NOW),
    });
    // The key before the voter moved into the partition key: another voter's item could sit in that partition.
    const oldKey = marshall({
      pk: 'orders#us-east-1',
      sk: 'eu-west-1',
      ...vote({ voter: 'eu-west-1', target: 'us-east-1' }, NOW),
    });
    const signedElsewhere = marshall({
      pk: 'orders#us-east-1#eu-west-1',
      sk: 'sa-east-1',
      ...vote({ voter: 'sa-east-1', target: 'us-east-1' }, NOW),
    });
    const cases: [unknown, string, string][] = [
      [null, 'MALFORMED', 'unknown eventName undefined'],
      [
        { eventName: 'REMOVE', eventID: 'e1' },
        'NOT_A_VOTE_EVENT',
        'REMOVE (TTL expiry or delete) carries no vote',
      ],
      [{ eventName: 'INSERT', dynamodb: {} }, 'MALFORMED', 'no NewImage'],
      [
        { eventName: 'INSERT', dynamodb: { NewImage: { healthy: { Q: 'x' } } } },
        'MALFORMED',
        'NewImage is not DynamoDB JSON',
      ],
      [
        { eventName: 'INSERT', dynamodb: { NewImage: { healthy: { S: 'yes' } } } },
        'MALFORMED',
        'not a vote: ',
      ],
      [
        { eventName: 'INSERT', dynamodb: { NewImage: image } },
        'MALFORMED',
        'key orders#us-east-1#sa-east-1/sa-east-1 does not match the vote',
      ],
      [
        { eventName: 'INSERT', dynamodb: { NewImage: oldKey } },
        'MALFORMED',
        'key orders#us-east-1/eu-west-1 does not match the vote',
      ],
      [
        { eventName: 'MODIFY', dynamodb: { NewImage: signedElsewhere } },
        'MALFORMED',
        'key orders#us-east-1#eu-west-1/sa-east-1 does not match the vote',
      ],
    ];
    for (const [record, rule, reason] of cases) {
      const parsed = parseStreamRecord(record, 7);
      expect(parsed).toMatchObject({ ok: false, rule });
      if (!parsed.ok) expect(parsed.reason).toContain(reason);
    }
    expect(parseStreamRecord({ eventName: 'REMOVE', eventID: 'e1' }, 7).id).toBe('e1');
    expect(parseStreamRecord(null, 7).id).toBe('#7');
  });

  it('never throws, whatever arrives (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.nat(), (record, index) => {
        const parsed = parseStreamRecord(record, index);
        if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.anything()), (image) => {
        expect(parseStreamRecord({ eventName: 'INSERT', dynamodb: { NewImage: image } }, 0).ok).toBe(false);
      }),
    );
  });
});

describe('sortBatch', () => {
  it('counts votes of this application, skips the rest by rule, and loses no record (property)', () => {
    const record = fc.oneof(
      fc.constantFrom('eu-west-1', 'sa-east-1').map((voter) => good(voter)),
      fc.constant(good('eu-west-1', 'billing')),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records) => {
        const { counted, skipped } = sortBatch(records, 'orders');
        expect(counted.length + skipped.length).toBe(records.length);
        const votes = records.filter((r) => {
          const parsed = parseStreamRecord(r, 0);
          return parsed.ok && parsed.vote.application === 'orders';
        });
        expect(counted.length).toBe(votes.length);
      }),
    );
    const { skipped } = sortBatch([good('eu-west-1', 'billing', '9')], 'orders');
    expect(skipped).toEqual([{ id: '9', rule: 'OTHER_APPLICATION', reason: 'billing' }]);
  });
});
