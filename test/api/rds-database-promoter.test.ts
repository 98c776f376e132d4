import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { RdsDatabasePromoter } from '#adapters/aws/rds-database-promoter.js';
import { exampleConfig } from '../support/fixtures.js';

// The rest of this adapter runs against moto (test/aws/rds-database-promoter.test.ts). moto does not serve
// FailoverGlobalCluster or SwitchoverGlobalCluster (it answers 500), so their exact commands are asserted here.
const rds = mockClient(RDSClient);
afterEach(() => rds.reset());
const regions: string[] = [];
const clientFor = (region: string) => {
  regions.push(region);
  return new RDSClient({ region });
};
const W2 = 'arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2';
const E1 = 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1';
const aurora = () =>
  new RdsDatabasePromoter(
    clientFor,
    exampleConfig((c) => {
      c.database = { engine: 'aurora', globalClusterId: 'orders-global' };
      c.primary.databaseId = E1;
      c.standby.databaseId = W2;
    }),
  );

describe('RdsDatabasePromoter (aurora)', () => {
  it('fails over with AllowDataLoss when unplanned, switches over when planned, from the target region', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterArn: W2, Status: 'available', DBClusterMembers: [{ IsClusterWriter: false }] }],
    });
    rds.on(DescribeGlobalClustersCommand).resolves({
      GlobalClusters: [
        {
          GlobalClusterIdentifier: 'orders-global',
          Status: 'available',
          GlobalClusterMembers: [
            { DBClusterArn: E1, IsWriter: true },
            { DBClusterArn: W2, IsWriter: false },
          ],
        },
      ],
    });
    rds.on(FailoverGlobalClusterCommand).resolves({});
    rds.on(SwitchoverGlobalClusterCommand).resolves({});
    regions.length = 0;
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
    expect(rds.commandCalls(DescribeDBClustersCommand)[0]!.args[0].input).toEqual({
      DBClusterIdentifier: W2,
    });
    expect(new Set(regions)).toEqual(new Set(['us-west-2']));
  });
});
