import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { TrafficLayer } from '../constructs/traffic.js';
import type { RegionStackProps } from './shared.js';

/**
 * The global traffic layer in one stack (Route 53 health checks and records, or the accelerator): global
 * resources belong to one stack, never to each region's. Its region is topology.traffic.stackRegion.
 */
export class TrafficStack extends Stack {
  readonly layer: TrafficLayer;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    super(scope, id, props);
    this.layer = new TrafficLayer(this, 'traffic', { config: props.config, topology: props.topology });
  }
}
