import { describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { LostRaceError } from '#core/errors.js';
import type { IncidentRequest } from '#core/ports.js';
import { freshTables } from '../support/dynamodb.js';

const ARN_A = 'arn:aws:states:us-east-2:000000000000:execution:cutover-failover:a';
const ARN_B = 'arn:aws:states:eu-central-1:000000000000:execution:cutover-failover:b';

/** A failover request for epoch 1, as the aggregator in us-east-2 makes it. */
const REQUEST: IncidentRequest = {
  application: 'orders',
  kind: 'failover',
  epoch: 1,
  from: 'us-east-1',
  to: 'us-west-2',
  verdictKind: 'failover',
  verdictCode: 'QUORUM_UNHEALTHY',
  reason: 'test',
  evidence: {},
  needsApproval: false,
  requestedAt: 1,
  requestedBy: 'us-east-2',
};

async function running(control: DynamoControlStore, owner: string) {
  const created = await control.requestIncident(REQUEST, 1);
  if (!created.created) throw new Error('not created');
  const claim = await control.claimIncident(created.incident.id, owner, 2);
  if (!claim.claimed) throw new Error('not claimed');
  return created.incident.id;
}

describe('closing an incident is fenced by the execution that holds it (DynamoDB Local)', () => {
  it('the holder closes it; another execution or an unclaimed close changes nothing', async () => {
    const t = await freshTables('close');
    const control = new DynamoControlStore(t.doc, t.names.control);
    const id = await running(control, ARN_A);

    await expect(
      control.closeIncident({
        id,
        status: 'failed',
        reason: 'late step of B',
        now: 3,
        owner: { execution: ARN_B },
      }),
    ).rejects.toBeInstanceOf(LostRaceError);
    await expect(
      control.closeIncident({
        id,
        status: 'failed',
        reason: 'unclaimed',
        now: 3,
        owner: { unclaimed: true },
      }),
    ).rejects.toBeInstanceOf(LostRaceError);
    expect(await control.getIncident(id)).toMatchObject({ status: 'running', executionArn: ARN_A });

    const closed = await control.closeIncident({
      id,
      status: 'completed',
      reason: 'verified',
      now: 4,
      owner: { execution: ARN_A },
    });
    expect(closed).toMatchObject({ status: 'completed', closedAt: 4 });
    // A retried close by the holder is a no-op.
    expect(
      await control.closeIncident({
        id,
        status: 'completed',
        reason: 'verified',
        now: 5,
        owner: { execution: ARN_A },
      }),
    ).toMatchObject({
      status: 'completed',
      closedAt: 4,
    });
  });
});

describe('a failed attempt may be retried at the same epoch, after its hold-off', () => {
  it('refuses a new request before reopenAfter and creates attempt 2 after it', async () => {
    const t = await freshTables('reopen');
    const control = new DynamoControlStore(t.doc, t.names.control);
    const id = await running(control, ARN_A);
    await control.closeIncident({
      id,
      status: 'failed',
      reason: 'promote: PromotionFailedError',
      now: 10,
      reopenAfter: 1_000,
      owner: { execution: ARN_A },
    });
    const request = { ...REQUEST, reason: 'again', requestedAt: 500 };
    const early = await control.requestIncident(request, 999);
    expect(early.created).toBe(false);
    const later = await control.requestIncident({ ...request, requestedAt: 1_000 }, 1_000);
    expect(later).toMatchObject({ created: true, incident: { attempt: 2, status: 'requested' } });
    expect(later.created && later.incident.executionArn).toBeFalsy();
    // Only one of two racing regions reopens it.
    const again = await control.requestIncident({ ...request, requestedBy: 'eu-central-1' }, 1_001);
    expect(again.created).toBe(false);
  });
});

describe('the Failover Requested event has one publisher per attempt', () => {
  it('claimPublish gives exactly one of many concurrent callers the right to put it, and release hands it back', async () => {
    const t = await freshTables('publish');
    const control = new DynamoControlStore(t.doc, t.names.control);
    const created = await control.requestIncident(REQUEST, 1);
    if (!created.created) throw new Error('not created');
    const id = created.incident.id;
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => control.claimPublish(id, 100 + i)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = 100 + claims.indexOf(true);
    await control.releasePublish(id, winner + 1); // not the holder's claim: nothing changes
    expect(await control.claimPublish(id, 200)).toBe(false);
    await control.releasePublish(id, winner);
    expect(await control.claimPublish(id, 201)).toBe(true);
  });
});
