import {
  type Route53RecoveryClusterClient,
  UpdateRoutingControlStatesCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { TrafficError } from '#core/failover-errors.js';
import type { ChangeStatus, TrafficChange, TrafficRouter } from '#core/failover-ports.js';

/** One of the cluster's five regional endpoints (DescribeCluster's ClusterEndpoints). */
export interface ArcClusterEndpoint {
  region: string;
  endpoint: string;
}

/**
 * Traffic mode arc: Route 53 ARC routing controls (on/off switches whose health checks steer the records), set
 * through the cluster's data plane. AWS's guidance is to try the regional cluster endpoints in turn until one
 * answers, because at least three of the five are always available but any one may not be (ARC Developer Guide,
 * "Getting and updating routing control states using the ARC API"). The endpoints come from the configuration,
 * never from DescribeCluster, a control plane in us-west-2.
 *
 * Routing turns the new region On and the old one Off in one UpdateRoutingControlStates request, so the two
 * are never both Off; stopping is a no-op for the same reason. The status then reads the holder checks.
 */
export class ArcRoutingControlRouter implements TrafficRouter {
  /** The endpoint that answered last; the next request starts there. */
  private preferred = 0;

  constructor(
    private readonly clientFor: (endpoint: ArcClusterEndpoint) => Route53RecoveryClusterClient,
    private readonly endpoints: readonly ArcClusterEndpoint[],
    private readonly routingControls: Record<string, string>,
    /** Reads whether traffic followed (the holder checks: HealthCheckTrafficRouter). */
    private readonly follow: TrafficRouter,
  ) {}

  async stopTraffic(region: string): Promise<TrafficChange> {
    this.controlOf(region);
    return {
      changeId: null,
      detail: `${region}'s routing control stays On until routing turns the other region On in the same request: the two are never both Off`,
    };
  }

  async routeTo(region: string, weightPercent: number): Promise<TrafficChange> {
    if (weightPercent !== 100) {
      throw new TrafficError(
        `routing controls are on or off; a ${weightPercent}% step is not possible in traffic mode arc`,
      );
    }
    const on = this.controlOf(region);
    const others = Object.entries(this.routingControls).filter(([r]) => r !== region);
    const answered = await this.update([
      { RoutingControlArn: on, RoutingControlState: 'On' },
      ...others.map(([, arn]) => ({ RoutingControlArn: arn, RoutingControlState: 'Off' as const })),
    ]);
    const follow = await this.follow.routeTo(region, 100);
    return {
      changeId: follow.changeId,
      detail: `routing control of ${region} On, ${others.map(([r]) => r).join(', ')} Off (through ${answered}); ${follow.detail}`,
    };
  }

  changeStatus(changeId: string): Promise<ChangeStatus> {
    return this.follow.changeStatus(changeId);
  }

  private controlOf(region: string): string {
    const arn = this.routingControls[region];
    if (!arn) throw new TrafficError(`traffic.arc.routingControls has no routing control for ${region}`);
    return arn;
  }

  /** One request, tried against each endpoint in turn from the one that answered last; returns who answered. */
  private async update(
    entries: { RoutingControlArn: string; RoutingControlState: 'On' | 'Off' }[],
  ): Promise<string> {
    // Refused here rather than at cold start, so that every other step still runs in a configuration without them.
    if (this.endpoints.length === 0) {
      throw new TrafficError(
        'traffic.arc.clusterEndpoints is not configured: copy the cluster endpoints from DescribeCluster (a control plane) into the configuration',
      );
    }
    const failures: string[] = [];
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.preferred + i) % this.endpoints.length;
      const ep = this.endpoints[index]!;
      try {
        await this.clientFor(ep).send(
          new UpdateRoutingControlStatesCommand({ UpdateRoutingControlStateEntries: entries }),
        );
        this.preferred = index;
        return ep.region;
      } catch (err) {
        const e = err as { name?: string; message?: string };
        // Refused for what it asks (a safety rule, a wrong ARN, no permission): every endpoint would say the same.
        if (REFUSALS.has(e.name ?? '')) {
          throw new TrafficError(`ARC refused the routing control change: ${e.name}: ${e.message}`, {
            cause: err,
          });
        }
        failures.push(`${ep.region} (${ep.endpoint}): ${e.name ?? 'Error'}: ${e.message ?? String(err)}`);
      }
    }
    throw new TrafficError(`no ARC cluster endpoint answered: ${failures.join('; ')}`);
  }
}

/** Errors that are about the request, not the endpoint (Route53RecoveryCluster API reference). */
const REFUSALS = new Set([
  'ValidationException',
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ServiceLimitExceededException',
]);
