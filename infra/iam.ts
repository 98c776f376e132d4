import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import type { Capability } from '#core/step-registry.js';
import { voteKey } from '#core/vote.js';
import { hookStatements } from './hook-iam.js';

/**
 * Least-privilege statements for what the step functions do to the application's AWS resources. Each one
 * names only the configured zone, records, databases and functions; the few actions that take no resource
 * (cloudwatch:GetMetricData, route53:GetChange on a generated id) are the exceptions, acknowledged where used.
 */

/** Route 53 condition keys take the record name lowercased, without the trailing dot (Route 53 developer guide, "Normalizing the Route 53 condition key values"). */
export const normalizedRecordName = (name: string): string => name.toLowerCase().replace(/\.$/, '');

const hostedZoneArn = (zoneId: string) => `arn:${Aws.PARTITION}:route53:::hostedzone/${zoneId}`;

const globalAccelerator = (resource: string) =>
  `arn:${Aws.PARTITION}:globalaccelerator::${Aws.ACCOUNT_ID}:${resource}`;

/**
 * Which ChangeResourceRecordSets actions the Route 53 record router sends, per mode and routing type
 * (functions/adapters/aws/route53-traffic-router.ts), or null when the mode never changes a record:
 * - records + weighted: UPSERT of the weights; records + failover: one batch that DELETEs both records and
 *   CREATEs them with PRIMARY and SECONDARY swapped (a failover record's role cannot be UPSERTed in place
 *   without a moment with two PRIMARYs or none).
 * - health-check + weighted: UPSERT, only for a planned failback's weighted steps; the unplanned path moves no
 *   record. health-check + failover: none; the health checks on the holder checks do all of it.
 * - accelerator and arc: none (traffic dials and routing controls).
 */
export function recordChangeActions(config: CutoverConfig): Array<'CREATE' | 'DELETE' | 'UPSERT'> | null {
  const traffic = config.traffic;
  if (!traffic) return null;
  switch (traffic.mode) {
    case 'records':
      return traffic.routing === 'failover' ? ['CREATE', 'DELETE'] : ['UPSERT'];
    case 'health-check':
      return traffic.routing === 'weighted' ? ['UPSERT'] : null;
    case 'accelerator':
    case 'arc':
      return null;
  }
}

/**
 * What the traffic steps may do in the configured mode, exactly what its router sends (functions/steps/
 * traffic-ports.ts). Route 53 record changes are held to the application's record name and type and to the
 * actions of its routing type by the condition keys route53:ChangeResourceRecordSetsNormalizedRecordNames,
 * ...RecordTypes and ...Actions (Route 53 developer guide, "Using IAM policy conditions for fine-grained access
 * control"). Global Accelerator's dials (mode accelerator) and ARC's routing controls (mode arc) have their own.
 */
export function trafficChangeStatements(config: CutoverConfig): iam.PolicyStatement[] {
  const traffic = config.traffic;
  if (!traffic) return [];
  const out: iam.PolicyStatement[] = [];
  const actions = recordChangeActions(config);
  if (actions) {
    out.push(
      new iam.PolicyStatement({
        actions: ['route53:ListResourceRecordSets'],
        resources: [hostedZoneArn(traffic.hostedZoneId)],
      }),
      new iam.PolicyStatement({
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [hostedZoneArn(traffic.hostedZoneId)],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
              normalizedRecordName(traffic.recordName),
            ],
            'route53:ChangeResourceRecordSetsRecordTypes': [traffic.recordType],
            'route53:ChangeResourceRecordSetsActions': actions,
          },
        },
      }),
    );
  }
  if (traffic.mode === 'accelerator') {
    // The dials find the endpoint groups by the configured endpoints, once per container
    // (functions/adapters/aws/accelerator-traffic-dials.ts): the accelerator is made by another stack, in
    // us-west-2, so its ids are not known here. ListAccelerators takes no resource (Service Authorization
    // Reference, AWS Global Accelerator); the rest are held to this account's accelerators.
    out.push(
      new iam.PolicyStatement({ actions: ['globalaccelerator:ListAccelerators'], resources: ['*'] }),
      new iam.PolicyStatement({
        actions: ['globalaccelerator:ListListeners'],
        resources: [globalAccelerator('accelerator/*')],
      }),
      new iam.PolicyStatement({
        actions: ['globalaccelerator:ListEndpointGroups'],
        resources: [globalAccelerator('accelerator/*/listener/*')],
      }),
      new iam.PolicyStatement({
        actions: ['globalaccelerator:UpdateEndpointGroup'],
        resources: [globalAccelerator('accelerator/*/listener/*/endpoint-group/*')],
      }),
    );
  }
  if (traffic.mode === 'arc' && traffic.arc) {
    // One UpdateRoutingControlStates request turns one region On and the other Off, sent to the cluster's
    // regional endpoints in turn (functions/adapters/aws/arc-routing-controls.ts); the endpoints come from the
    // configuration, so no DescribeCluster. Held to the configured routing controls (Service Authorization
    // Reference, Amazon Route 53 Recovery Cluster: resource type routingcontrol).
    out.push(
      new iam.PolicyStatement({
        actions: ['route53-recovery-cluster:UpdateRoutingControlStates'],
        resources: Object.values(traffic.arc.routingControls),
      }),
    );
  }
  return out;
}

