import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { abandonClose, abandonPlan, FAILBACK_ORDER, failbackReached } from '#core/abandon.js';
import { inFlightPlan } from '#core/in-flight.js';
import { config, HERE, incident, NOW, P, S, THERE } from '../support/aggregator.js';

const AFTER = config.takeoverAfterMs;
const ARN = 'arn:aws:states:us-east-2:123456789012:execution:cutover-failback:abc';
const UNPAUSED = { pause: null, fenced: false };
const PAUSE = { pausedBy: 'ana', reason: 'db upgrade' };

describe('inFlightPlan', () => {
  const takenOver = incident({ takenOverFrom: ARN, takenOverAt: NOW - 10, takeovers: 1 });

  it('puts the event of its own takeover first, before any judgement', () => {
    expect(inFlightPlan(takenOver, HERE, NOW, AFTER, UNPAUSED)).toMatchObject({
      act: 're-publish',
      code: 'TAKEOVER_UNPUBLISHED',
      reason: `this region (${HERE}) took orders:1:1 over from ${ARN} but its Failover Requested was not put`,
    });
    expect(inFlightPlan(takenOver, THERE, NOW, AFTER, UNPAUSED).act).toBe('leave');
    expect(inFlightPlan({ ...takenOver, publishedAt: NOW }, HERE, NOW, AFTER, UNPAUSED).act).toBe('leave');
  });

  it('takes over a stalled failover, abandons a stalled failback, leaves a live one', () => {
    const running = incident({ status: 'running', executionArn: ARN, claimedAt: NOW, progressAt: NOW });
    expect(inFlightPlan(running, THERE, NOW + AFTER, AFTER, UNPAUSED)).toMatchObject({
      act: 'take-over',
      code: 'EXECUTION_STALLED',
    });
    expect(inFlightPlan(running, THERE, NOW + AFTER - 1, AFTER, UNPAUSED)).toMatchObject({
      act: 'leave',
      code: 'PROGRESSING',
    });
    const failback = { ...running, kind: 'failback' as const };
    expect(inFlightPlan(failback, HERE, NOW + AFTER, AFTER, UNPAUSED)).toMatchObject({
      act: 'abandon',
      code: 'FAILBACK_ABANDONED',
    });
  });

  it('TAKEOVER_PAUSED: a pause holds the takeover of an incident not fenced yet, and its event', () => {
    const running = incident({ status: 'running', executionArn: ARN, claimedAt: NOW, progressAt: NOW });
    const held = inFlightPlan(running, THERE, NOW + AFTER, AFTER, { pause: PAUSE, fenced: false });
    expect(held).toEqual({
      act: 'hold',
      code: 'TAKEOVER_PAUSED',
      reason: `not acted on: execution ${ARN} in us-east-2 made no progress for ${AFTER} ms (takeover after ${AFTER} ms); automatic failover is paused by ana (db upgrade), and orders:1:1 is not fenced, so its old primary may still write`,
    });
    expect(inFlightPlan(takenOver, HERE, NOW, AFTER, { pause: PAUSE, fenced: false })).toMatchObject({
      act: 'hold',
      code: 'TAKEOVER_PAUSED',
    });
  });

  it('finishes a fenced incident despite the pause: stopping there would leave no writer', () => {
    const running = incident({ status: 'running', executionArn: ARN, claimedAt: NOW, progressAt: NOW });
    const plan = inFlightPlan(running, THERE, NOW + AFTER, AFTER, { pause: PAUSE, fenced: true });
    expect(plan).toMatchObject({ act: 'take-over', code: 'EXECUTION_STALLED' });
    expect(plan.reason).toMatch(
      /; automatic failover is paused by ana \(db upgrade\), but orders:1:1 is fenced already and stopping it would leave no writer$/,
    );
    expect(inFlightPlan(takenOver, HERE, NOW, AFTER, { pause: PAUSE, fenced: true }).act).toBe('re-publish');
  });

  it('while paused, starts an execution only for a fenced incident; otherwise the pause changes nothing (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('requested', 'running') as fc.Arbitrary<'requested' | 'running'>,
        fc.constantFrom('failover', 'failback') as fc.Arbitrary<'failover' | 'failback'>,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(HERE, THERE),
        fc.nat(3 * AFTER),
        (status, kind, fenced, takenOverHere, region, idle) => {
          const i = incident({
            status,
            kind,
            requestedBy: takenOverHere ? HERE : THERE,
            progressAt: NOW,
            ...(status === 'running' ? { executionArn: ARN } : {}),
            ...(takenOverHere ? { takenOverFrom: ARN } : {}),
          });
          const free = inFlightPlan(i, region, NOW + idle, AFTER, { pause: null, fenced });
          const paused = inFlightPlan(i, region, NOW + idle, AFTER, { pause: PAUSE, fenced });
          const starts = (a: string) => a === 'take-over' || a === 're-publish';
          if (starts(paused.act)) expect(fenced).toBe(true);
          if (fenced || !starts(free.act))
            expect(paused).toEqual(starts(free.act) ? { ...free, reason: paused.reason } : free);
          else expect(paused).toMatchObject({ act: 'hold', code: 'TAKEOVER_PAUSED' });
        },
      ),
    );
  });

  it('never acts on an incident of another region before takeoverAfterMs without progress (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('requested', 'running') as fc.Arbitrary<'requested' | 'running'>,
        fc.constantFrom('failover', 'failback') as fc.Arbitrary<'failover' | 'failback'>,
        fc.nat(AFTER - 1),
        (status, kind, idle) => {
          const i = incident({ status, kind, requestedBy: THERE, progressAt: NOW });
          expect(inFlightPlan(i, HERE, NOW + idle, AFTER, UNPAUSED).act).toBe('leave');
        },
      ),
    );
  });
});

