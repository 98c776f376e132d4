import { ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { type LeaseTiming, safeToTakeAt } from '#core/lease.js';
import { FenceConfigError, fencedPut, fencedPutChecked, raiseFence } from '#guard/dynamodb-fence.js';
import { LeaseGuard } from '#guard/lease-guard.js';
import { freshTables } from '../support/dynamodb.js';
import { FakeClock } from '../support/fake-clock.js';

const timing: LeaseTiming = { ttlMs: 30_000, renewIntervalMs: 10_000, maxSkewMs: 1_000, safetyMarginMs: 500 };

/**
 * The failover as the application sees it: the old primary takes a token, its write is delayed past the
 * revoke, the wait and the grant; the new primary writes under the higher epoch; the old write then arrives.
 */
async function failover() {
  const { doc, names } = await freshTables('fence');
  const clock = new FakeClock();
  const store = new DynamoLeaseStore(doc, names.control, timing, clock);
  const guard = (region: string) => new LeaseGuard({ store, application: 'orders', region, timing, clock });
  const acquired = await store.acquire('orders', 'us-east-1', null);
  if (!acquired.ok) throw new Error('bootstrap failed');
  const oldGuard = guard('us-east-1');
  await oldGuard.start();
  const oldToken = oldGuard.assertWritable();
  oldGuard.stop();

  const revoked = await store.revoke('orders', acquired.lease.epoch);
  if (!revoked.ok) throw new Error('revoke failed');
  clock.t = safeToTakeAt(revoked.lease, timing);
  const granted = await store.grant('orders', 'us-west-2', revoked.lease.epoch);
  if (!granted.ok) throw new Error('grant failed');
  const newGuard = guard('us-west-2');
  await newGuard.start();
  const newToken = newGuard.assertWritable();
  newGuard.stop();
  // Any pk/sk table stands in for the application's own table.
  return { doc, table: names.votes, oldToken, newToken };
}

describe('fencing tokens on DynamoDB Local', () => {
  it('per item: a delayed write under the old epoch cannot overwrite a write under the new one', async () => {
    const { doc, table, oldToken, newToken } = await failover();
    expect(newToken).toBeGreaterThan(oldToken);
    const key = { pk: 'order#42', sk: 'order' };

    expect(await fencedPut(doc, table, { ...key, total: 10 }, oldToken)).toEqual({ written: true });
    expect(await fencedPut(doc, table, { ...key, total: 20 }, newToken)).toEqual({ written: true });
    expect(await fencedPut(doc, table, { ...key, total: 99 }, oldToken)).toEqual({
      written: false,
      reason: 'STALE_EPOCH',
    });
    // The same epoch may write again: the holder updates its own items.
    expect(await fencedPut(doc, table, { ...key, total: 21 }, newToken)).toEqual({ written: true });

    const item = await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(item.Item).toMatchObject({ total: 21, leaseEpoch: newToken });
  });

  it('per application: once the new holder raises the fence, no old-epoch write lands on any item', async () => {
    const { doc, table, oldToken, newToken } = await failover();
    const fence = { tableName: table, key: { pk: 'orders', sk: 'fence' } };
    const order = (id: number) => ({ pk: `order#${id}`, sk: 'order', total: id });

    expect(await fencedPutChecked(doc, table, order(1), oldToken, fence)).toEqual({ written: true });
    expect(await raiseFence(doc, fence, newToken)).toBe(true);
    // Order 2 was never touched by the new holder; the per-item fence alone would have let this in.
    expect(await fencedPutChecked(doc, table, order(2), oldToken, fence)).toEqual({
      written: false,
      reason: 'STALE_EPOCH',
    });
    expect(await fencedPutChecked(doc, table, order(3), newToken, fence)).toEqual({ written: true });
    expect(await raiseFence(doc, fence, oldToken)).toBe(false);

    const two = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'order#2', sk: 'order' } }));
    expect(two.Item).toBeUndefined();
    const f = await doc.send(new GetCommand({ TableName: table, Key: fence.key, ConsistentRead: true }));
    expect(f.Item?.leaseEpoch).toBe(newToken);
  });

  it('a plain put (no fence) would have let the stale write win: the test above is not vacuous', async () => {
    const { doc, table, oldToken, newToken } = await failover();
    const key = { pk: 'order#7', sk: 'order' };
    await fencedPut(doc, table, { ...key, total: 20 }, newToken);
    await doc.send(new PutCommand({ TableName: table, Item: { ...key, total: 99, leaseEpoch: oldToken } }));
    const item = await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(item.Item?.total).toBe(99);
  });

  describe('on an MRSC table: conditional writes only', () => {
    /** Records the name of every command the client sends, and can make the next N puts conflict. */
    function watch(doc: Awaited<ReturnType<typeof failover>>['doc']) {
      const sent: string[] = [];
      const conflicts = { left: 0 };
      const name = 'record-and-conflict';
      doc.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push(String(context.commandName));
          if (context.commandName === 'PutItemCommand' && conflicts.left > 0) {
            conflicts.left--;
            // What MRSC answers when another region writes the same item at the same time.
            throw new ReplicatedWriteConflictException({
              message: 'modified in another Region',
              $metadata: {},
            });
          }
          return next(args);
        },
        { step: 'initialize', name },
      );
      return { sent, conflicts, stop: () => doc.middlewareStack.remove(name) };
    }

    it('refuses the application-wide fence before sending anything: MRSC has no transactions', async () => {
      const { doc, table, oldToken } = await failover();
      const w = watch(doc);
      const fence = { tableName: table, key: { pk: 'orders', sk: 'fence' } };
      await expect(
        fencedPutChecked(doc, table, { pk: 'order#1', sk: 'order' }, oldToken, fence, 'mrsc'),
      ).rejects.toThrow(FenceConfigError);
      await expect(
        fencedPutChecked(doc, table, { pk: 'order#1', sk: 'order' }, oldToken, fence, 'mrsc'),
      ).rejects.toThrow(/needs TransactWriteItems, which MRSC tables refuse/);
      w.stop();
      expect(w.sent).toEqual([]);
    });

    it('fences per item with a conditional put, retrying a replicated write conflict, never a transaction', async () => {
      const { doc, table, oldToken, newToken } = await failover();
      const w = watch(doc);
      const key = { pk: 'order#9', sk: 'order' };
      w.conflicts.left = 2;
      const retry = { attempts: 3, baseDelayMs: 1 };
      expect(await fencedPut(doc, table, { ...key, total: 20 }, newToken, retry)).toEqual({ written: true });
      expect(await fencedPut(doc, table, { ...key, total: 99 }, oldToken, retry)).toEqual({
        written: false,
        reason: 'STALE_EPOCH',
      });
      w.conflicts.left = 3;
      await expect(fencedPut(doc, table, { ...key, total: 21 }, newToken, retry)).rejects.toThrow(
        ReplicatedWriteConflictException,
      );
      w.stop();
      // 3 + 1 + 3 attempts, every one a plain conditional PutItem.
      expect(w.sent).toEqual(Array(7).fill('PutItemCommand'));
      const item = await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
      expect(item.Item).toMatchObject({ total: 20, leaseEpoch: newToken });
    });
  });
});
