import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  CreateGlobalClusterCommand,
  type DescribeDBInstancesCommandOutput,
  type DescribeGlobalClustersCommandOutput,
  PromoteReadReplicaCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import { RdsDatabasePromoter } from '#adapters/aws/rds-database-promoter.js';
import { TransientError } from '#core/errors.js';
import { DatabaseError } from '#core/failover-errors.js';
import { exampleConfig } from '../support/fixtures.js';
import { motoClient, overlayOutput, recordCommands, refuseWith, unique } from '../support/moto-clients.js';

const E1 = 'us-east-1';
const W2 = 'us-west-2';

/** One RDS client per region, as the adapter's clientFor hands out, and the commands they sent. */
function regionClients() {
  const clients = new Map<string, RDSClient>();
  const sent: string[] = [];
  const clientFor = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = motoClient(RDSClient, region);
      recordCommands(c, sent);
      clients.set(region, c);
    }
    return c;
  };
  return { clientFor, sent: () => sent.map((n) => n.replace(/Command$/, '')) };
}

const byCode = (name: string) => ({ name, message: `${name} (AWS's answer, which moto does not give)` });

async function sourceAndReplica() {
  const source = unique('src');
  const replica = unique('rep');
  const created = await motoClient(RDSClient, E1).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: source,
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      AllocatedStorage: 20,
      MasterUsername: 'cutover',
      MasterUserPassword: 'not-a-secret',
    }),
  );
  // A cross-region replica is created in its own region from the source's ARN.
  await motoClient(RDSClient, W2).send(
    new CreateDBInstanceReadReplicaCommand({
      DBInstanceIdentifier: replica,
      SourceDBInstanceIdentifier: created.DBInstance!.DBInstanceArn,
    }),
  );
  return { source, replica };
}

function rdsPromoter(standbyId: string) {
  const clients = regionClients();
  const promoter = new RdsDatabasePromoter(
    clients.clientFor,
    exampleConfig((c) => {
      c.standby.databaseId = standbyId;
    }),
  );
  return { promoter, ...clients };
}

describe('RdsDatabasePromoter (rds) on moto', () => {
  it('promotes the cross-region read replica in its own region, after reading that it is a replica', async () => {
    const { replica, source } = await sourceAndReplica();
    const { promoter, clientFor, sent } = rdsPromoter(replica);
    const before = await promoter.status(W2);
    expect(before.writable).toBe(false);
    expect(before.detail).toContain(`replica of arn:aws:rds:${E1}:123456789012:db:${source}`);
    const res = await promoter.promote(W2, 'unplanned');
    expect(res.detail).toBe(`PromoteReadReplica ${replica}: available`);
    expect(sent()).toEqual(['DescribeDBInstances', 'DescribeDBInstances', 'PromoteReadReplica']);
    expect(await clientFor(W2).config.region()).toBe(W2);
  });

  it('a retried promote of an instance that is no longer a replica sends no second PromoteReadReplica', async () => {
    // What a promoted replica looks like once RDS is done: available, without ReadReplicaSourceDBInstanceIdentifier.
    // (moto keeps the source after its PromoteReadReplica, so the finished state is made as a plain instance.)
    const id = unique('promoted');
    await motoClient(RDSClient, W2).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'cutover',
        MasterUserPassword: 'not-a-secret',
      }),
    );
    const { promoter, sent } = rdsPromoter(id);
    const res = await promoter.promote(W2, 'unplanned');
    expect(res.detail).toBe(`already promoted: ${id} available, not a replica`);
    expect(sent()).toEqual(['DescribeDBInstances']);
    expect(await promoter.status(W2)).toEqual({ writable: true, detail: `${id} available, not a replica` });
  });

  it('a retried promote while the replica is modifying (being promoted) waits for it instead of calling again', async () => {
    const { replica } = await sourceAndReplica();
    const { promoter, clientFor, sent } = rdsPromoter(replica);
    // moto's instances are never "modifying"; AWS reports that while PromoteReadReplica runs.
    overlayOutput<DescribeDBInstancesCommandOutput>(clientFor(W2), 'DescribeDBInstancesCommand', (o) => ({
      ...o,
      DBInstances: o.DBInstances?.map((i) => ({ ...i, DBInstanceStatus: 'modifying' })),
    }));
    const res = await promoter.promote(W2, 'unplanned');
    expect(res.detail).toMatch(/^promotion in progress: .* modifying, replica of /);
    expect(sent()).toEqual(['DescribeDBInstances']);
    expect((await promoter.status(W2)).writable).toBe(false);
  });

  it('an invalid-state refusal from a race is read again: a concurrent promotion under way is not a failure', async () => {
    const { replica } = await sourceAndReplica();
    const { promoter, clientFor, sent } = rdsPromoter(replica);
    let raced = false;
    overlayOutput<DescribeDBInstancesCommandOutput>(clientFor(W2), 'DescribeDBInstancesCommand', (o) =>
      raced ? { ...o, DBInstances: o.DBInstances?.map((i) => ({ ...i, DBInstanceStatus: 'modifying' })) } : o,
    );
    // Another execution's PromoteReadReplica lands between our read and our call; RDS refuses ours.
    refuseWith(clientFor(W2), 'PromoteReadReplicaCommand', byCode('InvalidDBInstanceState'), {
      before: async () => {
        await motoClient(RDSClient, W2).send(
          new PromoteReadReplicaCommand({ DBInstanceIdentifier: replica }),
        );
        raced = true;
      },
    });
    const res = await promoter.promote(W2, 'unplanned');
    expect(res.detail).toMatch(/^promotion in progress \(started by a concurrent call\): .* modifying/);
    expect(sent()).toEqual(['DescribeDBInstances', 'PromoteReadReplica', 'DescribeDBInstances']);
  });

  it('an invalid-state refusal that the second read does not explain is a DatabaseError naming both', async () => {
    const { replica } = await sourceAndReplica();
    const { promoter, clientFor } = rdsPromoter(replica);
    refuseWith(clientFor(W2), 'PromoteReadReplicaCommand', byCode('InvalidDBInstanceState'));
    const err = await promoter.promote(W2, 'unplanned').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `could not promote ${replica} in us-west-2 \\(${replica} available, replica of .*\\): InvalidDBInstanceState`,
      ),
    );
  });

  it("an unknown instance is moto's DBInstanceNotFoundFault, mapped to DatabaseError", async () => {
    const { promoter } = rdsPromoter(unique('missing'));
    const err = await promoter.promote(W2, 'unplanned').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toMatch(/DBInstanceNotFoundFault: DBInstance missing-\w+ not found/);
  });
});

