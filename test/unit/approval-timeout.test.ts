import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_DELIVERY_MARGIN_MS,
  type ApprovalTimeoutSnapshot,
  approvalExpiresAt,
  approvalHeartbeatSeconds,
  approvalTimeout,
  approvalTimeoutAction,
} from '#core/approval-timeout.js';

describe('approvalExpiresAt', () => {
  it('stops answers before the task’s heartbeat ends its wait, leaving time to deliver the last one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2e12 }), fc.integer({ min: 1, max: 86_400 }), (now, timeout) => {
        const waitEnds = now + approvalHeartbeatSeconds(timeout) * 1_000;
        const expires = approvalExpiresAt(now, timeout);
        expect(expires).toBeGreaterThan(now);
        expect(expires).toBeLessThan(waitEnds);
        if (timeout >= 3) expect(waitEnds - expires).toBe(APPROVAL_DELIVERY_MARGIN_MS);
      }),
    );
    // The example's 900 s: the heartbeat at 899 s, answers until 898 s.
    expect(approvalExpiresAt(0, 900)).toBe(898_000);
    expect(approvalHeartbeatSeconds(900)).toBe(899);
  });
});

const base: ApprovalTimeoutSnapshot = {
  machine: 'failover',
  approval: 'failover',
  policy: 'proceed',
  timeoutSeconds: 300,
  from: 'us-east-1',
  quorum: 3,
  evidence: {
    pause: null,
    sustainedUnhealthy: 3,
    cooldown: { lastMoveAt: null, cooldownMs: 3_600_000, now: 1_700_000_000_000 },
  },
};
const cooldown = base.evidence!.cooldown;
const said = (why: string, approval = 'failover') =>
  `nobody answered the ${approval} approval within 300 s; ${why}`;

describe('approvalTimeoutAction', () => {
  it('lets only an ambiguous failover proceed by policy; data loss and failback always abort', () => {
    expect(approvalTimeoutAction('failover', 'failover', 'proceed')).toBe('proceed');
    expect(approvalTimeoutAction('failover', 'failover', 'abort')).toBe('abort');
    expect(approvalTimeoutAction('failover', 'data-loss', 'proceed')).toBe('abort');
    expect(approvalTimeoutAction('failback', 'failback', 'proceed')).toBe('abort');
  });
});

describe('approvalTimeout', () => {
  it('POLICY_PROCEED with a fresh quorum and no pause', () => {
    expect(approvalTimeout(base)).toEqual({
      action: 'proceed',
      code: 'POLICY_PROCEED',
      reason: said('the timeout policy is proceed'),
    });
  });

  it('POLICY_ABORT when the policy is abort', () => {
    expect(approvalTimeout({ ...base, policy: 'abort' })).toEqual({
      action: 'abort',
      code: 'POLICY_ABORT',
      reason: said('the timeout policy is abort'),
    });
  });

  it('NEEDS_A_PERSON for data loss and failback, whatever the policy', () => {
    expect(approvalTimeout({ ...base, approval: 'data-loss' })).toEqual({
      action: 'abort',
      code: 'NEEDS_A_PERSON',
      reason: said('the timeout policy is abort', 'data-loss'),
    });
    expect(approvalTimeout({ ...base, machine: 'failback', approval: 'failback' }).code).toBe(
      'NEEDS_A_PERSON',
    );
  });

  it('PAUSED when automatic failover is paused, naming who paused it and why', () => {
    const pause = { pausedBy: 'ana', reason: 'game day' };
    expect(approvalTimeout({ ...base, evidence: { pause, sustainedUnhealthy: 5, cooldown } })).toEqual({
      action: 'abort',
      code: 'PAUSED',
      reason: said('the timeout policy is proceed, but automatic failover is paused by ana (game day)'),
    });
  });

  it('NO_FRESH_QUORUM when too few fresh watchers see the primary down over the debounce window', () => {
    expect(approvalTimeout({ ...base, evidence: { pause: null, sustainedUnhealthy: 2, cooldown } })).toEqual({
      action: 'abort',
      code: 'NO_FRESH_QUORUM',
      reason: said(
        'the timeout policy is proceed, but only 2 fresh watchers see us-east-1 unhealthy over the debounce window (quorum 3)',
      ),
    });
  });

  it('INSIDE_COOLDOWN: a timed-out approval never proceeds inside the cool-down, nor without reading it', () => {
    const now = 1_700_000_000_000;
    expect(
      approvalTimeout({
        ...base,
        evidence: {
          pause: null,
          sustainedUnhealthy: 5,
          cooldown: { lastMoveAt: now - 60_000, cooldownMs: 3_600_000, now },
        },
      }),
    ).toEqual({
      action: 'abort',
      code: 'INSIDE_COOLDOWN',
      reason: said(
        'the timeout policy is proceed, but the last failover or failback ended 60000 ms ago, inside the cool-down of 3600000 ms',
      ),
    });
    expect(approvalTimeout({ ...base, evidence: { pause: null, sustainedUnhealthy: 5 } }).code).toBe(
      'INSIDE_COOLDOWN',
    );
    expect(
      approvalTimeout({
        ...base,
        evidence: {
          pause: null,
          sustainedUnhealthy: 5,
          cooldown: { lastMoveAt: now - 3_600_000, cooldownMs: 3_600_000, now },
        },
      }).action,
    ).toBe('proceed');
  });

  it('NOT_CHECKED: never proceeds on evidence it was not given', () => {
    expect(approvalTimeout({ ...base, evidence: null })).toMatchObject({
      action: 'abort',
      code: 'NOT_CHECKED',
    });
  });

  const snapshot = fc.record({
    machine: fc.constantFrom('failover', 'failback'),
    approval: fc.constantFrom('failover', 'data-loss', 'failback', 'hook'),
    policy: fc.constantFrom('abort' as const, 'proceed' as const),
    timeoutSeconds: fc.integer({ min: 1, max: 3600 }),
    from: fc.constant('us-east-1'),
    quorum: fc.integer({ min: 1, max: 5 }),
    evidence: fc.option(
      fc.record({
        pause: fc.option(fc.record({ pausedBy: fc.string(), reason: fc.string() }), { nil: null }),
        sustainedUnhealthy: fc.nat(7),
        cooldown: fc.record({
          lastMoveAt: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
          cooldownMs: fc.constant(5_000),
          now: fc.constant(10_000),
        }),
      }),
      { nil: null },
    ),
  });

  it('never proceeds for a failback, a data-loss approval or a failed hook', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        fc.pre(s.machine === 'failback' || s.approval === 'data-loss' || s.approval === 'hook');
        expect(approvalTimeout(s).action).toBe('abort');
      }),
    );
  });

  it('proceeds only by policy, unpaused, with a fresh quorum — what any automatic failover needs', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        const d = approvalTimeout(s);
        if (d.action === 'proceed') {
          expect(s.policy).toBe('proceed');
          expect(s.evidence?.pause).toBeNull();
          expect(s.evidence!.sustainedUnhealthy).toBeGreaterThanOrEqual(s.quorum);
          const c = s.evidence!.cooldown;
          if (c.lastMoveAt !== null) expect(c.now - c.lastMoveAt).toBeGreaterThanOrEqual(c.cooldownMs);
        }
        expect(
          d.reason.startsWith(`nobody answered the ${s.approval} approval within ${s.timeoutSeconds} s; `),
        ).toBe(true);
      }),
    );
  });
});
