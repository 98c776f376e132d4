import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#core/config.js';
import {
  DEPLOYED,
  type DeploymentShape,
  estimateCost,
  estimateShape,
  FAILOVER_PATH,
  FAILOVER_PATH_TASKS,
  failoverCost,
  levers,
  loopRounds,
  MINUTES_PER_MONTH,
  tracedPerSecond,
} from '#core/cost.js';
import { withTrafficMode } from '../support/fixtures.js';

const example = loadConfig(JSON.parse(readFileSync('examples/cutover.example.json', 'utf8')));
const byId = (shape: DeploymentShape) =>
  Object.fromEntries(estimateShape(shape).components.map((c) => [c.id, c]));

// Three watchers probing every 30 s, two control regions, five votes replicas, an arbiter lease table.
const small: DeploymentShape = {
  watchers: 3,
  controlRegions: 2,
  votesReplicas: 5,
  leaseReplicas: 1,
  probeIntervalMs: 30_000,
  responseTimeoutMs: 3_000,
  renewIntervalMs: 10_000,
  retryTimeoutMs: 2_000,
};

describe('cost model arithmetic', () => {
  it('counts the rounds the loops run in their minute', () => {
    // Rounds start while more than the budget (response timeout + 1 s) is left of the 60 s invocation.
    expect(loopRounds(60_000, 10_000, 4_000)).toBe(6);
    expect(loopRounds(60_000, 5_000, 4_000)).toBe(12);
    expect(loopRounds(60_000, 30_000, 4_000)).toBe(2);
    expect(loopRounds(60_000, 10_000, 5_000)).toBe(6);
    expect(loopRounds(60_000, 14_000, 4_000)).toBe(4);
    expect(loopRounds(3_000, 1_000, 4_000)).toBe(0);
  });

  it('prices the lease keeper by its mode: in-process has no Lambda and no schedule; scheduled runs overlap', () => {
    const inProcess = byId({ ...small, keeper: 'process' });
    // 60 s / 10 s = 6 renewals a minute × 43,200 minutes, in 1 arbiter table; no invocation or duration line.
    expect(inProcess.heartbeat!.lines.map((l) => l.item)).toEqual([
      'lease renewals × replicas',
      'standby lease reads, holder first read',
    ]);
    expect(inProcess.heartbeat!.lines[0]!.quantity).toBe(6 * 43_200);
    // Only the 3 watchers' schedules remain, and the readiness schedule every 30 minutes in 2 control regions.
    expect(inProcess.scheduler!.lines[0]!.quantity).toBe(3 * 43_200 + 2 * 1_440);
    // Scheduled runs of 130 s: rounds start while more than 2 × 2 s + 1 s is left, so 13 ticks a run, one run
    // started a minute in each of the 2 application regions, each billed to its last tick (120 s + 0.3 s).
    const scheduled = estimateShape({ ...small, keeper: 'scheduled', scheduledRunMs: 130_000 });
    expect(scheduled.usage.heartbeatTicksPerInvocation).toBe(13);
    expect(scheduled.usage.heartbeatInvocations).toBe(2 * 43_200);
    expect(scheduled.usage.heartbeatBilledMs).toBe(120_300);
    expect(
      byId({ ...small, keeper: 'scheduled', scheduledRunMs: 130_000 }).scheduler!.lines[0]!.quantity,
    ).toBe(5 * 43_200 + 2 * 1_440);
    // The example (keeper process by default) has no heartbeat Lambda to pay for.
    expect(estimateCost(example).usage.heartbeatInvocations).toBe(0);
  });

  it('matches a hand-computed small deployment', () => {
    const e = estimateShape(small);
    const c = byId(small);
    expect(MINUTES_PER_MONTH).toBe(43_200);
    // Prober: 3 × 43,200 invocations; 2 rounds, billed 30 s + 0.6 s at 128 MB (0.125 GB).
    expect(e.usage.proberInvocations).toBe(129_600);
    expect(e.usage.proberRoundsPerInvocation).toBe(2);
    expect(e.usage.proberBilledMs).toBe(30_600);
    // 129,600 × 0.2 / 1e6 = 0.02592; 129,600 × 30.6 × 0.125 = 495,720 GB-s × 0.0000133334 = 6.60973...
    expect(c.prober!.lines[1]!.quantity).toBeCloseTo(495_720, 6);
    expect(c.prober!.usd).toBeCloseTo(0.02592 + 495_720 * 0.0000133334, 6);
    // Votes: 129,600 × 2 rounds × 2 targets = 518,400 writes, × 5 replicas = 2,592,000 rWRU = $1.62.
    expect(e.usage.voteWrites).toBe(518_400);
    const writes = c.votes!.lines[0]!;
    expect(writes.quantity).toBe(2_592_000);
    expect(writes.usd).toBeCloseTo(1.62, 10);
    // Replication transfer: 518,400 × 4 other replicas × 600 B = 1.24416 GB × $0.02.
    expect(c.votes!.lines[2]!.usd).toBeCloseTo(1.24416 * 0.02, 10);
    // Aggregator: one invocation per batch of a watcher round's 2 votes per control region; 8 read units each (6
    // control items, AGGREGATOR_CONTROL_READS, and 2 vote queries), and no verdict write while the verdict stays
    // the same. The worst case, every record its own batch and a verdict
    // write each time, is priced apart and not in the total.
    expect(e.usage.aggregatorInvocations).toBe(518_400);
    expect(c.aggregator!.lines[2]!.quantity).toBe(8 * 518_400);
    expect(c.aggregator!.lines.map((l) => l.item)).toEqual([
      'invocations',
      'duration',
      'control and vote reads',
    ]);
    // Billed 200 ms each at 256 MB: 518,400 × 0.2 × 0.25 = 25,920 GB-s.
    expect(c.aggregator!.lines[1]!.quantity).toBeCloseTo(25_920, 6);
    const worst = e.worstCase.find((x) => x.id === 'aggregator')!;
    expect(worst.lines[0]!.quantity).toBe(1_036_800);
    expect(worst.lines[3]!.usd).toBeCloseTo(1_036_800 * 0.625e-6, 10);
    expect(worst.usd).toBeCloseTo(2 * c.aggregator!.usd + 1_036_800 * 0.625e-6, 10);
    // Stream reads by the Lambda trigger are free: said once, not a $0.00 row.
    expect(c.stream).toBeUndefined();
    expect(e.free).toContainEqual(expect.stringMatching(/^Votes stream reads: /));
    for (const x of e.components) {
      expect(x.usd).toBeGreaterThan(0);
      for (const l of x.lines) expect(l.usd).toBeGreaterThan(0);
    }
    // Heartbeat: 6 ticks a minute; an arbiter table bills 1 write unit per renewal.
    expect(e.usage.heartbeatTicksPerInvocation).toBe(6);
    expect(c.heartbeat!.lines[2]!.quantity).toBe(6 * 43_200);
    // 2 × 43,200 invocations billed 5 × 10 s + 0.3 s at 128 MB: 86,400 × 50.3 × 0.125 = 543,240 GB-s.
    expect(c.heartbeat!.lines[1]!.quantity).toBeCloseTo(543_240, 6);
    // No steady-state function is traced by default: no tracing row.
    expect(c.tracing).toBeUndefined();
    // Scheduler: 3 probers + 2 heartbeats every minute; alarms 3×2 + 2×3 + 2×11 = 34 metrics.
    expect(c.scheduler!.lines[0]!.quantity).toBe(5 * 43_200 + 2 * 1_440);
    // Readiness: 2 control regions × 1,440 runs, 5 s each at 256 MB = 3,600 GB-s.
    expect(c.readiness!.lines.map((l) => [l.item, l.quantity])).toEqual([
      ['invocations', 2_880],
      ['duration', 3_600],
    ]);
    expect(c.alarms!.usd).toBeCloseTo(3.4, 10);
    expect(c.dashboard!.usd).toBe(3);
    expect(c.secrets!.usd).toBeCloseTo(1.6, 10);
    expect(e.monthlyUsd).toBeCloseTo(
      e.components.reduce((s, x) => s + x.usd, 0),
      10,
    );
  });

  it('bills an MRSC renewal once per full replica', () => {
    const arbiter = byId(small).heartbeat!.lines[2]!;
    const mrsc = byId({ ...small, leaseReplicas: 3 }).heartbeat!.lines[2]!;
    expect(mrsc.quantity).toBe(3 * arbiter.quantity);
  });

  it('samples traces like Lambda: one a second, then 5 %', () => {
    expect(tracedPerSecond(0.5)).toBe(0.5);
    expect(tracedPerSecond(1)).toBe(1);
    expect(tracedPerSecond(21)).toBeCloseTo(2, 10);
  });
});

