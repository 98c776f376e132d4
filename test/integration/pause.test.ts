import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { freshTables } from '../support/dynamodb.js';

let store: DynamoControlStore;

beforeAll(async () => {
  const t = await freshTables('pause');
  store = new DynamoControlStore(t.doc, t.names.control);
});

describe('pause on the control table (DynamoDB Local)', () => {
  it('is absent until set, then returns who, when and why, and is gone after clear', async () => {
    expect(await store.getPause('orders')).toBeNull();

    const record = {
      pausedBy: 'alice@example.com',
      pausedAt: 1_700_000_000_000,
      reason: 'database maintenance',
    };
    await store.setPause('orders', record);
    expect(await store.getPause('orders')).toEqual(record);

    await store.clearPause('orders');
    expect(await store.getPause('orders')).toBeNull();
  });

  it('keeps the latest pause record and scopes it to one application', async () => {
    await store.setPause('billing', { pausedBy: 'alice', pausedAt: 1, reason: 'first' });
    await store.setPause('billing', { pausedBy: 'bob', pausedAt: 2, reason: 'second' });
    expect(await store.getPause('billing')).toEqual({ pausedBy: 'bob', pausedAt: 2, reason: 'second' });
    expect(await store.getPause('payments')).toBeNull();

    // A clear of another application, or a second clear, leaves this one alone and does not throw.
    await store.clearPause('payments');
    await store.clearPause('payments');
    expect(await store.getPause('billing')).not.toBeNull();
  });

  it('does not disturb the lease item that shares the partition', async () => {
    const { doc, names } = await freshTables('pause2');
    const s = new DynamoControlStore(doc, names.control);
    const { PutCommand, GetCommand } = await import('@aws-sdk/lib-dynamodb');
    await doc.send(
      new PutCommand({ TableName: names.control, Item: { pk: 'orders', sk: 'lease', epoch: 7 } }),
    );
    await s.setPause('orders', { pausedBy: 'carol', pausedAt: 3, reason: 'drill' });
    await s.clearPause('orders');
    const lease = await doc.send(
      new GetCommand({ TableName: names.control, Key: { pk: 'orders', sk: 'lease' } }),
    );
    expect(lease.Item?.epoch).toBe(7);
  });
});
