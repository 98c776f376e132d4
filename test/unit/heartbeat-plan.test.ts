import { describe, expect, it } from 'vitest';
import { planHeartbeat } from '#core/heartbeat.js';
import type { Lease } from '#core/lease.js';

const lease = (holder: string | null, epoch = 3): Lease => ({
  application: 'orders',
  holder,
  epoch,
  expiresAt: 100_000,
  updatedAt: 70_000,
});
const view = { healthy: true, healthDetail: 'ok 200', region: 'us-east-1', primaryRegion: 'us-east-1' };

describe('planHeartbeat', () => {
  it('renews only its own lease, at its epoch, while healthy', () => {
    expect(planHeartbeat({ ...view, lease: lease('us-east-1') })).toMatchObject({
      action: 'renew',
      epoch: 3,
    });
    expect(
      planHeartbeat({ ...view, lease: lease('us-east-1'), healthy: false, healthDetail: 'status 503' }),
    ).toEqual({
      action: 'none',
      code: 'UNHEALTHY_NOT_RENEWING',
      reason: 'not renewing epoch 3: us-east-1 is unhealthy (status 503); the lease lapses at 100000',
    });
  });

  it('creates a lease only when none exists and only in the configured primary', () => {
    expect(planHeartbeat({ ...view, lease: null })).toMatchObject({ action: 'acquire', code: 'BOOTSTRAP' });
    expect(planHeartbeat({ ...view, lease: null, region: 'us-west-2' })).toMatchObject({
      code: 'NO_LEASE_STANDBY',
    });
    expect(planHeartbeat({ ...view, lease: null, healthy: false })).toMatchObject({ code: 'UNHEALTHY' });
  });

  it('keeps its hands off a revoked lease or one held elsewhere, even in the configured primary', () => {
    expect(planHeartbeat({ ...view, lease: lease(null, 4) })).toMatchObject({
      action: 'none',
      code: 'FENCED',
    });
    expect(planHeartbeat({ ...view, lease: lease('us-west-2', 5) })).toEqual({
      action: 'none',
      code: 'NOT_HOLDER',
      reason: 'us-west-2 holds epoch 5; us-east-1 has nothing to renew',
    });
  });
});
