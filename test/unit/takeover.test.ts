import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.js';
import type { Incident } from '#core/incident.js';
import { executionRegion, takeoverVerdict } from '#core/takeover.js';
import { exampleConfig, exampleConfigJson } from '../support/fixtures.js';

const T0 = 1_800_000_000_000;
const AFTER = 180_000;
const ARN = 'arn:aws:states:us-east-2:123456789012:execution:cutover-failover:abc';

function incident(partial: Partial<Incident> = {}): Incident {
  return {
    id: 'orders:1:1',
    application: 'orders',
    kind: 'failover',
    epoch: 1,
    attempt: 1,
    status: 'running',
    from: 'us-east-1',
    to: 'us-west-2',
    verdictKind: 'failover',
    verdictCode: 'QUORUM_UNHEALTHY',
    reason: 'r',
    evidence: {},
    needsApproval: false,
    requestedAt: T0 - 1_000,
    requestedBy: 'us-east-2',
    executionArn: ARN,
    claimedAt: T0,
    progressAt: T0,
    progressStep: 'fence',
    ...partial,
  };
}

describe('takeoverVerdict', () => {
  it('takes over a running incident of another region once it showed no progress for takeoverAfterMs', () => {
    expect(takeoverVerdict(incident(), 'eu-central-1', T0 + AFTER, AFTER)).toMatchObject({
      take: true,
      code: 'EXECUTION_STALLED',
      idleMs: AFTER,
    });
    expect(takeoverVerdict(incident(), 'eu-central-1', T0 + AFTER - 1, AFTER)).toMatchObject({
      take: false,
      code: 'PROGRESSING',
    });
  });

  it('never takes over before takeoverAfterMs without progress, whatever the clocks', () => {
    fc.assert(
      fc.property(fc.nat(10 * AFTER), fc.nat(AFTER - 1), fc.nat(AFTER), (progress, idle, quiet) => {
        const i = incident({ progressAt: T0 + progress, quietUntil: T0 + progress + quiet });
        const now = T0 + progress + quiet + idle;
        expect(takeoverVerdict(i, 'eu-central-1', now, AFTER).take).toBe(false);
      }),
    );
  });

  it('counts an announced wait (quietUntil) as progress until it ends', () => {
    const waiting = incident({ quietUntil: T0 + 900_000 });
    expect(takeoverVerdict(waiting, 'eu-central-1', T0 + 900_000 + AFTER - 1, AFTER).take).toBe(false);
    expect(takeoverVerdict(waiting, 'eu-central-1', T0 + 900_000 + AFTER, AFTER).take).toBe(true);
  });

  it('leaves an execution of its own region and a closed incident alone', () => {
    const late = T0 + 10 * AFTER;
    expect(takeoverVerdict(incident(), 'us-east-2', late, AFTER).code).toBe('OWN_REGION');
    expect(takeoverVerdict(incident({ status: 'completed' }), 'eu-central-1', late, AFTER).code).toBe(
      'NOT_OPEN',
    );
    expect(
      takeoverVerdict(incident({ kind: 'failback', status: 'failed' }), 'eu-central-1', late, AFTER).code,
    ).toBe('NOT_OPEN');
  });

  it('never takes a failback over: a stalled one is abandoned, from any region, a live one left alone', () => {
    const failback = incident({ kind: 'failback' });
    for (const region of ['eu-central-1', 'us-east-2']) {
      const v = takeoverVerdict(failback, region, T0 + AFTER, AFTER);
      expect(v).toMatchObject({ take: false, abandon: true, code: 'FAILBACK_ABANDONED', idleMs: AFTER });
      expect(v.reason).toContain(`abandoned: no progress for ${AFTER} ms; a failback is not taken over`);
    }
    expect(takeoverVerdict(failback, 'eu-central-1', T0 + AFTER - 1, AFTER)).toMatchObject({
      take: false,
      code: 'PROGRESSING',
    });
    // Waiting for its approval (announced by the preconditions step) is no stall.
    const waiting = incident({ kind: 'failback', progressStep: 'preconditions', quietUntil: T0 + 900_000 });
    expect(takeoverVerdict(waiting, 'eu-central-1', T0 + 900_000 + AFTER - 1, AFTER).code).toBe(
      'PROGRESSING',
    );
    // A request that no execution claimed is abandoned too (counted from its request).
    const unclaimed = incident({
      kind: 'failback',
      status: 'requested',
      executionArn: undefined,
      claimedAt: undefined,
      progressAt: undefined,
      progressStep: undefined,
      requestedAt: T0,
    });
    expect(takeoverVerdict(unclaimed, 'eu-central-1', T0 + AFTER, AFTER).code).toBe('FAILBACK_ABANDONED');
    fc.assert(
      fc.property(fc.nat(10 * AFTER), fc.nat(AFTER - 1), fc.nat(AFTER), (progress, idle, quiet) => {
        const i = incident({
          kind: 'failback',
          progressAt: T0 + progress,
          quietUntil: T0 + progress + quiet,
        });
        const v = takeoverVerdict(i, 'eu-central-1', T0 + progress + quiet + idle, AFTER);
        expect(v.take || v.abandon).toBeFalsy();
      }),
    );
  });

  it('takes over a request that no execution claimed, from the time it was put on the bus', () => {
    const unclaimed = incident({
      status: 'requested',
      executionArn: undefined,
      claimedAt: undefined,
      progressAt: undefined,
      publishedAt: T0,
    });
    expect(takeoverVerdict(unclaimed, 'eu-central-1', T0 + AFTER - 1, AFTER).take).toBe(false);
    expect(takeoverVerdict(unclaimed, 'eu-central-1', T0 + AFTER, AFTER)).toMatchObject({
      take: true,
      code: 'REQUEST_UNCLAIMED',
    });
  });

  it('reads the region of an execution ARN', () => {
    expect(executionRegion(ARN)).toBe('us-east-2');
    expect(executionRegion('not-an-arn')).toBeNull();
  });
});

describe('takeoverAfterMs', () => {
  it('defaults to more than the longest Task timeout plus the longest poll Wait of the failover machine', () => {
    const asl = JSON.parse(
      readFileSync(new URL('../../statemachines/failover.asl.json', import.meta.url), 'utf8'),
    ) as { States: Record<string, { Type: string; TimeoutSeconds?: number; Seconds?: number }> };
    // The bake between weighted traffic steps is a failback's; a failover routes in one step.
    const states = Object.entries(asl.States)
      .filter(([name]) => name !== 'BakeTrafficStep')
      .map(([, s]) => s);
    const longestTask = Math.max(...states.map((s) => (s.Type === 'Task' ? (s.TimeoutSeconds ?? 0) : 0)));
    const longestWait = Math.max(...states.map((s) => (s.Type === 'Wait' ? (s.Seconds ?? 0) : 0)));
    expect([longestTask, longestWait]).toEqual([120, 10]);
    expect(exampleConfig().takeoverAfterMs).toBeGreaterThan((longestTask + longestWait) * 1000);
  });

  it("is refused at or below the fence's wait (lease.ttlMs + lease.maxSkewMs), naming the field", () => {
    const raw = exampleConfigJson() as { takeoverAfterMs?: number };
    raw.takeoverAfterMs = 31_000;
    const res = parseConfig(raw);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.issues).toEqual([
        expect.objectContaining({ field: 'takeoverAfterMs', message: expect.stringContaining('31000') }),
      ]);
    }
  });
});
