import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamodb-local.js';
import { type FaultProxy, startFaultProxy } from '../../infra/local/fault-proxy.js';
import { type FrontDoor, startFrontDoor } from '../../infra/local/front-door.js';
import { startLoadGenerator } from '../../infra/local/load-generator.js';
import { createReplica, initPrimary, type PostgresServer } from '../../infra/local/postgres.js';
import {
  advanceFence,
  createOrdersSchema,
  listOrders,
  type SampleApp,
  startSampleApp,
} from '../../infra/local/sample-app.js';
import { FakeGuard, holding } from '../support/fake-guard.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The stand-ins composed by hand into a region outage, with the failover steps done by the test: what the
// drill orchestrator will do with real votes, a real lease and the state machine.
describe('local stack: a hand-driven region outage', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let dir: string;

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every write acknowledged after the promotion, and none under the old epoch after the grant', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-stack-'));
    const t0 = Date.now();
    const primary: PostgresServer = await initPrimary({
      dir: join(dir, 'east'),
      port: await freePort(),
      name: 'east',
    });
    cleanup.push(() => primary.stop());
    await createOrdersSchema(primary.endpoint);
    const replication: FaultProxy = await startFaultProxy({ name: 'east→west', target: primary.endpoint });
    cleanup.push(() => replication.stop());
    const replica = await createReplica({
      dir: join(dir, 'west'),
      port: await freePort(),
      name: 'west',
      upstream: replication.endpoint,
    });
    cleanup.push(() => replica.stop());
    const eastGuard = holding(1);
    const westGuard = new FakeGuard({
      allowed: false,
      epoch: 1,
      code: 'NOT_HOLDER',
      reason: 'east holds epoch 1',
    });
    const east: SampleApp = await startSampleApp({
      region: 'us-east-1',
      database: primary.endpoint,
      guard: eastGuard,
    });
    cleanup.push(() => east.stop());
    const west = await startSampleApp({ region: 'us-west-2', database: replica.endpoint, guard: westGuard });
    cleanup.push(() => west.stop());
    const door: FrontDoor = await startFrontDoor({
      regions: { 'us-east-1': east.url, 'us-west-2': west.url },
      initialRegion: 'us-east-1',
    });
    cleanup.push(() => door.stop());
    console.log(`stack up in ${Date.now() - t0} ms`);

    const load = startLoadGenerator({ url: door.url, intervalMs: 20, concurrency: 2 });
    cleanup.push(() => load.stop());
    await sleep(800);

    const [pm, rm_] = await Promise.all([primary.memory(), replica.memory()]);
    const outageAt = Date.now();
    await Promise.all([primary.kill(), east.kill()]);
    await door.stopTraffic('us-east-1');
    eastGuard.fence(2);
    const { ms: promoteMs } = await replica.promote();
    await advanceFence(replica.endpoint, 2);
    const grantedAt = Date.now();
    westGuard.hold(2);
    await door.routeTo('us-west-2');
    console.log(`outage → traffic on the standby in ${Date.now() - outageAt} ms (promote ${promoteMs} ms)`);
    await sleep(800);
    const { acked, stats } = await load.stop();

    const rows = new Map((await listOrders(replica.endpoint)).map((r) => [r.id, r]));
    const lost = acked.filter((w) => !rows.has(w.id));
    const splitBrain = acked.filter((w) => w.epoch < 2 && w.at > grantedAt);
    console.log(
      `acked ${acked.length} (east ${acked.filter((w) => w.region === 'us-east-1').length}), lost ${lost.length}, split-brain ${splitBrain.length}; ${JSON.stringify(stats.byCode)}`,
    );
    console.log(
      `memory: east pg pss ${pm.pssKb} kB, west pg pss ${rm_.pssKb} kB, test process rss ${Math.round(process.memoryUsage().rss / 1024)} kB`,
    );
    expect(acked.filter((w) => w.region === 'us-west-2').length).toBeGreaterThan(10);
    expect(lost.filter((w) => w.at > outageAt)).toEqual([]);
    expect(splitBrain).toEqual([]);
    expect(acked.filter((w) => w.region === 'us-west-2').every((w) => w.epoch === 2 && rows.has(w.id))).toBe(
      true,
    );
  });
});
