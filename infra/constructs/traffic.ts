import { Annotations, CfnOutput, Fn } from 'aws-cdk-lib';
import * as ga from 'aws-cdk-lib/aws-globalaccelerator';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import type { HolderCheckTarget, Topology } from '../topology.js';
import { holderFunctionCheckPath, holderFunctionUrl } from './holder-check.js';

type TrafficConfig = NonNullable<CutoverConfig['traffic']>;

/** Where a health check connects and what it asks for, from a holder-check URL. */
export interface HolderEndpoint {
  protocol: 'HTTP' | 'HTTPS';
  /** Host name; a deploy-time token for the holder-check function's URL. */
  fqdn: string;
  port: number;
  /** Path and query, as Route 53's ResourcePath and Global Accelerator's HealthCheckPath take them. */
  path: string;
}

/** A URL known at synth, split the way the health checks take it. */
export function holderEndpointOf(url: string): HolderEndpoint {
  const u = new URL(url);
  const protocol = u.protocol === 'https:' ? 'HTTPS' : 'HTTP';
  return {
    protocol,
    fqdn: u.hostname,
    port: u.port ? Number(u.port) : protocol === 'HTTPS' ? 443 : 80,
    path: `${u.pathname}${u.search}`,
  };
}

export interface TrafficLayerProps {
  config: CutoverConfig;
  topology: Topology;
}

/**
 * The global traffic layer that makes traffic follow the lease with no API call (issue 10). Each application
 * region's holder check answers 200 only where the lease is held, and the data plane polls it:
 * - modes health-check and records: a Route 53 health check per region on its holder check, attached to the
 *   application's failover or weighted records (created here when traffic.createRecords is set);
 * - mode accelerator: a Global Accelerator with one endpoint group per region whose health check is the holder
 *   check, every traffic dial at 100;
 * - mode arc: a Route 53 health check per region on its ARC routing control, attached to the records likewise.
 */
export class TrafficLayer extends Construct {
  /** The health check of each application region (all modes but accelerator). */
  readonly healthChecks = new Map<string, route53.CfnHealthCheck>();
  readonly records = new Map<string, route53.CfnRecordSet>();
  accelerator?: ga.CfnAccelerator;
  readonly endpointGroups = new Map<string, ga.CfnEndpointGroup>();

  constructor(scope: Construct, id: string, props: TrafficLayerProps) {
    super(scope, id);
    const { config, topology } = props;
    const traffic = config.traffic;
    const placement = topology.traffic;
    if (!traffic || !placement) throw new Error('the traffic layer needs a traffic section');
    const regions = [config.primary, config.standby];

    if (traffic.mode === 'accelerator') {
      this.buildAccelerator(config, traffic, placement.holderChecks);
      return;
    }
    for (const r of regions) {
      const check =
        traffic.mode === 'arc'
          ? this.routingControlCheck(config, traffic, r.region)
          : this.holderHealthCheck(config, traffic, topology, r.region, placement.holderChecks[r.region]!);
      this.healthChecks.set(r.region, check);
      new CfnOutput(this, `health-check-${r.region}`, {
        description: `Route 53 health check of ${r.region} (${traffic.mode === 'arc' ? 'its ARC routing control' : 'its holder check'}): attach it to ${r.region}'s record`,
        value: check.attrHealthCheckId,
      });
    }
    if (traffic.createRecords) this.buildRecords(config, traffic);
    else {
      Annotations.of(this).addInfo(
        `traffic.createRecords is false: attach the health checks in the outputs to the records of ${traffic.recordName} yourself`,
      );
    }
  }

  /**
   * HTTP(S) on the region's holder check at the configured interval and threshold. Health checks are global
   * resources, managed through Route 53's API wherever the stack is (Route 53 developer guide, "Creating,
   * updating, and deleting health checks").
   */
  private holderHealthCheck(
    config: CutoverConfig,
    traffic: TrafficConfig,
    topology: Topology,
    region: string,
    target: HolderCheckTarget,
  ): route53.CfnHealthCheck {
    const endpoint =
      target.served === 'function'
        ? {
            protocol: 'HTTPS' as const,
            // https://<id>.lambda-url.<region>.on.aws/ → the host, at deploy time.
            fqdn: Fn.select(2, Fn.split('/', holderFunctionUrl(this, topology, target.authorityRegion))),
            port: 443,
            path: holderFunctionCheckPath(region),
          }
        : holderEndpointOf(target.url);
    const hc = traffic.healthCheck;
    return new route53.CfnHealthCheck(this, `holder-health-check-${region}`, {
      healthCheckConfig: {
        type: endpoint.protocol,
        fullyQualifiedDomainName: endpoint.fqdn,
        port: endpoint.port,
        resourcePath: endpoint.path,
        // Function URLs and most load balancers serve several names on one address: send the name in the TLS hello.
        ...(endpoint.protocol === 'HTTPS' ? { enableSni: true } : {}),
        requestInterval: hc.requestIntervalSeconds,
        failureThreshold: hc.failureThreshold,
        // Absent: Route 53's default checker regions. Given: at least three (HealthCheckConfig.Regions).
        ...(hc.regions ? { regions: [...hc.regions] } : {}),
      },
      healthCheckTags: [{ key: 'Name', value: `cutover-${config.application}-${region}-holder` }],
    });
  }

