import { HOLDER_CHANGE_PREFIX } from '#adapters/http/health-check-traffic-router.js';
import { TrafficError } from '#core/failover-errors.js';
import type { ChangeStatus, RouteOptions, TrafficChange, TrafficRouter } from '#core/failover-ports.js';

/**
 * One traffic port for a mode that moves traffic in two ways: `follow` is how the unplanned path moves it with
 * no control-plane call (the holder checks: health checks, accelerator endpoint health, or ARC routing
 * controls), `dial` is the record or traffic-dial API that a planned failback's weighted steps need (Route 53
 * records, Global Accelerator dials), or null when the mode has none. Each call picks: a step under 100% and
 * the step that ends a weighted failback go to `dial`; everything else to `follow`. A change id says whose it is.
 */
export class ModeTrafficRouter implements TrafficRouter {
  constructor(
    private readonly follow: TrafficRouter,
    private readonly dial: TrafficRouter | null,
    /** The mode's name, for errors. */
    private readonly mode: string,
  ) {}

  stopTraffic(region: string): Promise<TrafficChange> {
    return this.follow.stopTraffic(region);
  }

  async routeTo(region: string, weightPercent: number, options: RouteOptions = {}): Promise<TrafficChange> {
    if (weightPercent < 100 || options.afterWeightedSteps) {
      if (!this.dial) {
        throw new TrafficError(
          `traffic mode ${this.mode} has no weighted steps: set traffic.failbackSteps to [100]`,
        );
      }
      return this.dial.routeTo(region, weightPercent);
    }
    return this.follow.routeTo(region, weightPercent);
  }

  async changeStatus(changeId: string): Promise<ChangeStatus> {
    if (changeId.startsWith(HOLDER_CHANGE_PREFIX)) return this.follow.changeStatus(changeId);
    if (!this.dial) throw new TrafficError(`change ${changeId} is not one of traffic mode ${this.mode}`);
    return this.dial.changeStatus(changeId);
  }
}
