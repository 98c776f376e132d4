import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '#adapters/dynamodb/approval-store.js';
import type { NewApproval } from '#core/approval-ports.js';
import { freshTables } from '../support/dynamodb.js';

const T0 = 1_700_000_000_000;

let store: DynamoApprovalStore;
let tables: Awaited<ReturnType<typeof freshTables>>;

beforeAll(async () => {
  tables = await freshTables('approvals');
  store = new DynamoApprovalStore(tables.doc, tables.names.control);
});

function newApproval(over: Partial<NewApproval> = {}): NewApproval {
  return {
    taskToken: `token-${Math.random()}`,
    taskRegion: 'us-east-2',
    request: {
      incidentId: 'orders#7#1',
      application: 'orders',
      kind: 'failover',
      from: 'us-east-1',
      to: 'us-west-2',
      reason: 'votes split',
      evidence: { epoch: 7, lagMs: 1200, votes: [{ voter: 'eu-west-1', healthy: false }] },
      timeoutSeconds: 900,
    },
    approvers: ['U1AAA', 'U2BBB', 'U3CCC'],
    twoPerson: false,
    createdAt: T0,
    expiresAt: T0 + 900_000,
    ...over,
  };
}

const decision = (approved: boolean, by = 'U1AAA', at = T0 + 1000) => ({
  approved,
  by,
  at,
  reason: `${approved ? 'approved' : 'rejected'} by ${by}`,
});

describe('approval store on the control table (DynamoDB Local)', () => {
  it('creates a pending approval under a random id, keeps the token server-side, reads it back', async () => {
    const input = newApproval();
    const a = await store.create(input);
    const b = await store.create(newApproval());
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
    expect(await store.get(a.id)).toEqual({
      ...input,
      id: a.id,
      status: 'pending',
      votes: [],
      decision: null,
      message: null,
    });
    // The raw item: one partition per approval, the token in the table and nowhere in the key.
    const raw = await tables.doc.send(
      new GetCommand({ TableName: tables.names.control, Key: { pk: `approval#${a.id}`, sk: 'approval' } }),
    );
    expect(raw.Item?.taskToken).toBe(input.taskToken);
    expect(await store.get('5b0c9a3e-0000-4000-8000-000000000000')).toBeNull();
  });

  it('refuses to create over an existing id', async () => {
    const fixed = new DynamoApprovalStore(tables.doc, tables.names.control, () => 'fixed-id-1');
    await fixed.create(newApproval());
    await expect(fixed.create(newApproval())).rejects.toMatchObject({ name: 'StoreError' });
  });

  it('attaches the Slack message for the later chat.update', async () => {
    const a = await store.create(newApproval());
    await store.attachMessage(a.id, { channel: 'C0FAILOVER', ts: '1700000000.000100' });
    expect((await store.get(a.id))?.message).toEqual({ channel: 'C0FAILOVER', ts: '1700000000.000100' });
    await expect(store.attachMessage('no-such-approval', { channel: 'C', ts: '1' })).rejects.toMatchObject({
      name: 'StoreError',
    });
  });

  it('decides once: a second decision, either way, is refused and changes nothing', async () => {
    const a = await store.create(newApproval());
    const first = await store.decide(a.id, decision(true));
    expect(first).toMatchObject({ ok: true, approval: { status: 'approved', decision: decision(true) } });
    const before = await store.get(a.id);
    expect(await store.decide(a.id, decision(false, 'U2BBB'))).toMatchObject({
      ok: false,
      code: 'ALREADY_DECIDED',
    });
    expect(await store.decide(a.id, decision(true, 'U3CCC'))).toMatchObject({
      ok: false,
      code: 'ALREADY_DECIDED',
    });
    expect(await store.get(a.id)).toEqual(before);
  });

  it('racing decisions: exactly one wins', async () => {
    const a = await store.create(newApproval());
    const results = await Promise.all(
      ['U1AAA', 'U2BBB', 'U3CCC', 'U1AAA', 'U2BBB'].map((u, i) =>
        store.decide(a.id, decision(i % 2 === 0, u)),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === 'ALREADY_DECIDED')).toBe(true);
    const winner = results.find((r) => r.ok);
    expect((await store.get(a.id))?.decision).toEqual(winner?.ok ? winner.approval.decision : undefined);
  });

  it('refuses a decision on an unknown or an expired approval', async () => {
    expect(await store.decide('5b0c9a3e-0000-4000-8000-000000000001', decision(true))).toEqual({
      ok: false,
      code: 'UNKNOWN_APPROVAL',
      approval: null,
    });
    const a = await store.create(newApproval({ expiresAt: T0 + 500 }));
    expect(await store.decide(a.id, decision(true, 'U1AAA', T0 + 500))).toMatchObject({
      ok: false,
      code: 'EXPIRED',
    });
    expect((await store.get(a.id))?.status).toBe('pending');
  });

  it('records votes of distinct users in order; the same user twice is refused and changes nothing', async () => {
    const a = await store.create(newApproval({ twoPerson: true }));
    expect(await store.recordVote(a.id, 'U1AAA', T0 + 10)).toMatchObject({
      ok: true,
      approval: { votes: ['U1AAA'] },
    });
    expect(await store.recordVote(a.id, 'U1AAA', T0 + 20)).toMatchObject({
      ok: false,
      code: 'SAME_APPROVER',
    });
    expect((await store.get(a.id))?.votes).toEqual(['U1AAA']);
    expect(await store.recordVote(a.id, 'U2BBB', T0 + 30)).toMatchObject({
      ok: true,
      approval: { votes: ['U1AAA', 'U2BBB'], status: 'pending' },
    });
  });

  it('refuses a vote on an unknown, decided or expired approval', async () => {
    expect(await store.recordVote('5b0c9a3e-0000-4000-8000-000000000002', 'U1AAA', T0)).toMatchObject({
      ok: false,
      code: 'UNKNOWN_APPROVAL',
    });
    const decided = await store.create(newApproval({ twoPerson: true }));
    await store.decide(decided.id, decision(false));
    expect(await store.recordVote(decided.id, 'U2BBB', T0 + 10)).toMatchObject({
      ok: false,
      code: 'ALREADY_DECIDED',
    });
    const expired = await store.create(newApproval({ twoPerson: true, expiresAt: T0 + 5 }));
    expect(await store.recordVote(expired.id, 'U2BBB', T0 + 10)).toMatchObject({
      ok: false,
      code: 'EXPIRED',
    });
    expect((await store.get(expired.id))?.votes).toEqual([]);
  });

  it('racing votes by the same user: one is counted', async () => {
    const a = await store.create(newApproval({ twoPerson: true }));
    const results = await Promise.all([1, 2, 3, 4].map(() => store.recordVote(a.id, 'U3CCC', T0 + 10)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect((await store.get(a.id))?.votes).toEqual(['U3CCC']);
  });
});
