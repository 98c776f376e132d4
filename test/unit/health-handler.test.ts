import { createServer, type Server } from 'node:http';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckSpec } from '#core/health.js';
import { healthContract, healthContractHandler, serveHealthContract } from '#guard/health.js';
import { dependencyCheck, replicationLagCheck, writeCheck } from '#guard/health-checks.js';

const spec = (name: string, weight: CheckSpec['weight'], timeoutMs = 150): CheckSpec => ({
  name,
  kind: 'write',
  weight,
  timeoutMs,
});

/** A dependency stand-in: /ok answers 200, /down 500, /hang never. */
let dep: Server;
let depUrl = '';
beforeAll(async () => {
  dep = createServer((req, res) => {
    if (req.url === '/ok') res.writeHead(200).end('ok');
    else if (req.url === '/down') res.writeHead(500).end('no');
  });
  await new Promise<void>((r) => dep.listen(0, '127.0.0.1', () => r()));
  const a = dep.address();
  depUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(async () => {
  dep.closeAllConnections();
  await new Promise((r) => dep.close(r));
});

describe('healthContract', () => {
  it('answers a check that hangs and ignores its signal as a timeout, within its own timeout', async () => {
    let aborted = false;
    const run = healthContract({
      checks: [spec('db-write', 'unhealthy', 100), spec('fast', 'warn', 1_000)],
      run: {
        'db-write': (signal) => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
          return new Promise(() => {});
        },
        fast: async () => ({ ok: true, detail: 'fine' }),
      },
    });
    const started = Date.now();
    const answer = await run();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(aborted).toBe(true);
    expect(answer.statusCode).toBe(503);
    expect(answer.body.checks).toEqual([
      { name: 'db-write', ok: false, ms: expect.any(Number), detail: 'timeout after 100 ms' },
      { name: 'fast', ok: true, ms: expect.any(Number), detail: 'fine' },
    ]);
  });

  it('answers a check that throws as failed with its message', async () => {
    const run = healthContract({
      checks: [spec('db-write', 'unhealthy')],
      run: {
        'db-write': writeCheck(async () => {
          throw new Error('cannot execute UPDATE in a read-only transaction');
        }),
      },
    });
    expect((await run()).body.checks[0]).toMatchObject({
      ok: false,
      detail: 'error: cannot execute UPDATE in a read-only transaction',
    });
  });

  it('refuses a missing or unknown implementation, naming the check', () => {
    expect(() => healthContract({ checks: [spec('db-write', 'unhealthy')], run: {} })).toThrow(
      /options\.run\.db-write: no implementation for the configured check db-write/,
    );
    expect(() =>
      healthContract({
        checks: [spec('db-write', 'unhealthy')],
        run: { 'db-write': writeCheck(async () => {}), extra: writeCheck(async () => {}) },
      }),
    ).toThrow(/options\.run\.extra: not a configured check \(configured: db-write\)/);
    expect(() => healthContract({ checks: [], run: {} })).toThrow(/options\.checks/);
  });
});

describe('deep checks', () => {
  const one = (name: string, check: Parameters<typeof healthContract>[0]['run'][string], timeoutMs = 300) =>
    healthContract({ checks: [spec(name, 'warn', timeoutMs)], run: { [name]: check } });

  it('dependency: 2xx passes, 500 fails, a hang is a timeout', async () => {
    expect((await one('dep', dependencyCheck(`${depUrl}/ok`))()).body.checks[0]).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/answered 200$/),
    });
    expect((await one('dep', dependencyCheck(`${depUrl}/down`))()).body.checks[0]).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/answered 500$/),
    });
    expect((await one('dep', dependencyCheck(`${depUrl}/hang`), 150)()).body.checks[0]).toMatchObject({
      ok: false,
      detail: 'timeout after 150 ms',
    });
  });

  it('replication lag: under the bound passes, over it or unknown fails', async () => {
    const lag = (ms: number | null) =>
      one(
        'lag',
        replicationLagCheck(async () => ms, 5_000),
      );
    expect((await lag(1_200)()).body.checks[0]).toMatchObject({
      ok: true,
      detail: 'replication lag 1200 ms ≤ 5000 ms',
    });
    expect((await lag(9_000)()).body.checks[0]).toMatchObject({
      ok: false,
      detail: 'replication lag 9000 ms > 5000 ms',
    });
    expect((await lag(null)()).body.checks[0]).toMatchObject({
      ok: false,
      detail: 'no replication lag reading',
    });
    const port = replicationLagCheck(
      { reader: { read: async () => ({ lagMs: 10, at: 1 }) }, region: 'x' },
      5,
    );
    expect((await one('lag', port)()).body.checks[0]?.ok).toBe(false);
  });
});

describe('mounting', () => {
  const contract = healthContract({
    checks: [spec('db-write', 'unhealthy')],
    run: { 'db-write': writeCheck(async () => {}) },
  });

  it('serves GET /cutover/health on node:http and lets other paths through', async () => {
    const mount = serveHealthContract(contract);
    const server = createServer((req, res) => {
      if (!mount(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    try {
      const res = await fetch(`${base}/cutover/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({
        status: 'ok',
        checks: [
          { name: 'db-write', ok: true, ms: expect.any(Number), detail: 'test row written and read back' },
        ],
      });
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(`${base}/cutover/health`, { method: 'POST' })).status).toBe(405);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('answers as a Lambda handler with middy', async () => {
    const handler = healthContractHandler({
      checks: [spec('db-write', 'unhealthy', 50)],
      run: { 'db-write': () => new Promise(() => {}) },
    });
    const res = await handler({}, {} as Context);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({
      status: 'unhealthy',
      checks: [{ detail: 'timeout after 50 ms' }],
    });
  });
});

describe('sharing', () => {
  it('requests that arrive while a run is in flight share it: one run of each check', async () => {
    let runs = 0;
    const contract = healthContract({
      checks: [spec('db-write', 'unhealthy', 500)],
      run: {
        'db-write': async () => {
          runs += 1;
          await new Promise((r) => setTimeout(r, 30));
          return { ok: true, detail: 'written' };
        },
      },
    });
    const answers = await Promise.all([contract(), contract(), contract()]);
    expect(runs).toBe(1);
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    await contract();
    expect(runs).toBe(2);
  });
});
