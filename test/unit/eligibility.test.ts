import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EligibilitySnapshot, eligibility } from '#core/eligibility.js';
import { rpo } from '#core/rpo.js';

const MARKED = 1_700_000_000_000;
const mark = {
  region: 'us-east-1',
  since: MARKED,
  incidentId: 'orders:4:1',
  reason: 'failover orders:4:1 promoted us-west-2 in its place',
};
const base: EligibilitySnapshot = {
  to: 'us-east-1',
  primary: 'us-west-2',
  mark: null,
  database: { writable: false, detail: 'in recovery' },
  lag: { lagMs: 200, at: MARKED + 60_000 },
  promotedByThisIncident: false,
};

describe('target eligibility', () => {
  it('REPLICA: a database that follows the primary and is not marked', () => {
    expect(eligibility(base)).toEqual({
      eligible: true,
      code: 'REPLICA',
      reason: 'the database in us-east-1 is not writable (in recovery)',
      clearMark: false,
    });
  });

  it('NOT_A_REPLICA: a standalone old primary that reads as writable is never "already promoted"', () => {
    expect(eligibility({ ...base, database: { writable: true, detail: 'accepts writes' }, mark })).toEqual({
      eligible: false,
      code: 'NOT_A_REPLICA',
      reason:
        'the database in us-east-1 is writable but was not promoted by this incident (accepts writes): a standalone database, not a replica of us-west-2; promoting it loses every write acknowledged in us-west-2 since it stopped following',
    });
  });

  it('NEEDS_REBUILD: a marked region without a reading newer than the mark (the aggregator reads no database)', () => {
    const d = eligibility({ ...base, mark, database: null, lag: null });
    expect(d.code).toBe('NEEDS_REBUILD');
    expect(d.reason).toContain(
      'us-east-1 needs a rebuild: failover orders:4:1 promoted us-west-2 in its place',
    );
    expect(eligibility({ ...base, mark, lag: { lagMs: 0, at: MARKED - 1 } }).code).toBe('NEEDS_REBUILD');
  });

  it('a marked region shown replicating after the mark is a replica again, and the mark is cleared', () => {
    expect(eligibility({ ...base, mark })).toMatchObject({
      eligible: true,
      code: 'REPLICA',
      clearMark: true,
    });
  });

  it('PROMOTED_BY_THIS_INCIDENT: a retry or a takeover of the incident that promoted it', () => {
    expect(
      eligibility({
        ...base,
        database: { writable: true, detail: 'accepts writes' },
        promotedByThisIncident: true,
      }).code,
    ).toBe('PROMOTED_BY_THIS_INCIDENT');
  });

  it('a writable target is eligible only when this incident promoted it; a marked one only after a fresh reading', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.integer({ min: MARKED - 60_000, max: MARKED + 60_000 }), { nil: null }),
        (writable, marked, ours, at) => {
          const d = eligibility({
            ...base,
            database: { writable, detail: '-' },
            mark: marked ? mark : null,
            lag: { lagMs: 0, at },
            promotedByThisIncident: ours,
          });
          if (writable && !ours) expect(d.eligible).toBe(false);
          if (marked && !ours && (at === null || at <= MARKED)) expect(d.eligible).toBe(false);
          if (!writable && !marked) expect(d.eligible).toBe(true);
        },
      ),
    );
  });
});

describe('eligibility without a managed database', () => {
  it('is NO_DATABASE, clears a rebuild mark, and lets the RPO guard promote nothing without asking', () => {
    const d = eligibility({
      to: 'us-west-2',
      primary: 'us-east-1',
      mark: { region: 'us-west-2', since: 1, incidentId: 'orders:1:1', reason: 'left by a failover' },
      database: { writable: true, managed: false, detail: 'no database is configured' },
      lag: { lagMs: null, at: null },
      promotedByThisIncident: false,
    });
    expect(d).toMatchObject({ eligible: true, code: 'NO_DATABASE', clearMark: true });
    expect(
      rpo({
        lag: { lagMs: null, at: null },
        fencedAt: 10,
        budgetMs: 5_000,
        attempt: 1,
        maxAttempts: 3,
        policy: 'ask',
        to: 'us-west-2',
        target: d,
        dataLossAccepted: false,
      }),
    ).toMatchObject({ action: 'promote', code: 'NO_DATABASE' });
  });

  it('still refuses a writable database that is managed and was not promoted by this incident', () => {
    const d = eligibility({
      to: 'us-west-2',
      primary: 'us-east-1',
      mark: null,
      database: { writable: true, detail: 'orders-db-usw2 available' },
      lag: null,
      promotedByThisIncident: false,
    });
    expect(d).toMatchObject({ eligible: false, code: 'NOT_A_REPLICA' });
  });
});