  /** Healthy while the region's routing control is On (health check type RECOVERY_CONTROL). */
  private routingControlCheck(
    config: CutoverConfig,
    traffic: TrafficConfig,
    region: string,
  ): route53.CfnHealthCheck {
    return new route53.CfnHealthCheck(this, `routing-control-health-check-${region}`, {
      healthCheckConfig: {
        type: 'RECOVERY_CONTROL',
        routingControlArn: traffic.arc!.routingControls[region]!,
      },
      healthCheckTags: [{ key: 'Name', value: `cutover-${config.application}-${region}-routing-control` }],
    });
  }

  /**
   * One CNAME per region to its own host (its healthUrl's), with its health check attached. Weighted: 100 and
   * 100, so that health alone decides and no weight is ever 0 for both; when every record is unhealthy Route 53
   * answers all of them, which is harmless because the guard refuses writes where there is no lease. Failover:
   * the primary PRIMARY, the standby SECONDARY; when both are unhealthy Route 53 answers the primary.
   */
  private buildRecords(config: CutoverConfig, traffic: TrafficConfig): void {
    if (traffic.mode === 'records' && traffic.routing === 'failover') {
      Annotations.of(this).addWarningV2(
        'cutover:records-failover-drift',
        'mode records with failover routing swaps PRIMARY and SECONDARY by DELETE and CREATE: after a failover these records differ from the stack until the next deploy puts them back',
      );
    }
    for (const [role, r] of [
      ['primary', config.primary],
      ['standby', config.standby],
    ] as const) {
      const routing =
        traffic.routing === 'failover'
          ? { failover: role === 'primary' ? 'PRIMARY' : 'SECONDARY' }
          : { weight: 100 };
      const record = new route53.CfnRecordSet(this, `record-${r.region}`, {
        hostedZoneId: traffic.hostedZoneId,
        name: traffic.recordName,
        type: 'CNAME',
        ttl: String(traffic.ttlSeconds),
        resourceRecords: [new URL(r.healthUrl).hostname],
        setIdentifier: r.setIdentifier!,
        healthCheckId: this.healthChecks.get(r.region)!.attrHealthCheckId,
        ...routing,
      });
      this.records.set(r.region, record);
    }
  }

  /**
   * A standard accelerator: one TCP listener on the application's port, one endpoint group per application
   * region with the holder check as its health check and the traffic dial at 100, so endpoint health alone
   * steers. Global Accelerator applies these health check settings to EC2 and Elastic IP endpoints; for a load
   * balancer endpoint it uses the load balancer's own health checks ("Endpoint groups for standard accelerators",
   * Global Accelerator developer guide), so the target group's health check path must be the holder check too.
   */
  private buildAccelerator(
    config: CutoverConfig,
    traffic: TrafficConfig,
    holderChecks: Record<string, HolderCheckTarget>,
  ): void {
    const accelerator = traffic.accelerator!;
    this.accelerator = new ga.CfnAccelerator(this, 'accelerator', {
      name: `cutover-${config.application}`,
      enabled: true,
      ipAddressType: 'IPV4',
      tags: [{ key: 'cutover:application', value: config.application }],
    });
    const endpoints = [config.primary, config.standby].map((r) => {
      const target = holderChecks[r.region]!;
      // The topology refuses traffic.holderCheck function in this mode.
      if (target.served === 'function')
        throw new Error('mode accelerator needs an application-served holder check');
      return {
        region: r.region,
        endpoint: holderEndpointOf(target.url),
        id: accelerator.endpoints[r.region]!,
      };
    });
    const ports = [...new Set(endpoints.map((e) => e.endpoint.port))];
    const listener = new ga.CfnListener(this, 'listener', {
      acceleratorArn: this.accelerator.attrAcceleratorArn,
      protocol: 'TCP',
      portRanges: ports.map((p) => ({ fromPort: p, toPort: p })),
      clientAffinity: 'NONE',
    });
    for (const e of endpoints) {
      if (e.id.startsWith('arn:') && e.id.includes(':elasticloadbalancing:')) {
        Annotations.of(this).addWarningV2(
          `cutover:accelerator-elb-health-${e.region}`,
          `${e.region}'s endpoint is a load balancer: Global Accelerator uses its target group health check, so set that check's path to ${e.endpoint.path}`,
        );
      }
      const group = new ga.CfnEndpointGroup(this, `endpoint-group-${e.region}`, {
        listenerArn: listener.attrListenerArn,
        endpointGroupRegion: e.region,
        endpointConfigurations: [{ endpointId: e.id }],
        trafficDialPercentage: 100,
        healthCheckProtocol: e.endpoint.protocol,
        healthCheckPort: e.endpoint.port,
        healthCheckPath: e.endpoint.path,
        healthCheckIntervalSeconds: accelerator.healthCheckIntervalSeconds,
        thresholdCount: accelerator.thresholdCount,
      });
      this.endpointGroups.set(e.region, group);
    }
    new CfnOutput(this, 'accelerator-dns-name', {
      description: `Global Accelerator DNS name of ${config.application}: point ${traffic.recordName} at it`,
      value: this.accelerator.attrDnsName,
    });
    new CfnOutput(this, 'accelerator-arn', {
      description: 'The accelerator (its API is in us-west-2; dials move only on planned paths)',
      value: this.accelerator.attrAcceleratorArn,
    });
  }
}
