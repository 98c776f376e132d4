import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { answerHolderCheck, type HolderCheckDeps } from '#commons/holder-check-core.js';
import type { HolderCheckBody } from '#core/holder.js';
import { holderDeadline, type LeaseTiming, safeToTakeAt } from '#core/lease.js';
import { systemClock } from '#core/ports.js';
import { freshTables } from '../support/dynamodb.js';
import { FakeClock } from '../support/fake-clock.js';
import { exampleConfig } from '../support/fixtures.js';

const config = exampleConfig();
const APP = config.application;
const PRIMARY = config.primary.region;
const STANDBY = config.standby.region;
const timing: LeaseTiming = config.lease;

let doc: DynamoDBDocumentClient;
let endpoint: string;
let table: string;
let clock: FakeClock;
let store: DynamoLeaseStore;
let reads: number;
let logs: Array<{ message: string; fields: Record<string, unknown> }>;

beforeAll(async () => {
  const t = await freshTables('holder');
  doc = t.doc;
  endpoint = t.endpoint;
  table = t.names.control;
});

// Each test gets its own application name, so leases never leak between tests on the shared table.
let app = APP;
let n = 0;
beforeEach(() => {
  app = `${APP}-${++n}`;
  clock = new FakeClock();
  store = new DynamoLeaseStore(doc, table, timing, clock);
  reads = 0;
  logs = [];
});

const deps = (over: Partial<HolderCheckDeps> = {}): HolderCheckDeps => ({
  application: app,
  applicationRegions: [PRIMARY, STANDBY],
  leases: {
    read: (a) => {
      reads++;
      return store.read(a);
    },
  },
  timing,
  clock,
  log: (message, fields) => logs.push({ message, fields }),
  ...over,
});

async function ask(rawQuery: string, method = 'GET', d = deps()) {
  const res = await answerHolderCheck({ method, rawQuery }, d);
  return { ...res, json: JSON.parse(res.body) as HolderCheckBody & { field?: string } };
}

describe('the holder-check function answers from the lease authority (DynamoDB Local)', () => {
  it('answers 503 NO_LEASE for both regions before any lease was granted', async () => {
    for (const region of [PRIMARY, STANDBY]) {
      const res = await ask(`region=${region}`);
      expect(res.statusCode).toBe(503);
      expect(res.json).toMatchObject({ region, holding: false, holder: null, code: 'NO_LEASE' });
    }
  });

  it('answers 200 only for the holder, with holder, epoch and expiry, never cacheable', async () => {
    const acquired = await store.acquire(app, PRIMARY, null);
    expect(acquired.ok).toBe(true);
    const held = await ask(`region=${PRIMARY}`);
    expect(held.statusCode).toBe(200);
    expect(held.headers).toEqual({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(held.json).toEqual({
      region: PRIMARY,
      holding: true,
      holder: PRIMARY,
      epoch: 1,
      expiresAt: clock.now() + timing.ttlMs,
      code: 'HOLDER',
      reason: expect.stringContaining(`${PRIMARY} holds the lease at epoch 1`),
      at: clock.now(),
    });
    const other = await ask(`region=${STANDBY}`);
    expect(other.statusCode).toBe(503);
    expect(other.json).toMatchObject({
      region: STANDBY,
      holding: false,
      holder: PRIMARY,
      code: 'NOT_HOLDER',
    });
  });

  it("turns 503 when the lease runs out for writes on the authority's clock (skew and margin before expiry)", async () => {
    const acquired = await store.acquire(app, PRIMARY, null);
    if (!acquired.ok) throw new Error('no lease');
    const deadline = holderDeadline(acquired.lease, timing);
    clock.t = deadline - 1;
    expect((await ask(`region=${PRIMARY}`)).statusCode).toBe(200);
    clock.t = deadline;
    const late = await ask(`region=${PRIMARY}`);
    expect(late.statusCode).toBe(503);
    expect(late.json.code).toBe('EXPIRED');
  });

  it('follows a failover: FENCED for both after the revoke, then 200 for the standby only after the grant', async () => {
    const acquired = await store.acquire(app, PRIMARY, null);
    if (!acquired.ok) throw new Error('no lease');
    const revoked = await store.revoke(app, 1);
    expect(revoked.ok).toBe(true);
    for (const region of [PRIMARY, STANDBY]) {
      const res = await ask(`region=${region}`);
      expect(res.statusCode, region).toBe(503);
      expect(res.json).toMatchObject({ code: 'FENCED', epoch: 2, holder: null });
    }
    clock.t = safeToTakeAt(acquired.lease, timing);
    const granted = await store.grant(app, STANDBY, 2);
    expect(granted.ok).toBe(true);
    expect((await ask(`region=${STANDBY}`)).json).toMatchObject({ holding: true, holder: STANDBY, epoch: 3 });
    expect((await ask(`region=${PRIMARY}`)).statusCode).toBe(503);
  });

  it('answers 503 (never 200) when the lease cannot be read, and logs why', async () => {
    await store.acquire(app, PRIMARY, null);
    const missing = new DynamoLeaseStore(doc, 'no-such-table', timing, clock, {
      attempts: 1,
      baseDelayMs: 0,
    });
    const res = await ask(`region=${PRIMARY}`, 'GET', deps({ leases: missing }));
    expect(res.statusCode).toBe(503);
    expect(res.json).toMatchObject({ holding: false, holder: null, code: 'STALE_CACHE' });
    expect(res.json.reason).toMatch(/could not read the lease/);
    expect(logs.map((l) => l.message)).toEqual(['holder check: lease unreadable']);
  });

  it('answers HEAD like GET (status only matters to a checker)', async () => {
    await store.acquire(app, PRIMARY, null);
    expect((await ask(`region=${PRIMARY}`, 'HEAD')).statusCode).toBe(200);
  });
});

describe('bad requests are refused with 400 (or 405) naming the field, before any read', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['no query', '', 'region', /region is required: one of us-east-1, us-west-2/],
    ['empty region', 'region=', 'region', /"" is not an application region/],
    ['a watcher region', 'region=eu-west-1', 'region', /"eu-west-1" is not an application region/],
    ['region twice', `region=${PRIMARY}&region=${STANDBY}`, 'region', /given 2 times/],
    ['an unknown parameter', `region=${PRIMARY}&epoch=3`, 'epoch', /unknown query parameter "epoch"/],
    ['a misspelt key', `regoin=${PRIMARY}`, 'regoin', /unknown query parameter "regoin"/],
    ['a case variant', `region=US-EAST-1`, 'region', /"US-EAST-1" is not an application region/],
  ];
  it.each(cases)('%s → 400', async (_name, query, field, reason) => {
    await store.acquire(app, PRIMARY, null);
    const res = await ask(query);
    expect(res.statusCode).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toMatchObject({ code: 'BAD_QUERY', field });
    expect((res.json as unknown as { reason: string }).reason).toMatch(reason);
    expect(reads).toBe(0);
  });

  it.each(['POST', 'PUT', 'DELETE'])('%s → 405 with Allow', async (method) => {
    const res = await ask(`region=${PRIMARY}`, method);
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.json).toMatchObject({ code: 'METHOD', field: 'method' });
    expect(reads).toBe(0);
  });
});