/**
 * A global cluster with a writer cluster (in `E1`, or in `W2` with `writerIn: W2`) and a secondary in the other
 * region; `writerInstance: false` leaves the writer cluster without instances.
 */
async function globalDatabase(opts: { writerInstance?: boolean; writerIn?: string } = {}) {
  const gc = unique('gc');
  const first = unique('first');
  const second = unique('second');
  const writerRegion = opts.writerIn ?? E1;
  const e1 = motoClient(RDSClient, writerRegion);
  const w2 = motoClient(RDSClient, writerRegion === E1 ? W2 : E1);
  await e1.send(new CreateGlobalClusterCommand({ GlobalClusterIdentifier: gc, Engine: 'aurora-postgresql' }));
  // moto makes the first member the global writer.
  const a = await e1.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: first,
      Engine: 'aurora-postgresql',
      GlobalClusterIdentifier: gc,
      MasterUsername: 'cutover',
      MasterUserPassword: 'not-a-secret',
    }),
  );
  const b = await w2.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: second,
      Engine: 'aurora-postgresql',
      GlobalClusterIdentifier: gc,
    }),
  );
  const instance = (region: RDSClient, cluster: string) =>
    region.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: `${cluster}-1`,
        DBClusterIdentifier: cluster,
        Engine: 'aurora-postgresql',
        DBInstanceClass: 'db.r6g.large',
      }),
    );
  if (opts.writerInstance !== false) await instance(e1, first);
  await instance(w2, second);
  return { gc, writer: a.DBCluster!.DBClusterArn!, reader: b.DBCluster!.DBClusterArn! };
}

/** Aurora with the target (standby) in `W2`, and the primary in `E1`. */
function auroraPromoter(gc: string, primaryArn: string, standbyArn: string) {
  const clients = regionClients();
  const promoter = new RdsDatabasePromoter(
    clients.clientFor,
    exampleConfig((c) => {
      c.database = { engine: 'aurora', globalClusterId: gc };
      c.primary.databaseId = primaryArn;
      c.standby.databaseId = standbyArn;
    }),
  );
  return { promoter, ...clients };
}

const failoverState =
  (status: string, to: string, from: string) => (o: DescribeGlobalClustersCommandOutput) => ({
    ...o,
    GlobalClusters: o.GlobalClusters?.map((g) => ({
      ...g,
      FailoverState: { Status: status as 'failing-over', ToDbClusterArn: to, FromDbClusterArn: from },
    })),
  });

