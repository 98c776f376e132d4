import {
  DescribeAcceleratorCommand,
  type GlobalAcceleratorClient,
  paginateListAccelerators,
  paginateListEndpointGroups,
  paginateListListeners,
  UpdateEndpointGroupCommand,
} from '@aws-sdk/client-global-accelerator';
import { TrafficError } from '#core/failover-errors.js';
import type { ChangeStatus, TrafficChange, TrafficRouter } from '#core/failover-ports.js';
import { mapAwsError } from './aws-errors.js';

const PREFIX = 'dial:';

interface Groups {
  acceleratorArn: string;
  /** Endpoint group ARN per application region. */
  byRegion: Record<string, string>;
}

/**
 * Global Accelerator traffic dials, for planned paths only (failback's weighted steps in traffic mode
 * accelerator): the unplanned path leaves every dial at 100 and lets endpoint health (the holder check) steer.
 * Global Accelerator's API is served from US West (Oregon) only (Global Accelerator API Reference, "Welcome":
 * "you must specify the US West (Oregon) Region to create, update, or otherwise work with accelerators"), so
 * the client must be made for us-west-2.
 *
 * The endpoint groups are found once, by the configured endpoint of each region (traffic.accelerator.endpoints),
 * and kept for the life of the container. A weighted step of w% to a region dials its group to 100 and the
 * other's to 100 - w (the share of the traffic nearest the other region that stays there); the last step puts
 * both back at 100.
 */
export class AcceleratorTrafficDials implements TrafficRouter {
  private groups: Promise<Groups> | undefined;

  constructor(
    private readonly client: GlobalAcceleratorClient,
    /** Region → the endpoint id (load balancer ARN or EIP allocation) that region's endpoint group holds. */
    private readonly endpoints: Record<string, string>,
  ) {
    if (Object.keys(endpoints).length < 2) {
      throw new TrafficError('traffic.accelerator.endpoints needs the endpoint of both application regions');
    }
  }

  async stopTraffic(region: string): Promise<TrafficChange> {
    this.other(region);
    return {
      changeId: null,
      detail: `${region}'s traffic dial stays at 100: its holder check turns unhealthy when its lease is revoked, and Global Accelerator steers away`,
    };
  }

  async routeTo(region: string, weightPercent: number): Promise<TrafficChange> {
    if (!Number.isInteger(weightPercent) || weightPercent < 1 || weightPercent > 100) {
      throw new TrafficError(`weightPercent must be a whole number from 1 to 100, got ${weightPercent}`);
    }
    const other = this.other(region);
    const groups = await this.find();
    const otherDial = weightPercent === 100 ? 100 : 100 - weightPercent;
    await this.dial(groups.byRegion[region]!, 100);
    await this.dial(groups.byRegion[other]!, otherDial);
    return {
      changeId: `${PREFIX}${groups.acceleratorArn}`,
      detail: `traffic dial ${region} 100, ${other} ${otherDial}`,
    };
  }

  async changeStatus(changeId: string): Promise<ChangeStatus> {
    if (!changeId.startsWith(PREFIX)) throw new TrafficError(`change ${changeId} was not a traffic dial`);
    const arn = changeId.slice(PREFIX.length);
    try {
      const res = await this.client.send(new DescribeAcceleratorCommand({ AcceleratorArn: arn }));
      const status = res.Accelerator?.Status;
      if (status === 'DEPLOYED') return 'INSYNC';
      if (status === 'IN_PROGRESS') return 'PENDING';
      throw new TrafficError(`accelerator ${arn} has status ${status}`);
    } catch (err) {
      if (err instanceof TrafficError) throw err;
      throw mapAwsError(err, `describe accelerator ${arn}`, TrafficError);
    }
  }

  private other(region: string): string {
    if (!(region in this.endpoints)) {
      throw new TrafficError(`traffic.accelerator.endpoints has no endpoint for ${region}`);
    }
    return Object.keys(this.endpoints).find((r) => r !== region)!;
  }

  private async dial(endpointGroupArn: string, percent: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateEndpointGroupCommand({
          EndpointGroupArn: endpointGroupArn,
          TrafficDialPercentage: percent,
        }),
      );
    } catch (err) {
      throw mapAwsError(err, `dial ${endpointGroupArn} to ${percent}%`, TrafficError);
    }
  }

  private find(): Promise<Groups> {
    this.groups ??= this.discover().catch((err) => {
      this.groups = undefined;
      throw err;
    });
    return this.groups;
  }

  private async discover(): Promise<Groups> {
    const wanted = Object.entries(this.endpoints);
    try {
      for await (const page of paginateListAccelerators({ client: this.client }, {})) {
        for (const acc of page.Accelerators ?? []) {
          const byRegion: Record<string, string> = {};
          for await (const lp of paginateListListeners(
            { client: this.client },
            { AcceleratorArn: acc.AcceleratorArn },
          )) {
            for (const listener of lp.Listeners ?? []) {
              for await (const gp of paginateListEndpointGroups(
                { client: this.client },
                { ListenerArn: listener.ListenerArn },
              )) {
                for (const g of gp.EndpointGroups ?? []) {
                  for (const [region, endpointId] of wanted) {
                    const holds = g.EndpointDescriptions?.some((d) => d.EndpointId === endpointId);
                    if (g.EndpointGroupRegion === region && holds && g.EndpointGroupArn) {
                      byRegion[region] = g.EndpointGroupArn;
                    }
                  }
                }
              }
            }
          }
          if (wanted.every(([r]) => byRegion[r]) && acc.AcceleratorArn) {
            return { acceleratorArn: acc.AcceleratorArn, byRegion };
          }
        }
      }
    } catch (err) {
      throw mapAwsError(err, 'find the endpoint groups of the accelerator', TrafficError);
    }
    throw new TrafficError(
      `no accelerator has endpoint groups for ${wanted.map(([r, id]) => `${r} (${id})`).join(' and ')}`,
    );
  }
}
