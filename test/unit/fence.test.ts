import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FenceSnapshot, planFence, revoked } from '#core/fence.js';
import { exampleConfig } from '../support/fixtures.js';

const t = exampleConfig().lease;
const NOW = 1_700_000_000_000;
const P = 'us-east-1';
const S = 'us-west-2';
const at = (epoch: number, holder: string | null, expiresAt = NOW + 5_000) => ({ epoch, holder, expiresAt });
const snap = (lease: FenceSnapshot['lease'], epoch = 7): FenceSnapshot => ({ lease, epoch, from: P, to: S });

describe('planFence', () => {
  it('REVOKE when the primary holds the lease at the incident epoch', () => {
    const plan = planFence(snap(at(7, P)), t, NOW);
    expect(plan).toEqual({
      code: 'REVOKE',
      epoch: 7,
      previousHolder: P,
      reason: `us-east-1 holds the lease at epoch 7: revoke it and wait out its expiry plus ${t.maxSkewMs} ms of clock skew`,
    });
  });

  it('waits out the lease the revoke answered with, not the one read before it', () => {
    const plan = planFence(snap(at(7, P, NOW + 1_000)), t, NOW);
    if (plan.code !== 'REVOKE') throw new Error(plan.reason);
    // A renewal between the read and the revoke extended the lease: its new expiry is the one that counts.
    expect(revoked(plan, at(8, null, NOW + 9_000), t)).toEqual({
      fencedEpoch: 8,
      previousHolder: P,
      expiresAt: NOW + 9_000,
      safeToTakeAt: NOW + 9_000 + t.maxSkewMs,
    });
  });

  it('ALREADY_REVOKED at epoch + 1 with no holder: the old lease is waited out all the same', () => {
    const plan = planFence(snap(at(8, null, NOW - 1_000)), t, NOW);
    expect(plan).toMatchObject({
      code: 'ALREADY_REVOKED',
      fencedEpoch: 8,
      previousHolder: P,
      expiresAt: NOW - 1_000,
      safeToTakeAt: NOW - 1_000 + t.maxSkewMs,
    });
    expect(plan.reason).toBe(
      `the lease is revoked at epoch 8 already; wait out its expiry plus ${t.maxSkewMs} ms of clock skew`,
    );
  });

  it('ALREADY_GRANTED at epoch + 2 held by the target: nothing left to wait for', () => {
    expect(planFence(snap(at(9, S)), t, NOW)).toEqual({
      code: 'ALREADY_GRANTED',
      reason: 'us-west-2 holds the lease at epoch 9 already: the fence and its wait are behind us',
      fencedEpoch: 8,
      previousHolder: P,
      expiresAt: NOW,
      safeToTakeAt: NOW,
    });
  });

  it('NO_LEASE when none was ever granted', () => {
    expect(planFence(snap(null), t, NOW)).toMatchObject({
      code: 'NO_LEASE',
      fencedEpoch: null,
      safeToTakeAt: NOW,
    });
  });

  it('LEASE_LOST when another region holds the lease at the incident epoch, naming it', () => {
    expect(planFence(snap(at(7, 'eu-west-1')), t, NOW)).toEqual({
      code: 'LEASE_LOST',
      reason: 'lease epoch 7 is held by eu-west-1, not by us-east-1',
    });
  });

  it('LEASE_LOST when epoch + 1 has a holder, or epoch + 2 is not the target', () => {
    expect(planFence(snap(at(8, P)), t, NOW).reason).toBe(
      'the lease moved: expected epoch 7, found epoch 8 held by us-east-1',
    );
    expect(planFence(snap(at(9, null)), t, NOW).reason).toBe(
      'the lease moved: expected epoch 7, found epoch 9 held by nobody',
    );
  });

  const region = fc.constantFrom(P, S, 'eu-west-1', null);
  const lease = fc.record({
    epoch: fc.nat(20),
    holder: region,
    expiresAt: fc.integer({ min: NOW - 60_000, max: NOW + 60_000 }),
  });

  it('never lets a grant happen before the lease it fences is over plus the skew margin', () => {
    fc.assert(
      fc.property(lease, fc.nat(20), fc.integer({ min: 0, max: 60_000 }), (l, epoch, renewedBy) => {
        const plan = planFence(snap(l, epoch), t, NOW);
        if (plan.code === 'REVOKE') {
          const answer = { epoch: epoch + 1, expiresAt: l.expiresAt + renewedBy };
          expect(revoked(plan, answer, t).safeToTakeAt).toBeGreaterThanOrEqual(
            answer.expiresAt + t.maxSkewMs,
          );
        }
        if (plan.code === 'ALREADY_REVOKED') {
          expect(plan.safeToTakeAt).toBeGreaterThanOrEqual(l.expiresAt + t.maxSkewMs);
        }
        // Waiting nothing out is only for a lease that this incident has granted already.
        if (plan.code === 'ALREADY_GRANTED') expect([l.epoch, l.holder]).toEqual([epoch + 2, S]);
        expect(plan.code).not.toBe('NO_LEASE');
      }),
    );
  });

  it('ends in LEASE_LOST for a lease at any epoch other than the incident’s own or its own fence and grant', () => {
    fc.assert(
      fc.property(lease, fc.nat(20), (l, epoch) => {
        fc.pre(l.epoch < epoch || l.epoch > epoch + 2);
        const plan = planFence(snap(l, epoch), t, NOW);
        expect(plan.code).toBe('LEASE_LOST');
        expect(plan.reason).toContain(`found epoch ${l.epoch}`);
      }),
    );
  });

  it('revokes only the lease the failing primary holds (or nobody holds), at the incident epoch', () => {
    fc.assert(
      fc.property(lease, fc.nat(20), (l, epoch) => {
        const plan = planFence(snap(l, epoch), t, NOW);
        if (plan.code === 'REVOKE') {
          expect(l.epoch).toBe(epoch);
          expect([P, null]).toContain(l.holder);
          expect(plan.epoch).toBe(epoch);
        }
      }),
    );
  });
});