/** GetChange takes a change id that Route 53 generates per change, so the resource cannot be narrower. */
export function trafficStatusStatements(config: CutoverConfig): iam.PolicyStatement[] {
  const traffic = config.traffic;
  if (!traffic) return [];
  if (recordChangeActions(config)) {
    return [
      new iam.PolicyStatement({
        actions: ['route53:GetChange'],
        resources: [`arn:${Aws.PARTITION}:route53:::change/*`],
      }),
    ];
  }
  if (traffic.mode === 'accelerator') {
    // A dial is applied when the accelerator is DEPLOYED again (DescribeAccelerator).
    return [
      new iam.PolicyStatement({
        actions: ['globalaccelerator:DescribeAccelerator'],
        resources: [globalAccelerator('accelerator/*')],
      }),
    ];
  }
  // health-check (failover routing) and arc: the status is read from the holder checks over HTTP.
  return [];
}

/**
 * The holder-check function reads the lease item and nothing else: GetItem, on the item whose partition key is
 * the application (dynamodb:LeadingKeys, "Using IAM policy conditions for fine-grained access control", DynamoDB
 * developer guide). It is public (a function URL with auth NONE), so it must not be able to write or list.
 */
export function holderCheckReadStatements(config: CutoverConfig, tableArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem'],
      resources: [tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [config.application] } },
    }),
  ];
}

function dbInstanceArns(scope: Construct, config: CutoverConfig): string[] {
  const account = Stack.of(scope).account;
  return [config.primary, config.standby]
    .filter((r) => r.databaseId)
    .map((r) =>
      r.databaseId!.startsWith('arn:')
        ? r.databaseId!
        : `arn:${Aws.PARTITION}:rds:${r.region}:${account}:db:${r.databaseId}`,
    );
}

function auroraArns(scope: Construct, config: CutoverConfig): { globalCluster: string; clusters: string[] } {
  const account = Stack.of(scope).account;
  return {
    // Global clusters are not regional: their ARN has an empty region (RDS ARN formats).
    globalCluster: `arn:${Aws.PARTITION}:rds::${account}:global-cluster:${config.database!.globalClusterId}`,
    // For Aurora, databaseId is the cluster ARN (functions/core/config.ts).
    clusters: [config.primary.databaseId!, config.standby.databaseId!],
  };
}

/** Promote the region's database: RDS PromoteReadReplica, or Aurora global failover/switchover. */
export function rdsPromoteStatements(scope: Construct, config: CutoverConfig): iam.PolicyStatement[] {
  // DynamoDB global tables: every replica takes writes, nothing is promoted (GlobalTablesPromoter calls no API).
  if (!config.database || config.database.engine === 'dynamodb') return [];
  if (config.database.engine === 'rds') {
    return [
      new iam.PolicyStatement({
        actions: ['rds:PromoteReadReplica'],
        resources: dbInstanceArns(scope, config),
      }),
    ];
  }
  const { globalCluster, clusters } = auroraArns(scope, config);
  return [
    new iam.PolicyStatement({
      actions: ['rds:FailoverGlobalCluster', 'rds:SwitchoverGlobalCluster'],
      resources: [globalCluster, ...clusters],
    }),
  ];
}

