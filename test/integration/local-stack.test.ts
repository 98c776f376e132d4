import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { systemClock } from '#core/ports.js';
import { LeaseGuard } from '#guard/lease-guard.js';
import { drillConfig } from '../../infra/local/drill-config.js';
import { type FaultProxy, startFaultProxy } from '../../infra/local/fault-proxy.js';
import { type FrontDoor, startFrontDoor } from '../../infra/local/front-door.js';
import { startLoadGenerator, type WriteResult } from '../../infra/local/load-generator.js';
import { createReplica, initPrimary, type PostgresServer } from '../../infra/local/postgres.js';
import {
  advanceFence,
  createOrdersSchema,
  listOrders,
  type SampleApp,
  startSampleApp,
} from '../../infra/local/sample-app.js';
import { localClients } from '../../infra/local/tables.js';
import { freshTables } from '../support/dynamodb.js';
import { onFreePort } from '../support/ports.js';

const APP = 'orders';
const until = { timeout: 20_000, interval: 25 };

// The stand-ins composed by hand into a region outage, with the failover steps done by the test: the real
// lease on DynamoDB Local, the real LeaseGuard in each app's write path, and a client stranded on the old
// primary's side of the partition that keeps writing to it. Only the guard and the lease fence stand
// between that client and a second primary.
describe('local stack: a hand-driven region outage', () => {
  const cleanup: (() => unknown)[] = [];
  let dir: string;

  afterAll(async () => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every write acknowledged by the new primary, and none under the old epoch after the grant', async () => {
    const { lease: timing } = drillConfig();
    const t = await freshTables('stack');
    const authority = new DynamoLeaseStore(t.doc, t.names.control, timing, systemClock);

    /** A region reaches the lease authority through its own link, so that a partition can cut it off. */
    async function regionGuard(region: string) {
      const link = await startFaultProxy({
        name: `${region}->control`,
        target: { host: '127.0.0.1', port: Number(new URL(t.endpoint).port) },
      });
      cleanup.push(() => link.stop());
      const clients = localClients(link.url, 'us-east-1', { requestTimeoutMs: timing.retryTimeoutMs });
      cleanup.push(() => clients.raw.destroy());
      const leases = new DynamoLeaseStore(clients.doc, t.names.control, timing, systemClock);
      const guard = new LeaseGuard({ store: leases, application: APP, region, timing });
      cleanup.push(() => guard.stop());
      return { link, leases, guard };
    }

    dir = await mkdtemp(join(tmpdir(), 'cutover-stack-'));
    const primary: PostgresServer = await onFreePort((port) =>
      initPrimary({ dir: join(dir, `east-${port}`), port, name: 'east' }),
    );
    cleanup.push(() => primary.stop());
    await createOrdersSchema(primary.endpoint);
    const replication: FaultProxy = await startFaultProxy({ name: 'east→west', target: primary.endpoint });
    cleanup.push(() => replication.stop());
    const replica = await onFreePort((port) =>
      createReplica({ dir: join(dir, `west-${port}`), port, name: 'west', upstream: replication.endpoint }),
    );
    cleanup.push(() => replica.stop());

    const held = await authority.acquire(APP, 'us-east-1', null);
    if (!held.ok) throw new Error(`could not seed the lease: ${held.code}`);
    const eastEpoch = held.lease.epoch;
    const east = await regionGuard('us-east-1');
    const west = await regionGuard('us-west-2');
    // East's heartbeat: renews through its own link, so the partition stops it too.
    const renewing = setInterval(
      () => void east.leases.renew(APP, 'us-east-1', eastEpoch).catch(() => {}),
      timing.renewIntervalMs,
    );
    cleanup.push(() => clearInterval(renewing));
    expect(await east.guard.start()).toMatchObject({ allowed: true, epoch: eastEpoch });
    expect(await west.guard.start()).toMatchObject({ allowed: false, code: 'NOT_HOLDER' });

    const eastApp: SampleApp = await startSampleApp({
      region: 'us-east-1',
      database: primary.endpoint,
      guard: east.guard,
    });
    cleanup.push(() => eastApp.stop());
    const westApp = await startSampleApp({
      region: 'us-west-2',
      database: replica.endpoint,
      guard: west.guard,
    });
    cleanup.push(() => westApp.stop());
    const door: FrontDoor = await startFrontDoor({
      regions: { 'us-east-1': eastApp.url, 'us-west-2': westApp.url },
      initialRegion: 'us-east-1',
    });
    cleanup.push(() => door.stop());

    const load = startLoadGenerator({ url: door.url, intervalMs: 20, concurrency: 2 });
    cleanup.push(() => load.stop());
    const strandedResults: WriteResult[] = [];
    const stranded = startLoadGenerator({
      url: eastApp.url,
      intervalMs: 20,
      concurrency: 1,
      idPrefix: 'stranded',
      onResult: (r) => strandedResults.push(r),
    });
    cleanup.push(() => stranded.stop());
    await vi.waitFor(() => {
      expect(load.acked().length).toBeGreaterThanOrEqual(10);
      expect(stranded.acked().length).toBeGreaterThanOrEqual(5);
    }, until);

    // The outage: us-east-1 is cut off from the lease authority, from its replica and from the front door's
    // health checks, but its app and database keep running for the clients on its side.
    const outageAt = Date.now();
    east.link.cut('reset');
    replication.cut('reset');
    await door.stopTraffic('us-east-1');
    const fenced = await authority.revoke(APP, eastEpoch);
    if (!fenced.ok) throw new Error(`could not revoke: ${fenced.code}`);
    const { ms: promoteMs } = await replica.promote();
    // The grant is refused (NOT_SAFE_YET) until the old lease plus the skew margin has run out.
    const granted = await vi.waitFor(async () => {
      const g = await authority.grant(APP, 'us-west-2', fenced.lease.epoch);
      if (!g.ok) throw new Error(`grant refused: ${g.code}`);
      return g.lease;
    }, until);
    const grantedAt = Date.now();
    await advanceFence(replica.endpoint, granted.epoch);
    await west.guard.refresh();
    expect(west.guard.check()).toMatchObject({ allowed: true, epoch: granted.epoch });
    await door.routeTo('us-west-2');
    console.log(`outage → traffic on the standby in ${Date.now() - outageAt} ms (promote ${promoteMs} ms)`);

    // Enough after the grant that a guard still allowing the old epoch would have been caught acking.
    await vi.waitFor(() => {
      expect(load.acked().filter((w) => w.region === 'us-west-2').length).toBeGreaterThan(10);
      expect(strandedResults.filter((r) => r.at > grantedAt).length).toBeGreaterThanOrEqual(10);
    }, until);
    const { acked } = await load.stop();
    const { acked: strandedAcked } = await stranded.stop();

    const rows = new Map((await listOrders(replica.endpoint)).map((r) => [r.id, r]));
    const all = [...acked, ...strandedAcked];
    const splitBrain = all.filter((w) => w.epoch < granted.epoch && w.at > grantedAt);
    console.log(
      `acked ${acked.length} through the door, ${strandedAcked.length} stranded on us-east-1; split-brain ${splitBrain.length}`,
    );
    expect(splitBrain).toEqual([]);
    // The stranded client was still writing to us-east-1 after the grant, and its guard refused every write.
    const late = strandedResults.filter((r) => r.at > grantedAt);
    expect(late.every((r) => r.status === 503)).toBe(true);
    for (const r of late) expect(['STALE_CACHE', 'EXPIRED']).toContain(r.code);
    const onWest = acked.filter((w) => w.region === 'us-west-2');
    expect(onWest.every((w) => w.epoch === granted.epoch && rows.has(w.id))).toBe(true);
  });
});
