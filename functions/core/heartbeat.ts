import type { Lease } from './lease.js';

/** What one heartbeat tick should do, from what it knows of the lease and its own region's health. */
export type HeartbeatPlan =
  | { action: 'renew'; epoch: number; code: 'RENEW'; reason: string }
  | { action: 'acquire'; code: 'BOOTSTRAP'; reason: string }
  | {
      action: 'none';
      code: 'UNHEALTHY_NOT_RENEWING' | 'UNHEALTHY' | 'NO_LEASE_STANDBY' | 'FENCED' | 'NOT_HOLDER';
      reason: string;
    };

export interface HeartbeatView {
  /** The lease as last seen (read, or returned by this region's own last renewal). */
  lease: Lease | null;
  healthy: boolean;
  healthDetail: string;
  region: string;
  /** The configured primary: the only region that may create a lease that never existed. */
  primaryRegion: string;
}

/**
 * The heartbeat renews only while its region is healthy by its own check, so an unhealthy primary fences
 * itself: it stops renewing, stops writing at its holder deadline, and the lease lapses. It never takes a lease
 * that exists: after a revoke, only the failover's grant hands the lease on.
 */
export function planHeartbeat(v: HeartbeatView): HeartbeatPlan {
  const { lease, region } = v;
  if (!v.healthy) {
    return lease?.holder === region
      ? {
          action: 'none',
          code: 'UNHEALTHY_NOT_RENEWING',
          reason: `not renewing epoch ${lease.epoch}: ${region} is unhealthy (${v.healthDetail}); the lease lapses at ${lease.expiresAt}`,
        }
      : { action: 'none', code: 'UNHEALTHY', reason: `${region} is unhealthy (${v.healthDetail})` };
  }
  if (!lease) {
    return region === v.primaryRegion
      ? {
          action: 'acquire',
          code: 'BOOTSTRAP',
          reason: `no lease exists: ${region}, the configured primary, takes it`,
        }
      : {
          action: 'none',
          code: 'NO_LEASE_STANDBY',
          reason: `no lease exists and ${region} is not the configured primary (${v.primaryRegion})`,
        };
  }
  if (lease.holder === region) {
    return {
      action: 'renew',
      epoch: lease.epoch,
      code: 'RENEW',
      reason: `${region} holds epoch ${lease.epoch}`,
    };
  }
  if (lease.holder === null) {
    return {
      action: 'none',
      code: 'FENCED',
      reason: `lease revoked at epoch ${lease.epoch}; waiting for the failover to grant it`,
    };
  }
  return {
    action: 'none',
    code: 'NOT_HOLDER',
    reason: `${lease.holder} holds epoch ${lease.epoch}; ${region} has nothing to renew`,
  };
}