const shapes = fc
  .record({
    watchers: fc.integer({ min: 3, max: 9 }),
    controlRegions: fc.integer({ min: 2, max: 4 }),
    leaseReplicas: fc.constantFrom(1, 2, 3),
    probeIntervalMs: fc.integer({ min: 2_000, max: 50_000 }),
    responseTimeoutMs: fc.integer({ min: 500, max: 1_900 }),
    renewIntervalMs: fc.integer({ min: 1_000, max: 20_000 }),
    retryTimeoutMs: fc.integer({ min: 200, max: 2_000 }),
  })
  .map((s): DeploymentShape => ({ ...s, votesReplicas: s.watchers + s.controlRegions }));

describe('cost model properties', () => {
  it('more watchers never cost less', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 1, max: 4 }), (s, more) => {
        const bigger = { ...s, watchers: s.watchers + more, votesReplicas: s.votesReplicas + more };
        expect(estimateShape(bigger).monthlyUsd).toBeGreaterThanOrEqual(estimateShape(s).monthlyUsd);
      }),
    );
  });

  it('a shorter probe interval that adds rounds never costs less, but for the prober’s billed time', () => {
    // The prober is billed until its last round ends, and at 128 MB a minute whose last round ends 10 s sooner
    // can save about what the extra round costs downstream (3 watchers, 14.5 s against 27.1 s: $0.0001 less in
    // total). Everything the rounds drive must still cost more, and the prober's duration follows its billed time.
    const proberDuration = (e: ReturnType<typeof estimateShape>) =>
      e.components.find((c) => c.id === 'prober')!.lines[1]!.usd;
    fc.assert(
      fc.property(shapes, fc.integer({ min: 1, max: 40_000 }), (s, longer) => {
        const budget = s.responseTimeoutMs + 1_000;
        const slow = { ...s, probeIntervalMs: s.probeIntervalMs + longer };
        fc.pre(
          loopRounds(DEPLOYED.invocationMs, s.probeIntervalMs, budget) >
            loopRounds(DEPLOYED.invocationMs, slow.probeIntervalMs, budget),
        );
        const [fast, slower] = [estimateShape(s), estimateShape(slow)];
        expect(fast.monthlyUsd - proberDuration(fast)).toBeGreaterThan(
          slower.monthlyUsd - proberDuration(slower),
        );
        expect(proberDuration(fast) / fast.usage.proberBilledMs).toBeCloseTo(
          proberDuration(slower) / slower.usage.proberBilledMs,
          12,
        );
      }),
    );
  });

  it('with the same rounds a minute, only the prober duration differs', () => {
    // 28 s and 30 s both give 2 rounds a minute, and the 28 s prober returns 2 s sooner: a shorter interval can
    // cost a little less, so the property above is about rounds, not raw milliseconds.
    const at = (ms: number) => byId({ ...small, probeIntervalMs: ms });
    const [a, b] = [at(28_000), at(30_000)];
    expect(a.prober!.usd).toBeLessThan(b.prober!.usd);
    for (const id of ['votes', 'aggregator', 'heartbeat', 'scheduler'] as const) {
      expect(a[id]!.usd).toBe(b[id]!.usd);
    }
  });

  it('more vote writes per minute never cost less, whatever the interval', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 1, max: 40_000 }), (s, longer) => {
        const slow = { ...s, probeIntervalMs: s.probeIntervalMs + longer };
        const [fast, slower] = [estimateShape(s), estimateShape(slow)];
        expect(fast.usage.voteWrites).toBeGreaterThanOrEqual(slower.usage.voteWrites);
        const writes = (e: typeof fast) =>
          e.components
            .filter((c) => c.id === 'votes' || c.id === 'aggregator')
            .reduce((x, c) => x + c.usd, 0);
        expect(writes(fast)).toBeGreaterThanOrEqual(writes(slower));
      }),
    );
  });
});

