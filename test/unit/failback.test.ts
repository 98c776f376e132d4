import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VoterEvidence } from '#core/decide.js';
import { drain, type FailbackSnapshot, failbackCooldown, isOwnRetry, preconditions } from '#core/failback.js';

const NOW = 1_700_000_000_000;
const from = 'us-west-2';
const to = 'us-east-1';
const healthyFor = (voter: string, minutes: number): VoterEvidence => ({
  voter,
  healthy: true,
  since: NOW - minutes * 60_000,
  observedAt: NOW - 1_000,
  detail: 'status 200',
});
const base: FailbackSnapshot = {
  from,
  to,
  epoch: 9,
  quorum: 3,
  minHealthyMinutes: 10,
  maxLagMs: 1_000,
  now: NOW,
  lease: { holder: from, epoch: 9 },
  fresh: ['a', 'b', 'c'].map((v) => healthyFor(v, 10)),
  database: { writable: false, detail: 'replicating' },
  lagMs: 200,
  target: { eligible: true, code: 'REPLICA', reason: 'not marked for rebuild', clearMark: false },
};

describe('failback preconditions', () => {
  it('NEEDS_REBUILD: a replica that a failover left, with no reading since that shows it replicating', () => {
    const d = preconditions({
      ...base,
      target: { eligible: false, code: 'NEEDS_REBUILD', reason: 'us-east-1 needs a rebuild' },
    });
    expect(d.met).toBe(false);
    expect(d.unmet).toEqual([{ code: 'NEEDS_REBUILD', reason: 'us-east-1 needs a rebuild' }]);
  });

  it('PRECONDITIONS_MET when the lease is where the operator said, the region healthy long enough, a replica in sync', () => {
    expect(preconditions(base)).toEqual({
      met: true,
      code: 'PRECONDITIONS_MET',
      reason: 'all preconditions met',
      unmet: [],
      healthyVoters: ['a', 'b', 'c'],
    });
  });

  it('names every unmet precondition, each with its code, in one reason', () => {
    const d = preconditions({
      ...base,
      lease: { holder: 'eu-west-1', epoch: 10 },
      fresh: [healthyFor('a', 10), healthyFor('b', 9)],
      database: { writable: true, detail: 'available' },
      lagMs: null,
    });
    expect(d.met).toBe(false);
    expect(d.code).toBe('PRECONDITIONS_NOT_MET');
    expect(d.unmet.map((u) => u.code)).toEqual([
      'LEASE_MOVED',
      'NOT_HEALTHY_LONG_ENOUGH',
      'NOT_REPLICATING',
      'LAG_OVER_THRESHOLD',
    ]);
    expect(d.reason).toBe(
      [
        'expected us-west-2 to hold the lease at epoch 9; found eu-west-1 at 10',
        '1 fresh watchers (quorum 3) have seen us-east-1 healthy for 10 min',
        'the database in us-east-1 is writable, not a replica: available',
        'replication lag of us-east-1 is unknown, threshold 1000 ms',
      ].join('; '),
    );
  });

  it('is met exactly when no precondition is unmet, and never with unknown lag or a moved lease', () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ holder: fc.constantFrom(from, to, null), epoch: fc.nat(12) }), { nil: null }),
        fc.array(fc.record({ voter: fc.string(), minutes: fc.nat(30), healthy: fc.boolean() }), {
          maxLength: 6,
        }),
        fc.boolean(),
        fc.option(fc.nat(3_000), { nil: null }),
        (lease, votes, writable, lagMs) => {
          const fresh = votes.map((v) => ({ ...healthyFor(v.voter, v.minutes), healthy: v.healthy }));
          const d = preconditions({ ...base, lease, fresh, database: { writable, detail: '' }, lagMs });
          expect(d.met).toBe(d.unmet.length === 0);
          if (d.met) {
            expect(lease).toEqual({ holder: from, epoch: 9 });
            expect(lagMs).not.toBeNull();
            expect(lagMs!).toBeLessThanOrEqual(base.maxLagMs);
            expect(writable).toBe(false);
            expect(d.healthyVoters.length).toBeGreaterThanOrEqual(base.quorum);
          } else {
            expect(d.reason).toBe(d.unmet.map((u) => u.reason).join('; '));
          }
        },
      ),
    );
  });
});

