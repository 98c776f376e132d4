import { TrafficError } from '#core/failover-errors.js';
import type { ChangeStatus, TrafficChange, TrafficRouter } from '#core/failover-ports.js';

/**
 * The TrafficRouter of a configuration without a `traffic` section: Cutover owns no DNS records, so it changes
 * none, and says so in every detail. This is the design's unplanned path in any case: traffic follows the lease
 * because the holder check (200 only where the lease is held) turns the data plane's own health checks (Route 53
 * health checks, Global Accelerator endpoint health, ARC routing controls) that the operator set up outside
 * Cutover. Every change is "no change" (changeId null), so the status polls end at once; RouteTraffic still
 * re-reads the lease first and refuses a region that does not hold it.
 */
export class UnconfiguredTrafficRouter implements TrafficRouter {
  async stopTraffic(region: string): Promise<TrafficChange> {
    return {
      changeId: null,
      detail: `traffic is not configured: no record changed for ${region}; its failing holder check steers the data plane away`,
    };
  }

  async routeTo(region: string, weightPercent: number): Promise<TrafficChange> {
    return {
      changeId: null,
      detail: `traffic is not configured: no record changed for ${weightPercent}% to ${region}; the data plane follows the lease holder's health check`,
    };
  }

  /** No change is ever made here, so an id to poll can only be a bug or a hand-edited state. */
  async changeStatus(changeId: string): Promise<ChangeStatus> {
    throw new TrafficError(`traffic is not configured: change ${changeId} was not made by Cutover`);
  }
}
