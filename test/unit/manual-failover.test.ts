import { describe, expect, it } from 'vitest';
import type { Incident } from '#core/incident.js';
import { type LeaseView, type ManualFailoverSnapshot, manualFailoverVerdict } from '#core/manual-failover.js';
import { canonicalJson, manualExecutionName } from '../../bin/failover-command.js';

const regions = { primary: 'us-east-1', standby: 'us-west-2' };
const ask = { to: 'us-west-2', requestedBy: 'operator:alice' };
const lease = (l: Partial<LeaseView>): LeaseView => ({
  holder: null,
  epoch: 2,
  expiresAt: 1_000,
  valid: false,
  ...l,
});
const incident = (i: Partial<Incident>): Incident => ({
  id: 'orders:2:1',
  application: 'orders',
  kind: 'failover',
  epoch: 2,
  attempt: 1,
  status: 'requested',
  from: 'us-east-1',
  to: 'us-west-2',
  verdictKind: 'failover',
  verdictCode: 'QUORUM_UNHEALTHY',
  reason: 'r',
  evidence: {},
  needsApproval: false,
  requestedAt: 1,
  requestedBy: 'us-east-2',
  ...i,
});
const snap = (s: Partial<ManualFailoverSnapshot>): ManualFailoverSnapshot => ({
  regions,
  lease: lease({}),
  open: null,
  rebuild: null,
  cooldown: { lastMoveAt: null, cooldownMs: 3_600_000, now: 10_000_000 },
  ...s,
});