describe('abandonPlan: how far a stalled failback got', () => {
  const failback = (progressStep?: string) =>
    incident({
      kind: 'failback',
      status: 'running',
      epoch: 1,
      from: S,
      to: P,
      executionArn: ARN,
      ...(progressStep === undefined ? {} : { progressStep }),
    });
  const verdict = { code: 'FAILBACK_ABANDONED' as const, reason: 'abandoned: no progress for 180000 ms' };
  const unfenced = { epoch: 1, holder: S };

  it('keeps route-traffic-status after route-traffic and before verify', () => {
    const order: readonly string[] = FAILBACK_ORDER;
    expect(order.indexOf('route-traffic-status')).toBe(order.indexOf('route-traffic') + 1);
    expect(order.indexOf('verify')).toBe(order.indexOf('route-traffic-status') + 1);
  });

  it('reports traffic moved for a failback abandoned during its traffic polls', () => {
    const plan = abandonPlan(failback('route-traffic-status'), verdict, { epoch: 3, holder: P }, HERE);
    expect(plan).toMatchObject({
      code: 'FAILBACK_ABANDONED',
      step: 'route-traffic-status',
      progress: { fenced: true, promoted: true, leaseGranted: true, trafficMoved: true },
    });
  });

  it('reports nothing done at the claim, and the step "start" for an unclaimed request', () => {
    const plan = abandonPlan(failback('claim'), verdict, unfenced, HERE);
    expect(plan.progress).toEqual({
      fenced: false,
      promoted: false,
      leaseGranted: false,
      trafficMoved: false,
    });
    expect(plan.closeReason).toBe(`${verdict.reason}; closed by the aggregator in ${HERE}`);
    expect(abandonPlan(failback(), verdict, { epoch: 2, holder: null }, HERE)).toMatchObject({
      step: 'start',
      progress: { fenced: true, promoted: false },
    });
  });

  it('never reports less for a later step, and moves traffic exactly from route-traffic on (property)', () => {
    const step = fc.nat(FAILBACK_ORDER.length - 1);
    fc.assert(
      fc.property(step, step, (a, b) => {
        const [early, late] = [Math.min(a, b), Math.max(a, b)];
        const p = (i: number) => abandonPlan(failback(FAILBACK_ORDER[i]), verdict, unfenced, HERE).progress;
        for (const k of ['fenced', 'promoted', 'leaseGranted', 'trafficMoved'] as const) {
          if (p(early)[k]) expect(p(late)[k]).toBe(true);
        }
        expect(p(late).trafficMoved).toBe(late >= FAILBACK_ORDER.indexOf('route-traffic'));
      }),
    );
    expect(failbackReached('report-failure')).toEqual(failbackReached(undefined));
  });

  it('knows whether its close is the one that stands', () => {
    const plan = abandonPlan(failback('claim'), verdict, unfenced, HERE);
    const closed = { id: 'orders:1:1', closedAt: NOW, closeReason: plan.closeReason };
    expect(abandonClose(closed, plan, NOW)).toMatchObject({ won: true, code: 'CLOSED' });
    const other = { ...closed, closeReason: `${verdict.reason}; closed by the aggregator in ${THERE}` };
    expect(abandonClose(other, plan, NOW)).toEqual({
      won: false,
      code: 'ALREADY_CLOSED',
      reason: `already closed: ${other.closeReason}`,
    });
    expect(abandonClose({ ...closed, closedAt: NOW - 1 }, plan, NOW).won).toBe(false);
  });
});
