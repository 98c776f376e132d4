import { describe, expect, it } from 'vitest';
import type { Incident } from '#core/incident.js';
import { nextStep, type ScreenFacts, whereItStopped } from '#core/next-step.js';

const incident = (over: Partial<Incident> = {}): Incident => ({
  id: 'orders:4:1',
  application: 'orders',
  kind: 'failover',
  epoch: 4,
  attempt: 1,
  status: 'failed',
  from: 'us-east-1',
  to: 'us-west-2',
  verdictKind: 'failover',
  verdictCode: 'QUORUM_UNHEALTHY',
  reason: 'quorum',
  evidence: {},
  needsApproval: false,
  requestedAt: 0,
  requestedBy: 'us-east-2',
  closedAt: 10,
  closeReason: 'grant-lease: StoreError: throttled',
  ...over,
});

const facts = (over: Partial<ScreenFacts> = {}): ScreenFacts => ({
  application: 'orders',
  primary: 'us-east-1',
  standby: 'us-west-2',
  flags: '--config c.json',
  engine: 'rds',
  databaseIds: { 'us-east-1': 'db-e', 'us-west-2': 'db-w' },
  lease: { holder: 'us-east-1', epoch: 4, valid: true, selfFenced: false },
  pause: null,
  open: null,
  stopped: null,
  rebuilds: [],
  ...over,
});

describe('whereItStopped', () => {
  it('reads the failed step, error and cause from the report-failure entry, and corrects progress by the lease', () => {
    const s = whereItStopped(
      incident(),
      [
        { at: 1, step: 'fence', outcome: 'revoked' },
        { at: 2, step: 'promote', outcome: 'submitted' },
        {
          at: 3,
          step: 'report-failure',
          outcome: 'failed',
          detail: {
            step: 'grant-lease',
            error: 'StoreError',
            cause: 'throttled',
            fenced: true,
            promoted: true,
          },
        },
      ],
      // The grant landed although its answer was lost: epoch + 2, held by the target.
      { epoch: 6, holder: 'us-west-2' },
    );
    expect(s).toMatchObject({ step: 'grant-lease', error: 'StoreError', cause: 'throttled' });
    expect(s.progress).toEqual({ fenced: true, promoted: true, leaseGranted: true, trafficMoved: false });
  });

  it('falls back to the close reason when the trail has no report (step: error: cause, the cause may hold colons)', () => {
    const s = whereItStopped(
      incident({ closeReason: 'promote: DatabaseError: InvalidDBInstanceStateFault: not a replica' }),
      [],
      { epoch: 5, holder: null },
    );
    expect(s).toMatchObject({
      step: 'promote',
      error: 'DatabaseError',
      cause: 'InvalidDBInstanceStateFault: not a replica',
      progress: { fenced: true, promoted: false },
    });
  });
});

describe('nextStep', () => {
  it('a revoked lease after a promotion: fail over to the standby with --accept-data-loss', () => {
    const stopped = whereItStopped(incident(), [{ at: 2, step: 'promote-status', outcome: 'writable' }], {
      epoch: 5,
      holder: null,
    });
    const n = nextStep(
      facts({ lease: { holder: null, epoch: 5, valid: false, selfFenced: false }, stopped }),
    );
    expect(n.code).toBe('FAIL_OVER_TO_FINISH');
    expect(n.command).toBe(
      'cutover failover --to us-west-2 --reason "finish orders:4:1 after grant-lease failed" --accept-data-loss --config c.json',
    );
  });

  it('a revoked lease whose target needs a rebuild: back to the old primary, which loses nothing', () => {
    const stopped = whereItStopped(incident({ closeReason: 'rpo-guard: X: y' }), [], {
      epoch: 5,
      holder: null,
    });
    const n = nextStep(
      facts({
        lease: { holder: null, epoch: 5, valid: false, selfFenced: false },
        stopped,
        rebuilds: [{ region: 'us-west-2', since: 1, incidentId: 'orders:2:1', reason: 'left' }],
      }),
    );
    expect(n.command).toBe(
      'cutover failover --to us-east-1 --reason "finish orders:4:1 after rpo-guard failed" --config c.json',
    );
  });

  it('an open incident comes first; then pause; a quiet table needs nothing', () => {
    expect(nextStep(facts({ open: incident({ status: 'running', progressStep: 'fence' }) }))).toMatchObject({
      code: 'FOLLOW_INCIDENT',
      command: 'cutover audit orders:4:1 --config c.json',
    });
    expect(nextStep(facts({ pause: { pausedBy: 'al', reason: 'upgrade' } }))).toMatchObject({
      code: 'RESUME',
      command: 'cutover resume --config c.json',
    });
    expect(nextStep(facts())).toMatchObject({ code: 'NOTHING_TO_DO', command: null });
    expect(nextStep(facts({ lease: null }))).toMatchObject({ code: 'NO_LEASE', command: null });
  });
});