describe('manualFailoverVerdict (pure)', () => {
  it('goes from a revoked lease at its epoch, from the other application region', () => {
    expect(manualFailoverVerdict(snap({}), ask)).toEqual({
      go: true,
      code: 'MANUAL_FAILOVER',
      epoch: 2,
      from: 'us-east-1',
      to: 'us-west-2',
      reason:
        'the lease is revoked at epoch 2 with no holder; failing over from us-east-1 to us-west-2 at epoch 2, as requested by operator:alice',
      overrides: { dataLoss: null, cooldown: null },
    });
  });

  const rebuild = {
    region: 'us-west-2',
    since: 5_000_000,
    incidentId: 'orders:0:1',
    reason: 'failover orders:0:1 promoted us-east-1 in its place',
  };

  it('refuses a target marked for rebuild without --accept-data-loss; with it, records the loss', () => {
    const refused = manualFailoverVerdict(snap({ rebuild }), ask);
    expect(refused).toMatchObject({ go: false, code: 'TARGET_NOT_REPLICA' });
    expect(refused.reason).toMatch(
      /^us-west-2 needs a rebuild: failover orders:0:1 promoted us-east-1 in its place/,
    );
    expect(refused.reason).toMatch(/loses every write acknowledged in us-east-1 .*pass --accept-data-loss/);
    const accepted = manualFailoverVerdict(snap({ rebuild }), { ...ask, acceptDataLoss: true });
    expect(accepted).toMatchObject({ go: true, code: 'MANUAL_FAILOVER' });
    if (accepted.code !== 'MANUAL_FAILOVER') throw new Error('expected a failover');
    expect(accepted.overrides.dataLoss).toMatch(/^DATA LOSS accepted: us-west-2 needs a rebuild/);
    expect(accepted.reason).toContain('DATA LOSS accepted');
  });

  it('refuses inside the cool-down after a failover or failback without --override-cooldown', () => {
    const cooldown = { lastMoveAt: 9_000_000, cooldownMs: 3_600_000, now: 10_000_000 };
    expect(manualFailoverVerdict(snap({ cooldown }), ask)).toEqual({
      go: false,
      code: 'INSIDE_COOLDOWN',
      reason:
        "the last failover or failback ended 1000000 ms ago, inside the cool-down of 3600000 ms; pass --override-cooldown to go on (the --reason is recorded as the override's reason)",
    });
    const v = manualFailoverVerdict(snap({ cooldown }), { ...ask, overrideCooldown: true });
    expect(v).toMatchObject({
      go: true,
      overrides: {
        dataLoss: null,
        cooldown:
          'cool-down overridden: the last failover or failback ended 1000000 ms ago (cool-down 3600000 ms)',
      },
    });
    expect(manualFailoverVerdict(snap({ cooldown: { ...cooldown, lastMoveAt: 6_400_000 } }), ask).go).toBe(
      true,
    );
  });

  it('goes back to the original primary: from is then the standby, whoever held the lease last', () => {
    const v = manualFailoverVerdict(snap({}), { ...ask, to: 'us-east-1' });
    expect(v).toMatchObject({ go: true, from: 'us-west-2', to: 'us-east-1', epoch: 2 });
  });

  it('refuses when no lease exists, and says how to bootstrap one', () => {
    const v = manualFailoverVerdict(snap({ lease: null }), ask);
    expect(v).toMatchObject({ go: false, code: 'NO_LEASE' });
    expect(v.reason).toContain(
      'start the LeaseKeeper (or the scheduled heartbeat) in the configured primary us-east-1',
    );
    expect(v.reason).toContain('`cutover status`');
  });

  it('refuses a region that is not an application region', () => {
    expect(manualFailoverVerdict(snap({}), { ...ask, to: 'eu-west-1' })).toEqual({
      go: false,
      code: 'NOT_AN_APPLICATION_REGION',
      reason:
        'eu-west-1 is not an application region: --to must be us-east-1 (primary) or us-west-2 (standby)',
    });
  });

  it('refuses a target that holds the lease, valid or merely expired', () => {
    const valid = manualFailoverVerdict(snap({ lease: lease({ holder: 'us-west-2', valid: true }) }), ask);
    expect(valid).toMatchObject({ go: false, code: 'TARGET_HOLDS_LEASE' });
    expect(valid.reason).toContain('already holds a valid lease at epoch 2');
    const expired = manualFailoverVerdict(snap({ lease: lease({ holder: 'us-west-2' }) }), ask);
    expect(expired).toMatchObject({ go: false, code: 'TARGET_HOLDS_LEASE' });
    expect(expired.reason).toContain('expired and not renewed');
  });

  it('refuses while an incident is in flight, naming the execution that holds it', () => {
    const arn = 'arn:aws:states:us-east-2:123456789012:execution:cutover-orders-failover:x';
    const v = manualFailoverVerdict(snap({ open: incident({ status: 'running', executionArn: arn }) }), ask);
    expect(v).toMatchObject({ go: false, code: 'INCIDENT_OPEN' });
    expect(v.reason).toContain(`held by execution ${arn}`);
    expect(v.reason).toContain('cutover status');
  });

  it("starts again only this operator's own request that was never handed to the machine", () => {
    const own = incident({ verdictKind: 'manual', verdictCode: 'MANUAL', requestedBy: 'operator:alice' });
    expect(manualFailoverVerdict(snap({ open: own }), ask)).toMatchObject({
      go: true,
      code: 'RESTART_UNSTARTED',
    });
    for (const other of [
      { ...own, requestedBy: 'operator:bob' },
      { ...own, publishedAt: 5 },
      { ...own, to: 'us-east-1' },
      { ...own, requestedBy: 'us-east-2', takenOverFrom: 'operator:alice' },
    ]) {
      expect(manualFailoverVerdict(snap({ open: other }), ask)).toMatchObject({
        go: false,
        code: 'INCIDENT_OPEN',
      });
    }
  });
});

describe('the start of a manual failover', () => {
  it('has a name per incident attempt, within 80 characters', () => {
    expect(manualExecutionName({ application: 'orders', epoch: 2, attempt: 1 })).toBe(
      'manual-failover-orders-2-1',
    );
    const long = manualExecutionName({ application: 'a'.repeat(70), epoch: 123456, attempt: 3 });
    expect(long).toHaveLength(80);
    expect(long.endsWith('-123456-3')).toBe(true);
  });

  it('has an input that does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [{ x: 2, y: 1 }] }, b: 1 }),
    );
  });
});