/** Read whether the promoted database is writable yet. */
export function rdsDescribeStatements(scope: Construct, config: CutoverConfig): iam.PolicyStatement[] {
  if (!config.database || config.database.engine === 'dynamodb') return [];
  if (config.database.engine === 'rds') {
    return [
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBInstances'],
        resources: dbInstanceArns(scope, config),
      }),
    ];
  }
  const { globalCluster, clusters } = auroraArns(scope, config);
  return [
    new iam.PolicyStatement({ actions: ['rds:DescribeGlobalClusters'], resources: [globalCluster] }),
    // Writability is judged from the target cluster itself (functions/adapters/aws/rds-database-promoter.ts).
    new iam.PolicyStatement({ actions: ['rds:DescribeDBClusters'], resources: clusters }),
  ];
}

/** cloudwatch:GetMetricData supports no resource-level permissions (Service Authorization Reference, CloudWatch). */
export function replicationLagStatements(config: CutoverConfig): iam.PolicyStatement[] {
  if (!config.database) return [];
  return [new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] })];
}

/** Reserved concurrency 0 on the configured functions, in either application region (failback fences either). */
export function fenceLambdaStatements(scope: Construct, config: CutoverConfig): iam.PolicyStatement[] {
  const names = config.fence?.lambdaFunctions ?? [];
  if (names.length === 0) return [];
  const account = Stack.of(scope).account;
  const resources = names.flatMap((name) =>
    name.startsWith('arn:')
      ? [name]
      : [config.primary.region, config.standby.region].map(
          (region) => `arn:${Aws.PARTITION}:lambda:${region}:${account}:function:${name}`,
        ),
  );
  return [new iam.PolicyStatement({ actions: ['lambda:PutFunctionConcurrency'], resources })];
}

/**
 * What a watcher's prober may do to the votes table: read and write its own items and nothing else. The items of
 * one voter are those whose partition key names it (`voteKey`: application#target#voter, one per application
 * region), and `dynamodb:LeadingKeys`, the partition key of every item a request touches, must be one of them
 * ("Using IAM policy conditions for fine-grained access control", Amazon DynamoDB developer guide). So a
 * compromised watcher can still lie about what it sees, but only under its own name: one vote, never a quorum.
 *
 * ForAllValues is also true of a request that names no key at all (a Scan), so only the single-item actions,
 * which always carry a key, are granted; Query, Scan and the batch actions are not.
 */
export function voteWriterStatements(
  config: CutoverConfig,
  tableArn: string,
  voter: string,
): iam.PolicyStatement[] {
  const ownKeys = [config.primary.region, config.standby.region].map(
    (target) => voteKey(config.application, target, voter).pk,
  );
  return [
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resources: [tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ownKeys } },
    }),
  ];
}

/**
 * What one step capability grants beyond the tables and the bus, for this configuration: what the control stack
 * attaches to a step's role, and what `cutover readiness` simulates for it. Slack's is a secret read (bindSecret).
 */
export function capabilityStatements(
  scope: Construct,
  config: CutoverConfig,
  capability: Exclude<Capability, 'slack'>,
): iam.PolicyStatement[] {
  switch (capability) {
    // The capabilities keep their names; what they grant follows traffic.mode.
    case 'route53-change':
      return trafficChangeStatements(config);
    case 'route53-status':
      return trafficStatusStatements(config);
    case 'rds-promote':
      return rdsPromoteStatements(scope, config);
    case 'rds-describe':
      return rdsDescribeStatements(scope, config);
    case 'replication-lag':
      return replicationLagStatements(config);
    case 'fence-lambda':
      return fenceLambdaStatements(scope, config);
    case 'hooks':
      return hookStatements(scope, config);
  }
}