describe('the example configuration', () => {
  it('costs a sane amount a month, and a failover costs cents', () => {
    const e = estimateCost(example);
    expect(e.monthlyUsd).toBeGreaterThan(30);
    expect(e.monthlyUsd).toBeLessThan(250);
    expect(e.shape).toMatchObject({ watchers: 5, controlRegions: 2, votesReplicas: 7, leaseReplicas: 3 });
    expect(e.perFailover.usd).toBeGreaterThan(0);
    expect(e.perFailover.usd).toBeLessThan(0.05);
  });

  it('prices the levers, the current values included', () => {
    const rows = levers(example);
    const probe = rows.filter((r) => r.lever === 'probe.intervalMs');
    expect(probe.map((r) => r.value)).toEqual([5_000, 10_000, 30_000]);
    expect(probe[0]!.monthlyUsd).toBeGreaterThan(probe[1]!.monthlyUsd);
    expect(probe[1]!.monthlyUsd).toBeGreaterThan(probe[2]!.monthlyUsd);
    expect(probe[1]!.monthlyUsd).toBeCloseTo(estimateCost(example).monthlyUsd, 10);
    expect(rows.filter((r) => r.current)).toHaveLength(3);
  });
});

describe('the model follows the deployment', () => {
  it('walks the failover state machine along its happy path', () => {
    const asl = JSON.parse(readFileSync('statemachines/failover.asl.json', 'utf8')) as {
      States: Record<string, { Type: string; Next?: string; Default?: string; Choices?: { Next: string }[] }>;
    };
    const next = (name: string) => {
      const s = asl.States[name]!;
      return [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next)].filter(Boolean);
    };
    for (const [i, name] of FAILOVER_PATH.entries()) {
      expect(asl.States[name], name).toBeDefined();
      const following = FAILOVER_PATH[i + 1];
      if (following) expect(next(name), `${name} → ${following}`).toContain(following);
    }
    expect(asl.States[FAILOVER_PATH.at(-1)!]!.Type).toBe('Succeed');
    const tasks = FAILOVER_PATH.filter((n) => asl.States[n]!.Type === 'Task');
    expect(tasks).toEqual([...FAILOVER_PATH_TASKS]);
    // Each poll is a Wait, a status Task and a Choice that leads back or on.
    for (const [wait, status, choice] of [
      ['WaitStopTraffic', 'StopTrafficStatus', 'StopTrafficInSync'],
      ['WaitPromote', 'PromoteStatus', 'PromoteWritable'],
      ['WaitRouteTraffic', 'RouteTrafficStatus', 'RouteTrafficInSync'],
    ] as const) {
      expect(asl.States[wait]!.Type).toBe('Wait');
      expect(next(wait)).toEqual([status]);
      expect(asl.States[status]!.Type).toBe('Task');
      expect(asl.States[choice]!.Type).toBe('Choice');
    }
    // 25 states on the straight path (the fence's Choice and the two hook loops' Task and Choice included) +
    // three polls of 12 + 30 + 12 transitions.
    expect(failoverCost().stateTransitions).toBe(25 + 3 * (12 + 30 + 12));
  });

  it('uses the memory, architecture and timeout the CDK app deploys', () => {
    const construct = readFileSync('infra/constructs/cutover-function.ts', 'utf8');
    const source = (stack: string) => readFileSync(`infra/stacks/${stack}.ts`, 'utf8');
    const memory = DEPLOYED.memoryMb;
    expect(construct).toContain('memorySize: props.memorySize ?? DEFAULT_MEMORY_MB');
    expect(construct).toContain(`export const DEFAULT_MEMORY_MB = ${memory.aggregator};`);
    expect(construct).toContain(`export const LOOP_MEMORY_MB = ${memory.prober};`);
    expect(memory.heartbeat).toBe(memory.prober);
    expect(memory.step).toBe(memory.aggregator);
    expect(construct).toContain('architecture: lambda.Architecture.ARM_64');
    // The loops take LOOP_MEMORY_MB; the aggregator and steps keep the default, so no size is set there.
    expect(fnBlock(source('watcher-stack'), 'prober')).toMatch(/\bmemorySize: LOOP_MEMORY_MB,/);
    expect(fnBlock(source('application-stack'), 'heartbeat')).toMatch(/\bmemorySize: LOOP_MEMORY_MB,/);
    for (const stack of ['watcher-stack', 'application-stack', 'control-stack']) {
      expect(source(stack).match(/memorySize:/g) ?? []).toHaveLength(stack === 'control-stack' ? 0 : 1);
    }
    expect(source('watcher-stack')).toContain('timeout: Duration.minutes(1)');
    // The scheduled heartbeat renews for lease.scheduledRunMs and its Lambda timeout sits above it.
    expect(source('application-stack')).toContain(
      'timeout: Duration.seconds(Math.ceil((lease.scheduledRunMs + tickBudgetMs) / 1_000))',
    );
    const control = source('control-stack');
    expect(control.match(/new secretsmanager\.Secret\(/g)).toHaveLength(DEPLOYED.secretsPerControlRegion);
    // One readiness evaluation per control stack, at the rate the model prices.
    expect(control.match(/new ReadinessEvaluation\(/g)).toHaveLength(1);
    expect(readFileSync('infra/constructs/readiness.ts', 'utf8')).toContain(
      `export const READINESS_RATE = Duration.minutes(${DEPLOYED.readinessEveryMinutes});`,
    );
  });

  it('traces the functions the CDK app traces', () => {
    const construct = readFileSync('infra/constructs/cutover-function.ts', 'utf8');
    const source = (stack: string) => readFileSync(`infra/stacks/${stack}.ts`, 'utf8');
    // Tracing is on unless a stack passes false; traceEveryFunction is false unless the context flag is set.
    expect(construct).toContain(
      'tracing: props.tracing === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE',
    );
    expect(construct).toMatch(/return flag === true \|\| flag === 'true';/);
    const optIn = /\btracing(: traceEveryFunction\(this\))?,/;
    const blocks = {
      prober: fnBlock(source('watcher-stack'), 'prober'),
      heartbeat: fnBlock(source('application-stack'), 'heartbeat'),
      aggregator: fnBlock(source('control-stack'), 'aggregator'),
      step: fnBlock(source('control-stack'), 'spec.role'),
    };
    for (const [kind, block] of Object.entries(blocks)) {
      const traced = DEPLOYED.traced[kind as keyof typeof blocks];
      if (traced) expect(block, kind).not.toMatch(/\btracing\b/);
      else expect(block, kind).toMatch(optIn);
    }
    for (const stack of ['watcher-stack', 'application-stack']) {
      expect(source(stack)).toContain('const tracing = traceEveryFunction(this);');
    }
    // With no steady-state function traced, the tracing line is zero; a failover is one trace.
    expect(estimateCost(example).components.find((c) => c.id === 'tracing')).toBeUndefined();
    expect(failoverCost().traces).toBe(DEPLOYED.traced.step ? 1 : 0);
  });
});

/** The props of `new CutoverFunction(this, <id>, { … })` in a stack's source, up to the closing `});`. */
function fnBlock(source: string, id: string): string {
  const start = source.indexOf(`new CutoverFunction(this, ${id.includes('.') ? id : `'${id}'`}, {`);
  expect(start, `new CutoverFunction(this, ${id}`).toBeGreaterThanOrEqual(0);
  return source.slice(start, source.indexOf('});', start));
}

const cli = (args: string[]) => {
  try {
    return {
      code: 0,
      out: execFileSync(process.execPath, ['bin/cutover.mjs', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
};

describe('cutover cost', () => {
  it('prints the breakdown, the total, the failover cost and the levers', () => {
    const r = cli(['cost', '--config', 'examples/cutover.example.json']);
    expect(r.code).toBe(0);
    const e = estimateCost(example);
    for (const c of e.components) expect(r.out).toContain(c.title);
    expect(r.out).toContain(`$${e.monthlyUsd.toFixed(2)} a month`);
    expect(r.out).toContain('per failover, not in the total');
    expect(r.out).toMatch(/probe\.intervalMs\s+5 s \$[\d.]+ {3}10 s \$[\d.]+ \(current\) {3}30 s/);
    expect(r.out).toContain('us-east-1 on-demand list prices');
    // The regions without a price in the table are named, never silently priced at us-east-1.
    expect(r.out).toMatch(
      /^NOT PRICED: no cited price for us-west-2, eu-west-1, .*eu-central-1 except Lambda duration/m,
    );
    // Quantities that add up: quantity × unit price = line, and plurals that agree.
    expect(r.out).toMatch(/^ {4}replication transfer: 9\.33 GB × \$0\.02 a GB = \$0\.19$/m);
    expect(r.out).toMatch(/^ {4}secrets: 4 secrets × \$0\.40 a secret = \$1\.60$/m);
    expect(r.out).toMatch(/^ {4}alarm metrics: 38 alarm metrics × \$0\.10 an alarm metric = \$3\.80$/m);
    expect(r.out).not.toMatch(/\$0\.00\b/);
    for (const m of r.out.matchAll(
      /: ([\d,.]+) [^×\n]+ × \$([\d.]+) (?:a|an|per (million|[\d,]+)) [^=\n]+ = \$([\d.]+)$/gm,
    )) {
      const [q, price, per, amount] = [m[1]!, m[2]!, m[3], m[4]!];
      const divisor = per === 'million' ? 1e6 : per ? Number(per.replace(/,/g, '')) : 1;
      const expected = (Number(q.replace(/,/g, '')) * Number(price)) / divisor;
      expect(Number(amount), m[0]).toBeCloseTo(expected, amount.length - amount.indexOf('.') - 2);
    }
    // The worst case of the aggregator stands apart from the steady-state total.
    const total = r.out.indexOf('a month\n');
    expect(r.out.indexOf('worst case, not in the total: Aggregator')).toBeGreaterThan(total);
  });

  it('prints JSON with --json', () => {
    const r = cli(['cost', '--config', 'examples/cutover.example.json', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { monthlyUsd: number; components: unknown[]; levers: unknown[] };
    expect(json.monthlyUsd).toBeCloseTo(estimateCost(example).monthlyUsd, 10);
    expect(json.components).toHaveLength(10);
    expect(json.levers).toHaveLength(9);
  });

  it('refuses an invalid configuration with its errors, and a bad command line', () => {
    const raw = JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
    raw.quorum = 1;
    const file = join(mkdtempSync(join(tmpdir(), 'cutover-cost-')), 'bad.json');
    writeFileSync(file, JSON.stringify(raw));
    const r = cli(['cost', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('INVALID');
    expect(r.out).toContain('quorum: must be a majority of the 5 watchers');
    expect(cli(['cost']).code).toBe(2);
    expect(cli(['cost', '--config', '/no/such/file.json']).code).toBe(1);
  });
});

describe('prices by region', () => {
  it('prices Lambda duration in each region where it differs, and names every region without a price', () => {
    const raw = JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
    raw.watchers = ['eu-west-1', 'af-south-1', 'ca-central-1', 'me-south-1', 'ap-northeast-1'];
    const e = estimateCost(loadConfig(raw));
    const prober = e.components.find((c) => c.id === 'prober')!;
    const total = gbSecondsOf(estimateCost(example), 'prober');
    // The same 5 watchers' duration, split by region: 3 at the base price, af-south-1 and me-south-1 at theirs.
    expect(prober.lines.map((l) => [l.item, l.price.usd])).toEqual([
      ['invocations', 0.2],
      ['duration in eu-west-1, ca-central-1, ap-northeast-1', 0.0000133334],
      ['duration in af-south-1', 0.00001768],
      ['duration in me-south-1', 0.0000165334],
    ]);
    expect(prober.lines.slice(1).reduce((s, l) => s + l.quantity, 0)).toBeCloseTo(total, 6);
    expect(prober.lines[2]!.usd).toBeCloseTo((total / 5) * 0.00001768, 10);
    expect(e.regions.unpriced).toEqual(expect.arrayContaining(['af-south-1', 'me-south-1', 'eu-central-1']));
    expect(e.regions.priced).toEqual(['us-east-1']);
    // One line when every region of a function has the same price.
    expect(estimateCost(example).components.find((c) => c.id === 'prober')!.lines[1]!.item).toBe('duration');
  });
});

const gbSecondsOf = (e: ReturnType<typeof estimateCost>, id: string) =>
  e.components
    .find((c) => c.id === id)!
    .lines.filter((l) => l.item.startsWith('duration'))
    .reduce((s, l) => s + l.quantity, 0);

describe('the traffic layer in the cost', () => {
  const withMode = (mode: 'arc' | 'accelerator' | 'records') => {
    const raw = JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
    withTrafficMode(raw, mode);
    return estimateCost(loadConfig(raw));
  };
  const base = estimateCost(example);

  it('ARC: the cluster by the hour, 720 h × $2.50 = $1,800 a month, on top of the rest', () => {
    const e = withMode('arc');
    const traffic = e.components.find((c) => c.id === 'traffic')!;
    expect(traffic.title).toBe('Route 53 ARC cluster');
    expect(traffic.lines).toEqual([
      {
        item: 'cluster-hours',
        quantity: 720,
        unit: e.prices.arcClusterHour.unit,
        usd: 1_800,
        price: e.prices.arcClusterHour,
      },
    ]);
    expect(e.monthlyUsd).toBeCloseTo(base.monthlyUsd + 1_800, 9);
    expect(e.prices.arcClusterHour.source).toMatch(
      /^https:\/\/aws\.amazon\.com\/application-recovery-controller\/pricing\//,
    );
  });

  it('Global Accelerator: the fixed fee, 720 h × $0.025 = $18; the data transfer premium named, not totalled', () => {
    const e = withMode('accelerator');
    const traffic = e.components.find((c) => c.id === 'traffic')!;
    expect(traffic.usd).toBeCloseTo(18, 9);
    expect(traffic.basis).toContain(
      "not in the total: the data transfer premium on the application's own traffic, $0.015 per GB",
    );
    expect(e.monthlyUsd).toBeCloseTo(base.monthlyUsd + 18, 9);
  });

  it('Route 53 modes add no hourly component (health checks and queries are not modelled)', () => {
    expect(base.components.map((c) => c.id)).not.toContain('traffic');
    expect(withMode('records').components.map((c) => c.id)).not.toContain('traffic');
  });

  it('cutover cost prints the accelerator of the DynamoDB example', () => {
    const r = cli(['cost', '--config', 'examples/cutover.dynamodb.json']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Global Accelerator\s+\$18\.00$/m);
    expect(r.out).toContain('accelerator-hours: 720 accelerator-hours');
  });
});
