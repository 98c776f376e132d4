import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grantOutcome } from '#core/grant.js';
import type { Lease } from '#core/lease.js';
import type { LeaseResult } from '#core/ports.js';
import { planPromote } from '#core/promote.js';

const NOW = 1_700_000_000_000;
const S = 'us-west-2';
const lease = (epoch: number, holder: string | null): Lease => ({
  application: 'orders',
  epoch,
  holder,
  expiresAt: NOW + 10_000,
  updatedAt: NOW,
});
const refused = (code: 'LOST_RACE' | 'NOT_HOLDER' | 'NOT_SAFE_YET', current: Lease | null): LeaseResult => ({
  ok: false,
  code,
  current,
});

describe('grantOutcome', () => {
  it('GRANTED when the conditional write landed', () => {
    expect(
      grantOutcome({ to: S, fencedEpoch: 8, result: { ok: true, lease: lease(9, S) }, now: NOW }),
    ).toEqual({
      code: 'GRANTED',
      reason: 'granted the lease to us-west-2 at epoch 9',
      lease: { holder: S, epoch: 9, expiresAt: NOW + 10_000 },
    });
  });

  it('ALREADY_GRANTED when a retried grant finds the target holding the fenced epoch + 1', () => {
    expect(
      grantOutcome({ to: S, fencedEpoch: 8, result: refused('LOST_RACE', lease(9, S)), now: NOW }),
    ).toEqual({
      code: 'ALREADY_GRANTED',
      reason: 'us-west-2 holds the lease at epoch 9 already (a retried grant)',
      lease: { holder: S, epoch: 9, expiresAt: NOW + 10_000 },
    });
  });

  it('NOT_SAFE_YET while the revoked lease is not over on this clock', () => {
    expect(
      grantOutcome({ to: S, fencedEpoch: 8, result: refused('NOT_SAFE_YET', lease(8, null)), now: NOW }),
    ).toEqual({
      code: 'NOT_SAFE_YET',
      reason: `the revoked lease of epoch 8 expires at ${NOW + 10_000}; not safe on this clock at ${NOW}`,
    });
  });

  it('LEASE_LOST when someone else moved the lease', () => {
    expect(
      grantOutcome({ to: S, fencedEpoch: 8, result: refused('LOST_RACE', lease(9, 'eu-west-1')), now: NOW }),
    ).toEqual({
      code: 'LEASE_LOST',
      reason: 'could not grant the lease to us-west-2: LOST_RACE, lease at epoch 9 held by eu-west-1',
    });
  });

  it('counts a refused write as granted only when the target holds exactly the epoch the grant would make', () => {
    fc.assert(
      fc.property(
        fc.option(fc.nat(20), { nil: null }),
        fc.constantFrom('LOST_RACE' as const, 'NOT_HOLDER' as const, 'NOT_SAFE_YET' as const),
        fc.option(fc.record({ epoch: fc.nat(22), holder: fc.constantFrom(S, 'us-east-1', null) }), {
          nil: null,
        }),
        (fencedEpoch, code, cur) => {
          const d = grantOutcome({
            to: S,
            fencedEpoch,
            result: refused(code, cur && lease(cur.epoch, cur.holder)),
            now: NOW,
          });
          const ours = cur !== null && cur.holder === S && cur.epoch === (fencedEpoch ?? 0) + 1;
          expect(d.code === 'ALREADY_GRANTED').toBe(ours);
          if (!ours) expect(d.code).toBe(code === 'NOT_SAFE_YET' ? 'NOT_SAFE_YET' : 'LEASE_LOST');
        },
      ),
    );
  });
});

describe('planPromote', () => {
  const replicaTarget = {
    eligible: true,
    code: 'REPLICA',
    reason: 'not writable',
    clearMark: false,
  } as const;
  const ours = {
    eligible: true,
    code: 'PROMOTED_BY_THIS_INCIDENT',
    reason: 'promoted by this incident already',
    clearMark: false,
  } as const;
  const standalone = {
    eligible: false,
    code: 'NOT_A_REPLICA',
    reason: 'the database in us-west-2 is writable but was not promoted by this incident',
  } as const;
  const writable = { writable: true, detail: 'available' };

  it('NOT_ELIGIBLE: a writable database this incident did not promote is never "already writable"', () => {
    expect(
      planPromote({
        kind: 'failover',
        to: S,
        database: writable,
        target: standalone,
        dataLossApproved: false,
      }),
    ).toEqual({
      code: 'NOT_ELIGIBLE',
      mode: 'unplanned',
      reason:
        'not promoting us-west-2: the database in us-west-2 is writable but was not promoted by this incident; nobody approved the data loss',
    });
    // A person approved the loss: the standalone database becomes the primary as it is.
    expect(
      planPromote({ kind: 'failover', to: S, database: writable, target: standalone, dataLossApproved: true })
        .code,
    ).toBe('ALREADY_WRITABLE');
    // A planned failback never takes a data loss.
    expect(
      planPromote({ kind: 'failback', to: S, database: writable, target: standalone, dataLossApproved: true })
        .code,
    ).toBe('NOT_ELIGIBLE');
  });

  it('ALREADY_WRITABLE: a retried promote never promotes twice', () => {
    expect(
      planPromote({ kind: 'failover', to: S, database: writable, target: ours, dataLossApproved: false }),
    ).toEqual({
      code: 'ALREADY_WRITABLE',
      mode: 'unplanned',
      reason: 'the database in us-west-2 is writable already (available): nothing to promote',
    });
  });

  it('SUBMIT a replica: unplanned for a failover, planned for a failback', () => {
    const replica = { writable: false, detail: 'replicating' };
    const args = { to: S, database: replica, target: replicaTarget, dataLossApproved: false };
    expect(planPromote({ kind: 'failover', ...args })).toEqual({
      code: 'SUBMIT',
      mode: 'unplanned',
      reason: 'promote the database in us-west-2 (unplanned)',
    });
    expect(planPromote({ kind: 'failback', ...args }).mode).toBe('planned');
  });
});