describe('RdsDatabasePromoter (aurora) on moto', () => {
  it('judges each cluster from DescribeDBClusters and its global membership', async () => {
    const { gc, writer, reader } = await globalDatabase();
    const { promoter, sent } = auroraPromoter(gc, writer, reader);
    expect(await promoter.status(E1)).toEqual({
      writable: true,
      detail: `${writer} available, a writer instance, global writer`,
    });
    expect(await promoter.status(W2)).toEqual({
      writable: false,
      detail: `${reader} available, a writer instance, global reader`,
    });
    expect(sent().sort()).toEqual([
      'DescribeDBClusters',
      'DescribeDBClusters',
      'DescribeGlobalClusters',
      'DescribeGlobalClusters',
    ]);
  });

  it('a global writer without a writer instance is not writable yet', async () => {
    const { gc, writer, reader } = await globalDatabase({ writerInstance: false, writerIn: W2 });
    const { promoter } = auroraPromoter(gc, reader, writer);
    expect(await promoter.status(W2)).toEqual({
      writable: false,
      detail: `${writer} available, no writer instance, global writer; not ready yet`,
    });
  });

  it('is writable once the target is the writer, whatever FailoverState still says while the old primary is unreachable', async () => {
    const { gc, writer, reader } = await globalDatabase({ writerIn: W2 });
    // The target is the global writer in moto; AWS can leave FailoverState on failing-over (moto has none).
    const { promoter, clientFor, sent } = auroraPromoter(gc, reader, writer);
    overlayOutput(
      clientFor(W2),
      'DescribeGlobalClustersCommand',
      failoverState('failing-over', writer, reader),
    );
    expect((await promoter.status(W2)).writable).toBe(true);
    expect((await promoter.promote(W2, 'unplanned')).detail).toBe(
      `already promoted: ${writer} available, a writer instance, global writer`,
    );
    expect(sent()).not.toContain('FailoverGlobalCluster');
  });

  it('a retried promote while a failover towards the target is in flight sends no second FailoverGlobalCluster', async () => {
    const { gc, writer, reader } = await globalDatabase();
    const { promoter, clientFor, sent } = auroraPromoter(gc, writer, reader);
    overlayOutput(
      clientFor(W2),
      'DescribeGlobalClustersCommand',
      failoverState('failing-over', reader, writer),
    );
    const res = await promoter.promote(W2, 'unplanned');
    expect(res.detail).toBe(
      `promotion in progress: ${reader} available, a writer instance, global reader; failing-over towards it`,
    );
    expect(sent().sort()).toEqual(['DescribeDBClusters', 'DescribeGlobalClusters']);
  });

  it('a switchover refused with an invalid state because one started meanwhile is read again, not failed', async () => {
    const { gc, writer, reader } = await globalDatabase();
    const { promoter, clientFor, sent } = auroraPromoter(gc, writer, reader);
    let raced = false;
    overlayOutput<DescribeGlobalClustersCommandOutput>(clientFor(W2), 'DescribeGlobalClustersCommand', (o) =>
      raced ? failoverState('switching-over', reader, writer)(o) : o,
    );
    // moto does not serve SwitchoverGlobalCluster: the refusal is AWS's, the reads before and after are moto's.
    refuseWith(clientFor(W2), 'SwitchoverGlobalClusterCommand', byCode('InvalidGlobalClusterStateFault'), {
      before: async () => {
        raced = true;
      },
    });
    const res = await promoter.promote(W2, 'planned');
    expect(res.detail).toMatch(
      /^promotion in progress \(started by a concurrent call\): .*switching-over towards it$/,
    );
    expect(sent().filter((n) => n === 'SwitchoverGlobalCluster')).toHaveLength(1);
  });

  it('a failover in flight towards another cluster blocks the promotion: DatabaseError, nothing sent', async () => {
    const { gc, writer, reader } = await globalDatabase();
    const { promoter, clientFor, sent } = auroraPromoter(gc, writer, reader);
    const elsewhere = `${writer.replace(/cluster:.*/, 'cluster:')}third`;
    overlayOutput(
      clientFor(W2),
      'DescribeGlobalClustersCommand',
      failoverState('failing-over', elsewhere, writer),
    );
    const err = await promoter.promote(W2, 'unplanned').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toContain(`${gc} is failing-over towards ${elsewhere}`);
    expect(sent()).not.toContain('FailoverGlobalCluster');
  });

  it('a cluster that is not a member of the global cluster is refused, never taken for a promoted one', async () => {
    const { gc, writer } = await globalDatabase();
    const w2 = motoClient(RDSClient, W2);
    const lone = unique('lone');
    const created = await w2.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: lone,
        Engine: 'aurora-postgresql',
        MasterUsername: 'cutover',
        MasterUserPassword: 'not-a-secret',
      }),
    );
    await w2.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: `${lone}-1`,
        DBClusterIdentifier: lone,
        Engine: 'aurora-postgresql',
        DBInstanceClass: 'db.r6g.large',
      }),
    );
    const arn = created.DBCluster!.DBClusterArn!;
    const { promoter, sent } = auroraPromoter(gc, writer, arn);
    expect(await promoter.status(W2)).toEqual({
      writable: false,
      detail: `${arn} is not a member of global cluster ${gc}`,
    });
    await expect(promoter.promote(W2, 'unplanned')).rejects.toThrow(
      new DatabaseError(
        `cannot promote ${arn} in us-west-2 now: ${arn} is not a member of global cluster ${gc}`,
      ),
    );
    expect(sent().filter((n) => !n.startsWith('Describe'))).toEqual([]);
  });

  it("an unknown cluster is moto's DBClusterNotFoundFault; a throttled read is transient", async () => {
    const { gc, writer } = await globalDatabase();
    const missing = `arn:aws:rds:${W2}:123456789012:cluster:${unique('missing')}`;
    const { promoter, clientFor } = auroraPromoter(gc, writer, missing);
    const err = await promoter.status(W2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toMatch(/DBClusterNotFoundFault/);
    refuseWith(clientFor(W2), 'DescribeGlobalClustersCommand', byCode('Throttling'));
    await expect(promoter.status(W2)).rejects.toBeInstanceOf(TransientError);
  });
});
