import { ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { StoreError } from '#core/errors.js';
import { type LeaseTiming, safeToTakeAt } from '#core/lease.js';
import { localClients } from '../../infra/local/tables.js';
import { freshTables } from '../support/dynamodb.js';
import { FakeClock } from '../support/fake-clock.js';

const timing: LeaseTiming = { ttlMs: 30_000, renewIntervalMs: 10_000, maxSkewMs: 1_000, safetyMarginMs: 500 };

let doc: DynamoDBDocumentClient;
let table: string;
let endpoint: string;

beforeAll(async () => {
  const t = await freshTables('lease');
  doc = t.doc;
  table = t.names.control;
  endpoint = t.endpoint;
});

const storeWith = (clock: FakeClock) => new DynamoLeaseStore(doc, table, timing, clock);

describe('DynamoLeaseStore on DynamoDB Local', () => {
  it('gives exactly one winner among 50 concurrent acquirers, round after round', async () => {
    const clock = new FakeClock();
    const store = storeWith(clock);
    const app = 'race';
    const regions = Array.from({ length: 50 }, (_, i) => `region-${i}`);

    // Round 0: nobody has ever held the lease.
    const first = await Promise.all(regions.map((r) => store.acquire(app, r, null)));
    expect(first.filter((x) => x.ok)).toHaveLength(1);

    for (let round = 1; round <= 30; round++) {
      const before = await store.read(app);
      if (!before) throw new Error('lease vanished');
      // Not renewed: move past expiry + maxSkew, then everyone races for it.
      clock.t = safeToTakeAt(before, timing);
      const results = await Promise.all(regions.map((r) => store.acquire(app, r, before.epoch)));
      const winners = results.flatMap((x) => (x.ok ? [x.lease] : []));
      expect(winners, `round ${round}`).toHaveLength(1);
      const losers = results.filter((x) => !x.ok);
      expect(losers.every((x) => !x.ok && x.code === 'LOST_RACE')).toBe(true);

      const after = await store.read(app);
      expect(after).toEqual(winners[0]);
      expect(after?.epoch).toBe(before.epoch + 1);
    }
  });

  it('refuses to take a lease before expiry + maxSkew on the taker clock', async () => {
    const clock = new FakeClock();
    const store = storeWith(clock);
    const held = await store.acquire('early', 'us-east-1', null);
    if (!held.ok) throw new Error('bootstrap failed');

    clock.t = safeToTakeAt(held.lease, timing) - 1;
    const early = await store.acquire('early', 'us-west-2', held.lease.epoch);
    expect(early).toMatchObject({ ok: false, code: 'LOST_RACE', current: held.lease });

    clock.advance(1);
    const onTime = await store.acquire('early', 'us-west-2', held.lease.epoch);
    expect(onTime).toMatchObject({ ok: true, lease: { holder: 'us-west-2', epoch: held.lease.epoch + 1 } });
  });

  it('renews only for the holder at its epoch', async () => {
    const clock = new FakeClock();
    const store = storeWith(clock);
    const held = await store.acquire('renew', 'us-east-1', null);
    if (!held.ok) throw new Error('bootstrap failed');

    clock.advance(timing.renewIntervalMs);
    const renewed = await store.renew('renew', 'us-east-1', held.lease.epoch);
    expect(renewed).toMatchObject({
      ok: true,
      lease: { expiresAt: clock.t + timing.ttlMs, epoch: held.lease.epoch },
    });

    // A second renewal in the same instant (overlapping invocations) still holds; it does not shorten the lease.
    const again = await store.renew('renew', 'us-east-1', held.lease.epoch);
    expect(again).toMatchObject({ ok: true, lease: { expiresAt: clock.t + timing.ttlMs } });
    clock.advance(-1);
    expect(await store.renew('renew', 'us-east-1', held.lease.epoch)).toMatchObject({
      ok: true,
      lease: { expiresAt: clock.t + 1 + timing.ttlMs },
    });

    const byOther = await store.renew('renew', 'us-west-2', held.lease.epoch);
    expect(byOther).toMatchObject({ ok: false, code: 'NOT_HOLDER', current: { holder: 'us-east-1' } });

    const wrongEpoch = await store.renew('renew', 'us-east-1', held.lease.epoch + 1);
    expect(wrongEpoch).toMatchObject({ ok: false, code: 'NOT_HOLDER' });

    const absent = await store.renew('never-leased', 'us-east-1', 1);
    expect(absent).toMatchObject({ ok: false, code: 'NOT_HOLDER', current: null });
  });

  it('fails a stale holder renewal after a revoke, and a grant waits out the old lease', async () => {
    const clock = new FakeClock();
    const store = storeWith(clock);
    const held = await store.acquire('fence', 'us-east-1', null);
    if (!held.ok) throw new Error('bootstrap failed');
    clock.advance(5_000);
    const renewed = await store.renew('fence', 'us-east-1', held.lease.epoch);
    if (!renewed.ok) throw new Error('renew failed');

    const revoked = await store.revoke('fence', renewed.lease.epoch);
    expect(revoked).toMatchObject({
      ok: true,
      lease: { holder: null, epoch: held.lease.epoch + 1, expiresAt: renewed.lease.expiresAt },
    });

    const stale = await store.renew('fence', 'us-east-1', renewed.lease.epoch);
    expect(stale).toMatchObject({ ok: false, code: 'NOT_HOLDER', current: { holder: null } });

    // The taker's wait: NOT_SAFE_YET up to one tick before expiresAt + maxSkew, granted from then on.
    const fencedEpoch = held.lease.epoch + 1;
    clock.t = renewed.lease.expiresAt;
    expect(await store.grant('fence', 'us-west-2', fencedEpoch)).toMatchObject({
      ok: false,
      code: 'NOT_SAFE_YET',
    });
    clock.t = safeToTakeAt(renewed.lease, timing) - 1;
    expect(await store.grant('fence', 'us-west-2', fencedEpoch)).toMatchObject({
      ok: false,
      code: 'NOT_SAFE_YET',
    });
    clock.advance(1);
    const granted = await store.grant('fence', 'us-west-2', fencedEpoch);
    expect(granted).toMatchObject({ ok: true, lease: { holder: 'us-west-2', epoch: fencedEpoch + 1 } });

    // The old holder stays out, whatever epoch it tries.
    expect(await store.renew('fence', 'us-east-1', renewed.lease.epoch)).toMatchObject({ ok: false });
    expect(await store.renew('fence', 'us-east-1', fencedEpoch + 1)).toMatchObject({
      ok: false,
      code: 'NOT_HOLDER',
    });
  });

  it('never lowers the epoch with a grant or a revoke at a stale epoch', async () => {
    const clock = new FakeClock();
    const store = storeWith(clock);
    const held = await store.acquire('mono', 'us-east-1', null);
    if (!held.ok) throw new Error('bootstrap failed');
    const seen: number[] = [held.lease.epoch];
    for (let i = 0; i < 5; i++) {
      const cur = await store.read('mono');
      if (!cur) throw new Error('lease vanished');
      const revoked = await store.revoke('mono', cur.epoch);
      if (!revoked.ok) throw new Error('revoke failed');
      clock.t = safeToTakeAt(revoked.lease, timing);
      const granted = await store.grant('mono', i % 2 ? 'us-east-1' : 'us-west-2', revoked.lease.epoch);
      if (!granted.ok) throw new Error(`grant failed: ${granted.code}`);
      seen.push(revoked.lease.epoch, granted.lease.epoch);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);

    const top = (await store.read('mono'))?.epoch ?? 0;
    clock.advance(10 * timing.ttlMs);
    // Replays of old grants and revokes (a retried Step Functions task) change nothing.
    for (const stale of seen.slice(0, -1)) {
      expect(await store.grant('mono', 'us-west-2', stale)).toMatchObject({ ok: false, code: 'LOST_RACE' });
      expect(await store.revoke('mono', stale)).toMatchObject({ ok: false, code: 'LOST_RACE' });
    }
    expect((await store.read('mono'))?.epoch).toBe(top);
  });

  it('never lets acquire take a revoked lease: only the fencing failover may grant it', async () => {
    const clock = new FakeClock();
    const store = storeWith(clock);
    const app = 'revoked-not-free';
    const held = await store.acquire(app, 'us-east-1', null);
    if (!held.ok) throw new Error('bootstrap failed');
    const revoked = await store.revoke(app, held.lease.epoch);
    if (!revoked.ok) throw new Error('revoke failed');
    clock.t = safeToTakeAt(revoked.lease, timing) + 60_000;
    const taken = await store.acquire(app, 'us-east-1', revoked.lease.epoch);
    expect(taken).toMatchObject({ ok: false, code: 'LOST_RACE' });
    const granted = await store.grant(app, 'us-west-2', revoked.lease.epoch);
    expect(granted).toMatchObject({
      ok: true,
      lease: { holder: 'us-west-2', epoch: revoked.lease.epoch + 1 },
    });
  });

  it('refuses to grant a lease that is still held (not revoked)', async () => {
    const clock = new FakeClock();
    const store = storeWith(clock);
    const held = await store.acquire('held', 'us-east-1', null);
    if (!held.ok) throw new Error('bootstrap failed');
    clock.advance(10 * timing.ttlMs);
    expect(await store.grant('held', 'us-west-2', held.lease.epoch)).toMatchObject({
      ok: false,
      code: 'LOST_RACE',
    });
  });

  it('surfaces errors other than conditional failures as StoreError', async () => {
    const store = new DynamoLeaseStore(doc, 'no-such-table', timing, new FakeClock());
    await expect(store.read('x')).rejects.toBeInstanceOf(StoreError);
    const err = await store.acquire('x', 'us-east-1', null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).name).toBe('StoreError');
    expect((err as StoreError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('retries ReplicatedWriteConflictException and gives up as StoreError after the last attempt', async () => {
    // MRSC conflicts do not happen on DynamoDB Local: inject them in front of the real client.
    const flaky = (failures: number) => {
      let left = failures;
      const send = ((command: unknown) => {
        if (left-- > 0) {
          return Promise.reject(new ReplicatedWriteConflictException({ message: 'conflict', $metadata: {} }));
        }
        return doc.send(command as never);
      }) as DynamoDBDocumentClient['send'];
      return { send } as DynamoDBDocumentClient;
    };
    const clock = new FakeClock();
    const retry = { attempts: 3, baseDelayMs: 1 };
    const ok = await new DynamoLeaseStore(flaky(2), table, timing, clock, retry).acquire(
      'conflict',
      'us-east-1',
      null,
    );
    expect(ok).toMatchObject({ ok: true, lease: { holder: 'us-east-1', epoch: 1 } });

    const err = await new DynamoLeaseStore(flaky(3), table, timing, clock, retry)
      .renew('conflict', 'us-east-1', 1)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).cause).toBeInstanceOf(ReplicatedWriteConflictException);
  });

  it('reads the lease with ConsistentRead on the wire, every time', async () => {
    // DynamoDB Local answers every read consistently, so only the request itself can show an eventually
    // consistent read: capture each GetItem body as the real client signs and sends it.
    const { raw, doc: captured } = localClients(endpoint);
    const bodies: Record<string, unknown>[] = [];
    raw.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { headers: Record<string, string>; body?: unknown };
        if (req.headers['x-amz-target'] === 'DynamoDB_20120810.GetItem') {
          const text =
            typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body as Uint8Array);
          bodies.push(JSON.parse(text) as Record<string, unknown>);
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'captureGetItem' },
    );
    const clock = new FakeClock();
    const store = new DynamoLeaseStore(captured, table, timing, clock);
    expect(await store.read('consistent')).toBeNull();
    await store.acquire('consistent', 'us-east-1', null);
    expect(await store.read('consistent')).toMatchObject({ holder: 'us-east-1', epoch: 1 });
    expect(bodies).toHaveLength(2);
    for (const body of bodies) {
      expect(body).toEqual({
        TableName: table,
        Key: { pk: { S: 'consistent' }, sk: { S: 'lease' } },
        ConsistentRead: true,
      });
    }
  });
});