describe('drain', () => {
  const FENCED = NOW - 5_000;
  const readAfter = (lagMs: number | null) => ({ lagMs, at: FENCED + 1_000 });
  it('DRAINED only at lag 0; unknown lag is not drained', () => {
    expect(drain(to, readAfter(0), FENCED)).toEqual({
      code: 'DRAINED',
      done: true,
      reason: 'us-east-1 has replayed everything (lag 0 ms)',
    });
    expect(drain(to, readAfter(40), FENCED)).toEqual({
      code: 'LAGGING',
      done: false,
      reason: 'replication lag of us-east-1 is 40 ms; waiting for 0',
    });
    expect(drain(to, readAfter(null), FENCED).reason).toBe(
      'replication lag of us-east-1 is unknown; waiting for 0',
    );
  });

  it('a zero read before the fence (or without a time) does not finish the drain', () => {
    expect(drain(to, { lagMs: 0, at: FENCED - 30_000 }, FENCED)).toEqual({
      code: 'LAGGING',
      done: false,
      reason:
        'replication lag of us-east-1 is unknown (the reading of 0 ms predates the fence); waiting for 0',
    });
    expect(drain(to, { lagMs: 0, at: FENCED }, FENCED).done).toBe(false);
    expect(drain(to, { lagMs: 0, at: null }, FENCED).done).toBe(false);
  });

  it('drains exactly on a zero read after the fence', () => {
    fc.assert(
      fc.property(
        fc.option(fc.nat(), { nil: null }),
        fc.option(fc.integer({ min: -60_000, max: 60_000 }), { nil: null }),
        (lag, offset) => {
          const at = offset === null ? null : FENCED + offset;
          const d = drain(to, { lagMs: lag, at }, FENCED);
          expect(d.done).toBe(lag === 0 && at !== null && at > FENCED);
        },
      ),
    );
  });
});

describe('isOwnRetry', () => {
  const input = { from, to, requestedBy: 'ana' };
  const arn = 'arn:aws:states:us-east-2:1:execution:failback:a';
  it('adopts a failback bound to this execution, or an unbound request this same input made', () => {
    const running = { kind: 'failback' as const, status: 'running' as const, from, to, requestedBy: 'ana' };
    expect(isOwnRetry({ ...running, executionArn: arn }, input, arn)).toBe(true);
    expect(isOwnRetry({ ...running, executionArn: `${arn}-other` }, input, arn)).toBe(false);
    const requested = { ...running, status: 'requested' as const, executionArn: undefined };
    expect(isOwnRetry(requested, input, arn)).toBe(true);
    expect(isOwnRetry({ ...requested, requestedBy: 'bob' }, input, arn)).toBe(false);
    expect(isOwnRetry({ ...requested, kind: 'failover' }, input, arn)).toBe(false);
  });
});

describe('failback cool-down', () => {
  const cooldownMs = 3_600_000;
  it('INSIDE_COOLDOWN refuses a failback right after a failover unless the operator overrides it', () => {
    expect(failbackCooldown({ lastMoveAt: NOW - 60_000, cooldownMs, now: NOW, override: false })).toEqual({
      go: false,
      code: 'INSIDE_COOLDOWN',
      reason:
        'the last failover or failback ended 60000 ms ago, inside the cool-down of 3600000 ms; set "overrideCooldown": true in the input to go on (its reason is recorded)',
    });
    expect(
      failbackCooldown({ lastMoveAt: NOW - 60_000, cooldownMs, now: NOW, override: true }),
    ).toMatchObject({
      go: true,
      code: 'COOLDOWN_OVERRIDDEN',
    });
    expect(
      failbackCooldown({ lastMoveAt: NOW - cooldownMs, cooldownMs, now: NOW, override: false }).code,
    ).toBe('OUTSIDE_COOLDOWN');
    expect(failbackCooldown({ lastMoveAt: null, cooldownMs, now: NOW, override: false }).go).toBe(true);
  });

  it('goes without an override only outside the cool-down', () => {
    fc.assert(
      fc.property(fc.option(fc.nat(2 * cooldownMs), { nil: null }), fc.boolean(), (ago, override) => {
        const d = failbackCooldown({
          lastMoveAt: ago === null ? null : NOW - ago,
          cooldownMs,
          now: NOW,
          override,
        });
        if (d.go && !override) expect(ago === null || ago >= cooldownMs).toBe(true);
        if (!d.go) expect(override).toBe(false);
      }),
    );
  });
});
