import { GlobalAcceleratorClient } from '@aws-sdk/client-global-accelerator';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { AcceleratorTrafficDials } from '#adapters/aws/accelerator-traffic-dials.js';
import { type ArcClusterEndpoint, ArcRoutingControlRouter } from '#adapters/aws/arc-routing-controls.js';
import { ModeTrafficRouter } from '#adapters/aws/mode-traffic-router.js';
import { Route53TrafficRouter } from '#adapters/aws/route53-traffic-router.js';
import { HealthCheckTrafficRouter } from '#adapters/http/health-check-traffic-router.js';
import { HttpHolderCheckReader } from '#adapters/http/holder-check-reader.js';
import { UnconfiguredTrafficRouter } from '#adapters/unconfigured/traffic-router.js';
import type { CutoverConfig } from '#core/config.js';
import type { HolderCheckReader, TrafficRouter } from '#core/failover-ports.js';
import { holderCheckUrlOf } from '#core/holder.js';

export interface TrafficClients {
  route53: Route53Client;
  /** Global Accelerator's API, in us-west-2 (mode accelerator, planned weighted steps only). */
  accelerator?: GlobalAcceleratorClient;
  /** A client for one of the ARC cluster's regional endpoints (mode arc). */
  arcFor?: (endpoint: ArcClusterEndpoint) => Route53RecoveryClusterClient;
  /** Reads the holder checks; by default over HTTP from each region's holder-check URL. */
  holderReader?: HolderCheckReader;
}

// One ARC request must not hold the step: a refused or silent endpoint gives way to the next one quickly.
export const arcClient = (ep: ArcClusterEndpoint) =>
  new Route53RecoveryClusterClient({
    region: ep.region,
    endpoint: ep.endpoint,
    maxAttempts: 1,
    // throwOnRequestTimeout: without it the Node handler only warns when requestTimeout passes (boundedRequests).
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
  });

/**
 * The traffic port for the configured mode (issue 10). health-check and accelerator: traffic follows the lease
 * through the holder checks, with no API call (HealthCheckTrafficRouter); arc: the routing controls, then the
 * holder checks; records: Route 53 record changes (Route53TrafficRouter). Planned failback's weighted steps go
 * to the record API in the Route 53 modes and to the traffic dials in mode accelerator.
 */
export function trafficRouterFor(config: CutoverConfig, clients: TrafficClients): TrafficRouter {
  const traffic = config.traffic;
  if (!traffic) return new UnconfiguredTrafficRouter();
  const records = () => new Route53TrafficRouter(clients.route53, config);
  if (traffic.mode === 'records') return records();
  const regions = [config.primary.region, config.standby.region] as const;
  const reader =
    clients.holderReader ??
    new HttpHolderCheckReader(
      {
        [config.primary.region]: holderCheckUrlOf(config.primary),
        [config.standby.region]: holderCheckUrlOf(config.standby),
      },
      config.probe.connectTimeoutMs + config.probe.responseTimeoutMs,
    );
  const holder = new HealthCheckTrafficRouter(reader, [regions[0], regions[1]]);
  // Weighted steps need set identifiers on the records; without them the mode has no weighted steps.
  const recordsIfNamed = () =>
    config.primary.setIdentifier && config.standby.setIdentifier ? records() : null;
  switch (traffic.mode) {
    case 'health-check':
      return new ModeTrafficRouter(holder, recordsIfNamed(), traffic.mode);
    case 'accelerator': {
      // Without the endpoints the unplanned path still follows the lease; only weighted steps are refused.
      const endpoints = traffic.accelerator?.endpoints ?? {};
      const dials =
        Object.keys(endpoints).length >= 2
          ? new AcceleratorTrafficDials(
              clients.accelerator ?? new GlobalAcceleratorClient({ region: 'us-west-2' }),
              endpoints,
            )
          : null;
      return new ModeTrafficRouter(holder, dials, traffic.mode);
    }
    case 'arc': {
      // A missing section is refused when routing (naming the field), not at cold start: every other step runs.
      const controls = new ArcRoutingControlRouter(
        clients.arcFor ?? arcClient,
        traffic.arc?.clusterEndpoints ?? [],
        traffic.arc?.routingControls ?? {},
        holder,
      );
      return new ModeTrafficRouter(controls, null, traffic.mode);
    }
  }
}
