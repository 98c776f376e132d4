import { TrafficError } from '#core/failover-errors.js';
import type { ChangeStatus, HolderCheckReader, TrafficChange, TrafficRouter } from '#core/failover-ports.js';
import { planHolderSwitch } from '#core/holder.js';

const PREFIX = 'holder:';

/**
 * Traffic follows the lease (traffic mode health-check, accelerator, and arc once its controls are set): the data
 * plane's own health checks poll each region's holder check, so there is nothing to change. Stopping traffic is a
 * no-op (the fence's revoke turns the old primary's check 503); routing returns a pseudo change id that the
 * status poll resolves by reading the holder checks: INSYNC once the new holder's check answers 200 and the old
 * one's does not. No control-plane API is called.
 */
export class HealthCheckTrafficRouter implements TrafficRouter {
  constructor(
    private readonly reader: HolderCheckReader,
    /** The two application regions; the other one is the region traffic moves away from. */
    private readonly regions: readonly [string, string],
  ) {}

  async stopTraffic(region: string): Promise<TrafficChange> {
    return {
      changeId: null,
      detail: `no record changed for ${region}: its holder check turns 503 when its lease is revoked, and the health checks steer traffic away`,
    };
  }

  async routeTo(region: string, weightPercent: number): Promise<TrafficChange> {
    if (weightPercent !== 100) {
      throw new TrafficError(
        `health checks move all of the traffic to the lease holder; a ${weightPercent}% step needs the record API (traffic.mode records, or a failback with weighted steps)`,
      );
    }
    this.other(region);
    return {
      changeId: `${PREFIX}${region}`,
      detail: `no record changed: waiting until ${region}'s holder check answers 200 and the other region's does not`,
    };
  }

  async changeStatus(changeId: string): Promise<ChangeStatus> {
    return (await this.switchStatus(changeId)).code === 'SWITCHED' ? 'INSYNC' : 'PENDING';
  }

  /** The holder checks' view of a switch, with its reason (for the audit). */
  async switchStatus(changeId: string, epoch: number | null = null) {
    if (!changeId.startsWith(PREFIX)) {
      throw new TrafficError(`change ${changeId} was not made by the health-check router`);
    }
    const to = changeId.slice(PREFIX.length);
    const from = this.other(to);
    const [toReading, fromReading] = await Promise.all([this.reader.read(to), this.reader.read(from)]);
    return planHolderSwitch({ to, from, epoch, toReading, fromReading });
  }

  private other(region: string): string {
    const [a, b] = this.regions;
    if (region !== a && region !== b) {
      throw new TrafficError(`${region} is not an application region (${a}, ${b})`);
    }
    return region === a ? b : a;
  }
}