describe('the deployed handler (functions/holder-check.ts) through middy, configured as the CDK app sets it', () => {
  const saved = { ...process.env };
  let handler: (e: LambdaFunctionURLEvent, c: Context) => Promise<LambdaFunctionURLResult>;
  beforeAll(async () => {
    Object.assign(process.env, {
      CUTOVER_CONFIG: JSON.stringify(config),
      CONTROL_TABLE: table,
      // DynamoDB Local keeps one database per access key and region: the tables were made in us-east-1.
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    ({ handler } = (await import('../../functions/holder-check.js')) as unknown as {
      handler: typeof handler;
    });
  });
  afterAll(() => {
    process.env = saved;
  });

  const event = (rawQueryString: string, method = 'GET') =>
    ({
      rawQueryString,
      requestContext: { http: { method } },
    }) as unknown as LambdaFunctionURLEvent;

  it('answers a function URL event with the lease as the authority holds it', async () => {
    // The handler reads the configured application's lease on the real clock.
    const real = new DynamoLeaseStore(doc, table, timing, systemClock);
    const acquired = await real.acquire(config.application, STANDBY, null);
    expect(acquired.ok).toBe(true);
    const yes = (await handler(event(`region=${STANDBY}`), {} as Context)) as Exclude<
      LambdaFunctionURLResult,
      string
    >;
    expect(yes.statusCode).toBe(200);
    expect(yes.headers?.['cache-control']).toBe('no-store');
    expect(JSON.parse(yes.body!)).toMatchObject({ region: STANDBY, holder: STANDBY, holding: true });
    const no = (await handler(event(`region=${PRIMARY}`), {} as Context)) as Exclude<
      LambdaFunctionURLResult,
      string
    >;
    expect(no.statusCode).toBe(503);
    const bad = (await handler(event('region=mars-1'), {} as Context)) as Exclude<
      LambdaFunctionURLResult,
      string
    >;
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body!)).toMatchObject({ code: 'BAD_QUERY', field: 'region' });
  });
});
