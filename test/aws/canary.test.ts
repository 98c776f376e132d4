import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { trafficRouterFor } from '#adapters/aws/traffic-ports.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { canaryCommand } from '../../bin/canary-command.js';
import { createTables, localClients } from '../../infra/local/tables.js';
import { exampleConfig, exampleConfigJson } from '../support/fixtures.js';
import { motoClient, recordCommands, unique } from '../support/moto-clients.js';

/**
 * `cutover canary` on moto's Route 53 (weighted records, mode health-check's planned path), with each region's
 * endpoint a local HTTP server: a healthy standby completes and rolls back; a failing one is rolled back at once.
 * The control table is on moto's DynamoDB: the canary reads the lease, the pause and the open incident first.
 */

const E1 = 'us-east-1';
const W2 = 'us-west-2';

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

function app(status: () => number): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(status());
    res.end('ok');
  });
  servers.push(server);
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () =>
      r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`),
    ),
  );
}

/** A fresh control table on moto's DynamoDB with the lease held by `holder` (default: the configured primary). */
async function controlTable(holder = E1) {
  const endpoint = inject('motoEndpoint');
  const { raw, doc } = localClients(endpoint, E1);
  const table = unique('canary-control');
  await createTables(raw, { control: table, votes: unique('canary-votes') });
  const leases = new DynamoLeaseStore(doc, table, exampleConfig().lease, { now: Date.now });
  expect((await leases.acquire(exampleConfig().application, holder, null)).ok).toBe(true);
  const pause = () =>
    new DynamoControlStore(doc, table).setPause(exampleConfig().application, {
      pausedBy: 'oncall',
      pausedAt: Date.now(),
      reason: 'database upgrade',
    });
  return { args: ['--table', table, '--region', E1, '--endpoint', endpoint], pause };
}

async function setUp(standbyStatus: () => number, holder = E1) {
  const { args: tableArgs, pause } = await controlTable(holder);
  const r53 = motoClient(Route53Client, E1);
  const zoneName = `${unique('z')}.example.com`;
  const zone = await r53.send(
    new CreateHostedZoneCommand({ Name: zoneName, CallerReference: unique('ref') }),
  );
  const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
  const name = `orders.${zoneName}.`;
  const records: ResourceRecordSet[] = [E1, W2].map((region, i) => ({
    Name: name,
    Type: 'CNAME',
    SetIdentifier: `orders-${region}`,
    TTL: 60,
    ResourceRecords: [{ Value: `orders-${region}.example.com` }],
    Weight: i === 0 ? 100 : 0,
  }));
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: records.map((r) => ({ Action: 'CREATE', ResourceRecordSet: r })) },
    }),
  );
  // biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited before validation
  const raw = exampleConfigJson() as Record<string, any>;
  raw.primary.healthUrl = await app(() => 200);
  raw.standby.healthUrl = await app(standbyStatus);
  raw.traffic.recordName = name.slice(0, -1);
  const dir = mkdtempSync(join(tmpdir(), 'ladder-canary-'));
  const file = join(dir, 'cutover.json');
  writeFileSync(file, JSON.stringify(raw));
  const weights = async () => {
    const res = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    return Object.fromEntries(
      (res.ResourceRecordSets ?? []).filter((r) => r.SetIdentifier).map((r) => [r.SetIdentifier, r.Weight]),
    );
  };
  const client = motoClient(Route53Client, E1);
  const sent = recordCommands(client);
  const seen: Array<Record<string, number | undefined>> = [];
  const run = async (argv: string[], signal = new AbortController().signal) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await canaryCommand(['--config', file, '--out', join(dir, 'out'), ...tableArgs, ...argv], {
      io: { out: (s) => out.push(s), err: (s) => err.push(s) },
      // moto's zone ids do not start with Z as AWS's do, which the configuration checks; the router takes any.
      router: (config) => {
        const router = trafficRouterFor(
          { ...config, traffic: { ...config.traffic!, hostedZoneId: zoneId } },
          { route53: client },
        );
        return {
          ...router,
          stopTraffic: (r) => router.stopTraffic(r),
          changeStatus: (id) => router.changeStatus(id),
          routeTo: async (region, percent, o) => {
            const change = await router.routeTo(region, percent, o);
            seen.push(await weights());
            return change;
          },
        };
      },
      signal,
    });
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    const timeline = readFileSync(join(dir, 'out', 'timeline.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    return { code, out: out.join(''), err: err.join(''), report, timeline };
  };
  /** The canary refused before any traffic change: its exit code and what it said, and that no record changed. */
  const refused = async (extra: string[] = []) => {
    const before = await weights();
    const out: string[] = [];
    const err: string[] = [];
    const code = await canaryCommand(
      ['--config', file, '--out', join(dir, 'refused'), ...tableArgs, ...extra],
      {
        io: { out: (s) => out.push(s), err: (s) => err.push(s) },
        router: () => {
          throw new Error('no traffic router may be built when the canary is refused');
        },
      },
    );
    expect(out).toEqual([]);
    expect(seen).toEqual([]);
    expect(sent.filter((c) => c === 'ChangeResourceRecordSetsCommand')).toEqual([]);
    expect(await weights()).toEqual(before);
    return { code, err: err.join('') };
  };
  return { run, weights, sent, seen, refused, pause };
}

describe('cutover canary on moto (weighted records)', () => {
  it('sends 5 % to a healthy standby for its duration, then rolls back to 100/0 by itself: pass', async () => {
    const { run, weights, seen, sent } = await setUp(() => 200);
    // A wide latency slack: on a loaded machine two local servers' latencies differ by chance, not by region.
    const r = await run([
      '--percent',
      '5',
      '--duration',
      '2s',
      '--interval-ms',
      '100',
      '--latency-slack-ms',
      '5000',
    ]);
    expect(r.report.reasons).toEqual([]);
    expect(r.code).toBe(0);
    expect(seen).toEqual([
      { 'orders-us-east-1': 95, 'orders-us-west-2': 5 },
      { 'orders-us-east-1': 100, 'orders-us-west-2': 0 },
    ]);
    expect(await weights()).toEqual({ 'orders-us-east-1': 100, 'orders-us-west-2': 0 });
    expect(sent.filter((c) => c === 'ChangeResourceRecordSetsCommand')).toHaveLength(2);
    expect(r.report).toMatchObject({
      kind: 'canary',
      verdict: 'pass',
      reasons: [],
      end: { code: 'COMPLETED' },
      percent: 5,
    });
    expect(r.report.probes.standby.samples).toBeGreaterThanOrEqual(10);
    expect(r.report.probes.standby.errors).toBe(0);
    expect(r.timeline.map((e: { type: string }) => e.type)).toContain('canary_rolled_back');
    expect(r.out).toContain('canary PASS: COMPLETED');
  });

  it('rolls back at once when the standby fails its probes (a breach), and the report says why: fail', async () => {
    let n = 0;
    const { run, weights } = await setUp(() => (++n > 3 ? 500 : 200));
    const r = await run(['--percent', '10', '--duration', '1h', '--interval-ms', '50']);
    expect(r.code).toBe(1);
    expect(await weights()).toEqual({ 'orders-us-east-1': 100, 'orders-us-west-2': 0 });
    expect(r.report.verdict).toBe('fail');
    expect(r.report.end.code).toBe('ERROR_RATE_BREACH');
    expect(r.report.reasons[0]).toMatch(
      /^ERROR_RATE_BREACH: standby error rate \d+\.\d% \(\d+\/10\) is over the primary's 0\.0% \+ 2\.0%$/,
    );
    // Rolled back long before the hour: after the tenth probe of each region.
    expect(r.report.ran_ms).toBeLessThan(60_000);
    const types = r.timeline.map((e: { type: string }) => e.type);
    expect(types.indexOf('canary_breach')).toBeLessThan(types.indexOf('canary_rolled_back'));
  });

  it('rolls back on Ctrl-C (the abort signal) before the end of its duration: fail, INTERRUPTED', async () => {
    const { run, weights } = await setUp(() => 200);
    const ctrlC = new AbortController();
    setTimeout(() => ctrlC.abort(), 1_000);
    const r = await run(
      ['--duration', '1h', '--interval-ms', '100', '--latency-slack-ms', '5000'],
      ctrlC.signal,
    );
    expect(r.code).toBe(1);
    expect(r.report.end.code).toBe('INTERRUPTED');
    expect(r.report.traffic.rollback).toBe('weight 100 for us-east-1, 0 for the other');
    expect(await weights()).toEqual({ 'orders-us-east-1': 100, 'orders-us-west-2': 0 });
  });

  it('refuses, changing no record, when the standby holds the lease (after a failover, before the failback)', async () => {
    const { refused } = await setUp(() => 200, W2);
    const r = await refused();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^cannot run a canary now: PRIMARY_NOT_HOLDER: us-west-2 holds the lease at epoch 1, not the configured primary us-east-1: a rollback would send all traffic to the fenced old region; fail back first \(cutover failback\); nothing changed\n$/,
    );
  });

  it('refuses, changing no record, while the application is paused', async () => {
    const { refused, pause } = await setUp(() => 200);
    await pause();
    const r = await refused();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^cannot run a canary now: PAUSED: the application is paused by oncall \(database upgrade\)/,
    );
  });

  it('refuses, changing no record, when the control table cannot be read', async () => {
    const { refused } = await setUp(() => 200);
    const r = await refused(['--table', 'no-such-control-table']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^cannot run a canary: nothing changed; control table no-such-control-table \(us-east-1\): /,
    );
  });

  it('refuses bad input before touching a record', async () => {
    const { seen } = await setUp(() => 200);
    for (const [argv, message] of [
      [['--percent', '60'], '--percent must be a whole number from 1 to 50'],
      [['--duration', '10x'], '--duration must be a number with a unit such as 30s, 10m or 1h, got "10x"'],
      [['--probe-path', 'orders'], '--probe-path must start with /'],
    ] as const) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await canaryCommand(['--config', 'examples/cutover.example.json', ...argv], {
        io: { out: (s) => out.push(s), err: (s) => err.push(s) },
      });
      expect(code).toBe(2);
      expect(err.join('')).toContain(message);
    }
    expect(seen).toEqual([]);
  });
});
