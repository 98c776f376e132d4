import {
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  PromoteReadReplicaCommand,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { RdsDatabasePromoter } from '#adapters/aws/rds-database-promoter.js';
import { TransientError } from '#core/errors.js';
import { DatabaseError } from '#core/failover-errors.js';
import { exampleConfig } from '../support/fixtures.js';

const rds = mockClient(RDSClient);
afterEach(() => rds.reset());
const regions: string[] = [];
const clientFor = (region: string) => {
  regions.push(region);
  return new RDSClient({ region });
};
const W2 = 'arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2';
const rdsPromoter = () => new RdsDatabasePromoter(clientFor, exampleConfig());
const aurora = () =>
  new RdsDatabasePromoter(
    clientFor,
    exampleConfig((c) => {
      c.database = { engine: 'aurora', globalClusterId: 'orders-global' };
      c.primary.databaseId = 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1';
      c.standby.databaseId = W2;
    }),
  );

describe('RdsDatabasePromoter (rds)', () => {
  it('promotes the cross-region read replica in its own region', async () => {
    rds.on(PromoteReadReplicaCommand).resolves({ DBInstance: { DBInstanceStatus: 'modifying' } });
    regions.length = 0;
    await rdsPromoter().promote('us-west-2', 'unplanned');
    expect(rds.commandCalls(PromoteReadReplicaCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: 'orders-db-usw2',
    });
    expect(regions).toEqual(['us-west-2']);
  });

  it('is writable only when available and no longer a replica', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({
        DBInstances: [{ DBInstanceStatus: 'available', ReadReplicaSourceDBInstanceIdentifier: 'src' }],
      })
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'modifying' }] })
      .resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    const p = rdsPromoter();
    expect((await p.status('us-west-2')).writable).toBe(false);
    expect((await p.status('us-west-2')).writable).toBe(false);
    expect((await p.status('us-west-2')).writable).toBe(true);
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: 'orders-db-usw2',
    });
  });

  it('maps errors: throttling is transient, a refused promotion is a DatabaseError', async () => {
    rds.on(PromoteReadReplicaCommand).rejectsOnce(
      Object.assign(new Error('slow down'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(rdsPromoter().promote('us-west-2', 'unplanned')).rejects.toBeInstanceOf(TransientError);
    rds.on(PromoteReadReplicaCommand).rejectsOnce(
      Object.assign(new Error('not a replica'), {
        name: 'InvalidDBInstanceStateFault',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(rdsPromoter().promote('us-west-2', 'unplanned')).rejects.toBeInstanceOf(DatabaseError);
  });
});

describe('RdsDatabasePromoter (aurora)', () => {
  it('fails over with AllowDataLoss when unplanned, switches over when planned', async () => {
    rds.on(FailoverGlobalClusterCommand).resolves({});
    rds.on(SwitchoverGlobalClusterCommand).resolves({});
    await aurora().promote('us-west-2', 'unplanned');
    await aurora().promote('us-west-2', 'planned');
    expect(rds.commandCalls(FailoverGlobalClusterCommand)[0]!.args[0].input).toEqual({
      GlobalClusterIdentifier: 'orders-global',
      TargetDbClusterIdentifier: W2,
      AllowDataLoss: true,
    });
    expect(rds.commandCalls(SwitchoverGlobalClusterCommand)[0]!.args[0].input).toEqual({
      GlobalClusterIdentifier: 'orders-global',
      TargetDbClusterIdentifier: W2,
    });
  });

  it('is writable when the cluster is the writer and no failover is in flight', async () => {
    const gc = (isWriter: boolean, failover?: string) => ({
      GlobalClusters: [
        {
          Status: 'available',
          GlobalClusterMembers: [{ DBClusterArn: W2, IsWriter: isWriter }],
          ...(failover ? { FailoverState: { Status: failover as 'pending' } } : {}),
        },
      ],
    });
    rds
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce(gc(false))
      .resolvesOnce(gc(true, 'failing-over'))
      .resolves(gc(true));
    const p = aurora();
    expect((await p.status('us-west-2')).writable).toBe(false);
    expect((await p.status('us-west-2')).writable).toBe(false);
    expect((await p.status('us-west-2')).writable).toBe(true);
    expect(rds.commandCalls(DescribeGlobalClustersCommand)[0]!.args[0].input).toEqual({
      GlobalClusterIdentifier: 'orders-global',
    });
  });
});
