import { RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { Topology } from '../topology.js';

const key = {
  partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
};

export interface TableStackProps extends StackProps {
  topology: Topology;
}

/**
 * Votes: a multi-Region eventually consistent global table. One writer per key (one voter per target), so
 * last-writer-wins loses nothing; every watcher writes its own replica and every control region reads its
 * replica's stream. NEW_IMAGE is all the aggregator reads; TTL on expiresAt removes votes of retired voters.
 */
export class VotesTableStack extends Stack {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: TableStackProps) {
    super(scope, id, props);
    const { votes, names } = props.topology;
    this.table = new dynamodb.TableV2(this, 'votes-table', {
      ...key,
      tableName: names.votesTable,
      billing: dynamodb.Billing.onDemand(),
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      timeToLiveAttribute: 'expiresAt',
      replicas: votes.regions.filter((r) => r !== votes.home).map((region) => ({ region })),
      // Votes are rebuilt by the probers within a minute; a deleted table costs one detection window, no data.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Votes are short-lived observations that expire by TTL and are rewritten every probe interval; a point-in-time restore would bring back stale votes that the aggregator must ignore anyway.',
    });
  }
}

/**
 * The control table holds the lease, incidents, approvals and the audit trail. The lease needs conditional
 * writes that see the latest write in every region: a multi-Region strongly consistent (MRSC) table, or one
 * table in an arbiter region. Never MREC (last-writer-wins would accept two lease winners).
 */
export class ControlTableStack extends Stack {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: TableStackProps) {
    super(scope, id, props);
    const { control, names } = props.topology;
    const mrsc = control.mode === 'mrsc';
    this.table = new dynamodb.TableV2(this, 'control-table', {
      ...key,
      tableName: names.controlTable,
      billing: dynamodb.Billing.onDemand(),
      // The audit trail is the record of every failover (I5): recoverable and protected from deletion.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(mrsc
        ? {
            multiRegionConsistency: dynamodb.MultiRegionConsistency.STRONG,
            replicas: control.regions.filter((r) => r !== control.home).map((region) => ({ region })),
            ...(control.witnessRegion ? { witnessRegion: control.witnessRegion } : {}),
          }
        : {}),
    });
  }
}
