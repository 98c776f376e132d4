import type { CutoverConfig } from '#core/config.js';
import type { RawConfig } from '../drill-config.js';
import type { TimelineEvent } from '../timeline.js';
import type { DrillContext } from './context.js';
import {
  type Check,
  type DrillNumbers,
  hooksMs,
  type LossCause,
  type LostGroup,
  relativeTime,
} from './report.js';

export const SCENARIOS = [
  'region-outage',
  'partition',
  'flap',
  'voter-outage',
  'lagging-replica',
  'gray-failure',
  'control-region-outage',
  'failback',
  'double-failover',
  'heartbeat-gap',
  'slow-health',
  'control-plane-outage',
  'warm-standby',
  'db-refuses-writes',
  'queue-backlog',
  'gameday',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Outcome {
  numbers: DrillNumbers;
  /** The validated configuration the drill ran with. */
  config: CutoverConfig;
  timeline: readonly TimelineEvent[];
  approve: boolean;
  /** Synchronous replication: an acknowledged write is on the standby, so none may be lost. */
  synchronous: boolean;
  /** Lag of the standby when the fault hit, ms, as the drill measured it. */
  lagAtFaultMs: number | null;
  faultAt: number | null;
  /** Acked writes as the clients saw them, for per-scenario checks. */
  acked: readonly { id: string; region: string; epoch: number; at: number }[];
  lost: readonly { id: string; region: string; epoch: number; at: number }[];
  /** The lost writes grouped by cause, each allowed or not by the scenario's `allowsLoss`. */
  lostGroups: readonly LostGroup[];
}

export interface Scenario {
  name: ScenarioName;
  summary: string;
  /** Configuration changes on top of the compressed drill configuration. */
  configure?: (raw: RawConfig) => void;
  synchronous?: boolean;
  /** Clock offsets of the application regions (see StackOptions.skewMs), from the validated configuration. */
  skew?: (config: CutoverConfig) => Record<string, number>;
  /** Injects the fault(s) and waits until the scenario has played out. */
  run(ctx: DrillContext): Promise<void>;
  /**
   * The causes of lost acknowledged writes this scenario allows (report.ts attributeLost); none by default.
   * The replication lag before the fault counts only with asynchronous replication.
   */
  allowsLoss?: readonly LossCause[];
  /** Every expectation checked, held or broken; the scenario passes when all hold. */
  expect(o: Outcome): Check[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes a scenario may lose when the standby's replication is asynchronous: those inside the lag at the fault,
 * and those a killed primary committed in the moments it took to die.
 */
const LAG: readonly LossCause[] = ['replication-lag', 'dying-primary'];

/** The checks of one scenario, in the order it made them. */
class Checks {
  readonly list: Check[] = [];

  /** `what` must equal `expected`. */
  equal(what: string, actual: unknown, expected: unknown): this {
    const ok = actual === expected;
    return this.that(what, ok, String(actual), `expected ${String(expected)}, got ${String(actual)}`);
  }

  /** A named expectation; `seen` says what the drill saw when it held, `broken` when it did not. */
  that(name: string, ok: boolean, seen: string, broken: string = seen): this {
    this.list.push({ name, ok, detail: ok ? seen : broken });
    return this;
  }
}

/**
 * Lost acknowledged writes, each group with its cause (report.ts attributeLost): only the causes the scenario
 * allows (`allowsLoss`; the replication lag before the fault only with asynchronous replication).
 */
function lossCheck(o: Outcome, c: Checks): void {
  const n = o.numbers.lost_acked_writes;
  c.that(
    'lost acknowledged writes',
    o.lostGroups.every((g) => g.allowed),
    n === 0 ? '0' : `${n}: ${o.lostGroups.map((g) => g.sentence).join('; ')}`,
  );
}

function noneLost(o: Outcome, c: Checks): void {
  const n = o.numbers.lost_acked_writes;
  c.that(
    'lost acknowledged writes',
    n === 0,
    '0',
    `expected 0, got ${n}: ${o.lostGroups.map((g) => g.sentence).join('; ')}`,
  );
}

const has = (o: Outcome, type: string) => o.timeline.some((e) => e.type === type);
const at = (o: Outcome, ms: number) => relativeTime(ms, o.faultAt);

/** Exactly one failover started and completed, and no write was accepted under a superseded epoch. */
function oneFailover(o: Outcome, c: Checks): void {
  c.equal('failover executions', o.numbers.failover_executions, 1);
  c.equal('failovers completed', o.numbers.failovers_completed, 1);
  c.equal('split-brain writes', o.numbers.split_brain_writes, 0);
}

/** Nothing happened: no failover started, nothing lost, no split brain. */
function noFailover(o: Outcome, c: Checks): void {
  c.equal('failover executions', o.numbers.failover_executions, 0);
  c.equal('split-brain writes', o.numbers.split_brain_writes, 0);
  noneLost(o, c);
}

function newPrimaryAcked(o: Outcome, c: Checks): void {
  c.that(
    'the new primary acknowledged a write',
    o.numbers.rto_ms !== null,
    `RTO ${o.numbers.rto_ms} ms`,
    'no write was acknowledged by the new primary',
  );
}

/** Scheduling on a busy machine: the keeper's timer and its health check come on top of the budgets. */
const KEEPER_SLACK_MS = 250;

/**
 * The cut-off primary's keeper says so in time: `Lease Renewal Failed` within one renew interval (the next
 * tick) plus the retry timeout (the renewal through every lease replica, aborted) of the cut.
 */
function keeperReported(o: Outcome, c: Checks): void {
  const cut = o.timeline.find((e) => e.type === 'partitioned');
  if (!cut) return;
  const l = o.config.lease;
  const failed = o.timeline.find(
    (e) => e.type === 'lease_renewal_failed' && e.source === `keeper@${cut.region}` && e.at >= cut.at,
  );
  const bound = l.renewIntervalMs + l.retryTimeoutMs + KEEPER_SLACK_MS;
  const name = `the partitioned primary’s keeper published Lease Renewal Failed within ${bound} ms of the cut`;
  if (!failed) c.that(name, false, '', 'it never did');
  else
    c.that(
      name,
      failed.at - cut.at <= bound,
      `${failed.at - cut.at} ms`,
      `${failed.at - cut.at} ms, over renew interval + retry timeout (${bound} ms with slack)`,
    );
}

/** Events from the region's keeper after `since`, other than plain renewals. */
const keeperTrouble = (o: Outcome, region: string, since: number) =>
  o.timeline.filter((e) => e.source === `keeper@${region}` && e.at >= since && e.type !== 'renewed');

/**
 * The decision names the failed deep check: DEEP_CHECK_FAILED, or an approval whose reason says it (a loaded machine
 * can add an ambiguity, e.g. a standby probe timing out).
 */
function requestedForDeepCheck(o: Outcome, c: Checks, check: string): void {
  const decided = o.timeline.find((e) => e.type === 'requested');
  const asked = o.timeline.find((e) => e.type === 'approval_requested');
  c.that(
    `the failover was requested for the failed ${check} check`,
    decided?.code === 'DEEP_CHECK_FAILED' ||
      String(asked?.reason ?? '').includes(`deep check ${check} failed`),
    String(decided?.code ?? asked?.reason),
    `requested with ${String(decided?.code)}, not for the failed ${check} check`,
  );
}

/** The game day's health check (docs/gameday.md): fails while a live marker names the region. */
function withGamedayCheck(raw: RawConfig): void {
  raw.health = { checks: [{ name: 'gameday', kind: 'gameday', weight: 'unhealthy', timeoutMs: 250 }] };
}

/**
 * The health contract of the drill's sample app (issue 15, docs/health.md): a test-row write through its pg pool that
 * makes the region unhealthy, and its queue's backlog that only warns (1 s: the local queue drains every 100 ms).
 */
function withHealthContract(raw: RawConfig): void {
  raw.health = {
    checks: [
      { name: 'db-write', kind: 'write', weight: 'unhealthy', timeoutMs: 250 },
      { name: 'queue', kind: 'queue-backlog', weight: 'warn', timeoutMs: 100, maxAgeSeconds: 1 },
    ],
  };
}

/** The primary region dies; the drill waits for the failover and the new primary's first acknowledged write. */
async function killPrimary(ctx: DrillContext): Promise<void> {
  await ctx.killRegion(ctx.primary);
  await ctx.waitFor('failover_completed', 40_000);
  await ctx.waitForAckFrom(ctx.standby, 5_000);
}

export const scenarios: Record<ScenarioName, Scenario> = {
  // Issue 15: the standby runs 2 tasks and must run 6 before it is promoted; a cache purge after the traffic moved.
  'warm-standby': {
    name: 'warm-standby',
    summary: 'region-outage with a warm standby: a beforePromote hook scales it from 2 to 6 tasks and waits',
    configure(raw) {
      raw.hooks = {
        beforePromote: [
          {
            kind: 'ecs',
            name: 'scale-standby',
            region: 'target',
            timeoutMs: 60_000,
            onFailure: 'continue',
            cluster: 'orders',
            service: 'web',
            desiredCount: 6,
          },
        ],
        afterTraffic: [
          {
            kind: 'lambda',
            name: 'purge-cache',
            region: 'target',
            timeoutMs: 5_000,
            onFailure: 'continue',
            function: 'purge',
          },
        ],
      };
    },
    run: killPrimary,
    allowsLoss: LAG,
    expect(o) {
      const c = new Checks();
      oneFailover(o, c);
      lossCheck(o, c);
      const standby = o.config.standby.region;
      const scaled = o.timeline.filter((e) => e.type === 'hook_apply' && e.source === `hooks@${standby}`);
      c.equal('times the standby was scaled', scaled.length, 1);
      const promoted = o.timeline.find((e) => e.type === 'lease_granted' && e.region === standby);
      c.that(
        'the standby was scaled before it was granted the lease',
        !!scaled[0] && !!promoted && scaled[0].at <= promoted.at,
        scaled[0] && promoted
          ? `scaled at ${at(o, scaled[0].at)}, granted at ${at(o, promoted.at)}`
          : 'not both seen',
      );
      c.that('the afterTraffic hook ran', has(o, 'hook_invoke'), 'invoked', 'it never ran');
      const before = hooksMs(o.timeline).hooks_ms;
      // 4 tasks to place, one every 100 ms: the phase cannot be shorter.
      c.that(
        'the beforePromote phase lasted at least the 400 ms the scale-up needs',
        before !== undefined && before >= 400,
        `${before ?? 'no'} ms`,
      );
      newPrimaryAcked(o, c);
      return c.list;
    },
  },
  'region-outage': {
    name: 'region-outage',
    summary: "the primary's application and database are killed; exactly one failover",
    run: killPrimary,
    allowsLoss: LAG,
    expect(o) {
      const c = new Checks();
      oneFailover(o, c);
      lossCheck(o, c);
      newPrimaryAcked(o, c);
      return c.list;
    },
  },

  partition: {
    name: 'partition',
    summary:
      'the primary is cut off from the watchers, the control plane and its replica but keeps serving local clients; it must stop writing by itself when its lease runs out',
    // A partition cuts replication too: the writes the old primary acknowledged under its still-valid lease
    // never reach the standby. That loss is bounded by the lease, so the RPO budget here is set above it.
    configure: (raw) => {
      raw.rpoBudgetMs = 10_000;
    },
    // The worst allowed skew for split brain: the cut-off primary's clock runs maxSkew behind the control
    // plane's, so it believes in its lease as long as the configuration permits.
    skew: (config) => ({ [config.primary.region]: -config.lease.maxSkewMs }),
    async run(ctx) {
      ctx.startLocalClients(ctx.primary);
      await sleep(500);
      ctx.partition(ctx.primary);
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 5_000);
      await sleep(1_000);
    },
    // Writes the cut-off primary acknowledged under its still-valid lease never reach the standby.
    allowsLoss: [...LAG, 'isolated-primary'],
    expect(o) {
      const c = new Checks();
      oneFailover(o, c);
      const grant = o.timeline.filter((e) => e.type === 'lease_granted').at(-1);
      const lastOld = o.acked.filter((a) => a.region !== grant?.region).at(-1);
      c.that(
        'the partitioned primary stopped acknowledging before the new lease',
        !(grant && lastOld && lastOld.at >= grant.at),
        grant && lastOld
          ? `last at ${at(o, lastOld.at)}, the new lease at ${at(o, grant.at)}`
          : 'no new lease or no write',
        `it acknowledged a write at ${at(o, lastOld?.at ?? 0)}, after the new lease at ${at(o, grant?.at ?? 0)}`,
      );
      const refused = o.timeline.find((e) => e.type === 'local_write_refused');
      c.that(
        'the partitioned primary refused local writes by itself',
        refused !== undefined,
        `first at ${at(o, refused?.at ?? 0)}`,
        'it never refused one',
      );
      keeperReported(o, c);
      lossCheck(o, c);
      return c.list;
    },
  },

  flap: {
    name: 'flap',
    summary: 'the primary goes down and up faster than the debounce window; no failover',
    async run(ctx) {
      const down = Math.floor(ctx.config.debounceMs * 0.4);
      for (let i = 0; i < 3; i++) {
        ctx.cutWatchersFrom(ctx.primary, 'reset');
        ctx.timeline.record('fault', 'flap_down', { region: ctx.primary, ms: down });
        await sleep(down);
        ctx.healWatchersFrom(ctx.primary);
        ctx.timeline.record('fault', 'flap_up', { region: ctx.primary });
        await sleep(ctx.config.debounceMs * 0.8);
      }
      await sleep(ctx.config.debounceMs * 1.5);
    },
    expect(o) {
      const c = new Checks();
      noFailover(o, c);
      return c.list;
    },
  },

  'voter-outage': {
    name: 'voter-outage',
    summary: '2 of 5 watchers die; no failover',
    async run(ctx) {
      const dead = ctx.config.watchers.slice(0, 2);
      for (const w of dead) await ctx.killWatcher(w);
      await sleep(ctx.config.debounceMs * 3);
    },
    expect(o) {
      const c = new Checks();
      noFailover(o, c);
      return c.list;
    },
  },

  'lagging-replica': {
    name: 'lagging-replica',
    summary:
      'replication lag above the RPO budget when the primary dies; approval is requested; aborts without --approve, fails over with it',
    async run(ctx) {
      ctx.stallReplication();
      await sleep(ctx.config.rpoBudgetMs * 2.5);
      await ctx.killRegion(ctx.primary);
      await ctx.waitFor('execution_finished', 45_000);
      if (ctx.approve) await ctx.waitForAckFrom(ctx.standby, 5_000);
    },
    // With --approve a person accepted the loss of what the stalled replica never got.
    allowsLoss: [...LAG, 'older-than-lag'],
    expect(o) {
      const c = new Checks();
      c.that('approval was requested', has(o, 'approval_requested'), 'yes', 'no approval was requested');
      c.equal('failover executions', o.numbers.failover_executions, 1);
      c.equal('failovers completed', o.numbers.failovers_completed, o.approve ? 1 : 0);
      c.equal('split-brain writes', o.numbers.split_brain_writes, 0);
      if (!o.approve) {
        c.that(
          'without approval the failover aborted',
          has(o, 'failover_aborted'),
          'aborted',
          'it did not abort',
        );
        // Nothing was promoted: the writes the stalled replica never got sit on the old primary's disk.
        noneLost(o, c);
      } else lossCheck(o, c);
      return c.list;
    },
  },

  'gray-failure': {
    name: 'gray-failure',
    summary: 'the primary answers, but slower than the probe timeout; the configured policy decides',
    async run(ctx) {
      ctx.slowRegion(ctx.primary, ctx.config.probe.responseTimeoutMs * 2);
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 5_000);
    },
    allowsLoss: LAG,
    expect(o) {
      const c = new Checks();
      // The example policy is "ask": a unanimous, sustained timeout is not ambiguous, so it fails over.
      oneFailover(o, c);
      return c.list;
    },
  },

  'control-region-outage': {
    name: 'control-region-outage',
    summary:
      'the control region running the failover dies at the fence; a surviving region takes the stalled incident over and completes it; one execution at a time per incident, the dead one never acts again',
    async run(ctx) {
      ctx.killControlRegionWhen('Fence');
      await ctx.killRegion(ctx.primary);
      // The dead region's execution ends (aborted) without completing, which ends a wait: wait on for the
      // execution that takes over.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (await ctx.waitFor('failover_completed', deadline - Date.now())) break;
      }
      await ctx.waitForAckFrom(ctx.standby, 5_000);
    },
    allowsLoss: LAG,
    expect(o) {
      const c = new Checks();
      c.equal('failovers completed', o.numbers.failovers_completed, 1);
      c.equal('split-brain writes', o.numbers.split_brain_writes, 0);
      const killed = o.timeline.find((e) => e.type === 'control_region_killed');
      c.that(
        'a control region was killed during the failover',
        killed !== undefined,
        `${String(killed?.region)} at ${at(o, killed?.at ?? 0)}`,
        'none was',
      );
      // Two executions are started for the one incident: the dead region's, then the survivor's after the takeover.
      const started = o.timeline.filter((e) => e.type === 'execution_started' && e.machine === 'failover');
      const incidents = new Set(started.map((e) => String(e.incidentId)));
      c.equal('incidents with a failover execution', incidents.size, 1);
      c.equal('failover executions', o.numbers.failover_executions, 2);
      const takeovers = o.timeline.filter((e) => e.type === 'taken-over');
      c.equal('takeovers', takeovers.length, 1);
      c.that(
        'a surviving control region took the incident over',
        !(killed && takeovers[0]?.source === `aggregator@${killed.region}`),
        String(takeovers[0]?.source ?? 'none'),
        'the dead control region took the incident over',
      );
      const finished = o.timeline.filter((e) => e.type === 'execution_finished' && e.machine === 'failover');
      const dead = finished.filter((e) => killed && e.source === `sfn@${killed.region}`);
      c.that(
        "the dead region's execution ended ABORTED",
        dead.length === 1 && dead[0]?.status === 'ABORTED',
        'ABORTED',
        `got ${dead.map((e) => e.status).join(', ') || 'none'}`,
      );
      const done = finished.filter((e) => e.status === 'SUCCEEDED');
      c.that(
        'exactly one execution, in a surviving region, succeeded',
        done.length === 1 && !(killed && done[0]?.source === `sfn@${killed.region}`),
        String(done[0]?.source),
        `${done.length} succeeded (${done.map((e) => e.source).join(', ') || 'none'})`,
      );
      // I4 across the takeover: never two executions of the incident past their claim at once, and no Task
      // started by an execution after it ended.
      const overlap = o.timeline.filter((e) => e.type === 'execution_overlap');
      c.that(
        'never two executions of the incident at once',
        overlap.length === 0,
        'none overlapped',
        `${overlap.length} execution overlaps for one incident, e.g. ${String(overlap[0]?.why)}`,
      );
      lossCheck(o, c);
      return c.list;
    },
  },

  failback: {
    name: 'failback',
    summary: 'after a failover, a planned failback with 0 lost writes',
    async run(ctx) {
      await ctx.killRegion(ctx.primary);
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 5_000);
      await ctx.rebuildAsReplica(ctx.primary, ctx.standby);
      await sleep(ctx.config.debounceMs * 1.5);
      ctx.timeline.record('drill', 'failback_window_open', {});
      ctx.startFailback();
      await ctx.waitFor('failback_completed', 45_000);
      await ctx.waitForAckFrom(ctx.primary, 5_000, true);
    },
    allowsLoss: LAG,
    expect(o) {
      const c = new Checks();
      c.equal('failovers completed', o.numbers.failovers_completed, 1);
      c.that('the failback completed', has(o, 'failback_completed'), 'yes', 'it did not complete');
      c.equal('split-brain writes', o.numbers.split_brain_writes, 0);
      const window = o.timeline.find((e) => e.type === 'failback_window_open');
      const lostInFailback = window ? o.lost.filter((w) => w.at >= window.at) : [];
      c.that(
        'no write acknowledged during the planned failback was lost',
        lostInFailback.length === 0,
        '0 lost',
        `${lostInFailback.length} were lost`,
      );
      return c.list;
    },
  },

  'double-failover': {
    name: 'double-failover',
    summary:
      "region-outage; the old primary's region comes back with its standalone database (not rebuilt); later the new primary dies: no automatic promotion of the stale database, approval is asked with a data-loss warning; without approval no acknowledged write is lost",
    // The shortest cool-down the rules allow (10 debounce windows), waited out before the second failure: the
    // question must come from the stale target, not from the cool-down.
    configure: (raw) => {
      raw.cooldownMs = 10 * raw.debounceMs;
    },
    async run(ctx) {
      await ctx.killRegion(ctx.primary);
      await ctx.waitFor('failover_completed', 40_000);
      const completedAt = ctx.timeline.events.find((e) => e.type === 'failover_completed')?.at ?? Date.now();
      await ctx.waitForAckFrom(ctx.standby, 5_000);
      await ctx.restartRegion(ctx.primary);
      // Past the cool-down, and long enough for the watchers to see the old region healthy again.
      await sleep(
        Math.max(completedAt + ctx.config.cooldownMs + 1_000 - Date.now(), ctx.config.debounceMs * 2),
      );
      ctx.timeline.record('drill', 'second_failure', { region: ctx.standby });
      await ctx.killAgain(ctx.standby);
      const second = (e: Record<string, unknown>) => e.machine === 'failover';
      await ctx.waitForCount('execution_finished', 2, 60_000, second);
      if (ctx.approve) await ctx.waitForAckFrom(ctx.primary, 5_000, true);
    },
    allowsLoss: LAG,
    expect(o) {
      const c = new Checks();
      c.equal('failover executions', o.numbers.failover_executions, 2);
      c.equal('failovers completed', o.numbers.failovers_completed, o.approve ? 2 : 1);
      c.equal('split-brain writes', o.numbers.split_brain_writes, 0);
      const second = o.timeline.find((e) => e.type === 'second_failure');
      c.that('the new primary was killed', second !== undefined, `at ${at(o, second?.at ?? 0)}`, 'never');
      if (!second) return c.list;
      const after = o.timeline.filter((e) => e.at >= second.at);
      const asked = after.filter((e) => e.type === 'approval_requested');
      c.that(
        'approval with a data-loss warning was requested after the new primary died',
        asked.some((e) => String(e.reason ?? '').includes('DATA LOSS')),
        'yes',
        'none was',
      );
      c.that(
        'the question came from the stale target, not the cool-down',
        !asked.some(
          (e) =>
            String(e.reason ?? '').includes('INSIDE_COOLDOWN') ||
            String(e.reason ?? '').includes('cool-down'),
        ),
        'yes',
        'the second failure came inside the cool-down',
      );
      if (!o.approve) {
        c.that(
          'the stale database was not promoted without approval',
          !after.some((e) => e.type === 'failover_completed' || e.type === 'promote_requested'),
          'not promoted',
          'it was promoted',
        );
        // The first failover may lose what was inside the asynchronous lag; nothing the new primary acknowledged.
        lossCheck(o, c);
        const byNewPrimary = o.lost.filter((w) => w.region === second.region);
        c.that(
          'no write acknowledged by the new primary was lost',
          byNewPrimary.length === 0,
          '0 lost',
          `${byNewPrimary.length} were lost, e.g. ${byNewPrimary[0]?.id}`,
        );
      }
      return c.list;
    },
  },

  'control-plane-outage': {
    name: 'control-plane-outage',
    summary:
      "the primary region dies while Route 53's API (served from us-east-1 only) and the dead region's database API refuse every call; the failover completes on the data plane alone: the holder checks turn the health checks and resolvers follow",
    async run(ctx) {
      ctx.refuseRoute53('unavailable');
      ctx.refuseDatabaseApi(ctx.primary);
      await ctx.killRegion(ctx.primary);
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 10_000);
      // The edge's checkers see the new holder healthy (a resolver may have answered it earlier: weighted
      // routing answers every record while all are unhealthy).
      await ctx.waitForCount(
        'health_changed',
        1,
        10_000,
        (e) => e.region === ctx.standby && e.healthy === true,
      );
    },
    allowsLoss: LAG,
    expect(o) {
      const c = new Checks();
      oneFailover(o, c);
      lossCheck(o, c);
      newPrimaryAcked(o, c);
      const completed = o.timeline.find((e) => e.type === 'failover_completed');
      const to = completed?.to;
      if (to)
        c.that(
          `the edge's health checkers saw ${String(to)}, the new holder, healthy`,
          o.timeline.some((e) => e.type === 'health_changed' && e.region === to && e.healthy === true),
          'yes',
          'never',
        );
      // Static stability: with traffic following the lease, the unplanned path calls no record API at all.
      const mode = o.timeline.find((e) => e.type === 'edge_ready')?.mode;
      const calls = o.timeline.filter((e) => e.type === 'api_call' && e.source === 'route53');
      c.that(
        'the failover called no Route 53 API',
        mode === 'records' || calls.length === 0,
        mode === 'records' ? `${calls.length} calls (records mode)` : '0 calls',
        `${calls.length} calls (e.g. ${String(calls[0]?.action)}) in ${String(mode)} mode`,
      );
      const served = o.timeline.find(
        (e) => e.type === 'traffic_served' && completed && e.region === completed.to,
      );
      c.that(
        'a client request was served by the new primary through the front door',
        served !== undefined,
        `at ${at(o, served?.at ?? 0)}`,
        'none was',
      );
      return c.list;
    },
  },

  'heartbeat-gap': {
    name: 'heartbeat-gap',
    summary:
      "the primary's process stops renewing its lease for longer than the lease lasts for writes, then carries on: it refuses writes meanwhile and pages Primary Self-Fenced; no failover; writes resume",
    async run(ctx) {
      await sleep(1_000);
      // Past the holder's write deadline (ttl − skew − margin after the last renewal), short of a detection window.
      await ctx.pauseKeeper(ctx.primary, ctx.config.lease.ttlMs + 500);
      await ctx.waitForAckFrom(ctx.primary, 5_000, true);
      await sleep(ctx.config.debounceMs * 1.5);
    },
    expect(o) {
      const c = new Checks();
      noFailover(o, c);
      const paused = o.timeline.find((e) => e.type === 'keeper_paused');
      const resumed = o.timeline.find((e) => e.type === 'keeper_resumed');
      c.that('the keeper was paused and resumed', Boolean(paused && resumed), 'yes', 'never');
      if (!paused || !resumed) return c.list;
      const fenced = o.timeline.filter((e) => e.type === 'primary_self_fenced');
      c.that(
        'one Primary Self-Fenced page, after the keeper resumed',
        fenced.length === 1 && fenced[0]!.at >= resumed.at,
        '1',
        fenced.length === 1 ? 'it came before the keeper resumed' : `got ${fenced.length}`,
      );
      c.that(
        'the keeper renewed after the pause',
        o.timeline.some(
          (e) => e.type === 'renewed' && e.source === `keeper@${paused.region}` && e.at > resumed.at,
        ),
        'yes',
        'it did not',
      );
      c.that(
        'writes resumed on the primary after the pause',
        o.acked.some((a) => a.region === paused.region && a.at > resumed.at),
        'yes',
        'they did not',
      );
      return c.list;
    },
  },

  'slow-health': {
    name: 'slow-health',
    summary:
      "the primary's health endpoint answers just under the watchers' response timeout, which is longer than the lease's retry timeout: every vote stays healthy and the keeper, with the watchers' timeout, keeps renewing; no failover, no fencing",
    // A response timeout above the retry timeout: a keeper that bounded its health check by the retry timeout
    // (as the heartbeat once did) would find the region unhealthy at every tick and fence it, silently.
    configure: (raw) => {
      raw.probe = { intervalMs: 900, connectTimeoutMs: 300, responseTimeoutMs: 800 };
      raw.voteStalenessMs = 1_800;
    },
    async run(ctx) {
      await sleep(500);
      ctx.slowHealth(ctx.primary, ctx.config.probe.responseTimeoutMs - 200);
      await sleep(ctx.config.debounceMs * 3);
    },
    expect(o) {
      const c = new Checks();
      noFailover(o, c);
      const slowed = o.timeline.find((e) => e.type === 'health_slowed');
      c.that('the health endpoint was slowed', slowed !== undefined, 'yes', 'never');
      if (!slowed) return c.list;
      const region = String(slowed.region);
      const trouble = keeperTrouble(o, region, slowed.at);
      const paged = trouble.filter(
        (e) => e.type === 'primary_self_fenced' || e.type === 'lease_renewal_failed',
      );
      c.that(
        'the keeper did not fence a healthy primary',
        paged.length === 0,
        'no page',
        `it paged ${paged.map((e) => e.type).join(', ')}`,
      );
      // A tick that the machine's load pushes past the timeout is a vote any watcher could cast too; what must
      // not happen is two renewals missed in a row, the start of a fence.
      const end = o.timeline.find((e) => e.type === 'scenario_finished')?.at ?? slowed.at;
      const ticks = o.timeline.filter(
        (e) => e.source === `keeper@${region}` && e.at >= slowed.at && e.at <= end,
      );
      const missed: string[] = [];
      for (const [k, e] of ticks.entries()) {
        if (e.type === 'renewed') continue;
        const back = ticks.slice(k + 1).find((n) => n.type === 'renewed')?.at ?? end;
        if (back - e.at >= 2 * o.config.lease.renewIntervalMs)
          missed.push(`no renewal for ${back - e.at} ms from ${e.type} at ${at(o, e.at)}`);
      }
      c.that('the keeper never missed two renewals in a row', missed.length === 0, 'yes', missed.join('; '));
      const acks = o.acked.filter((a) => a.region === region && a.at >= slowed.at).map((a) => a.at);
      const gap = Math.max(0, ...acks.slice(1).map((t, k) => t - acks[k]!));
      c.that(
        'the primary acknowledged writes to the end',
        acks.length > 0 && end - acks.at(-1)! <= 2_000,
        `last ${acks.length ? `${end - acks.at(-1)!} ms before the end` : 'never'}`,
        acks.length ? `the last came ${end - acks.at(-1)!} ms before the end` : 'none after the slow-down',
      );
      c.that(
        'the primary never stopped acknowledging for two renew intervals',
        gap < 2 * o.config.lease.renewIntervalMs,
        `longest gap ${gap} ms`,
        `it stopped for ${gap} ms under a slow but healthy endpoint`,
      );
      return c.list;
    },
  },

  'db-refuses-writes': {
    name: 'db-refuses-writes',
    summary:
      "the primary's database refuses writes while its plain health check still answers 200; the health contract's db-write check (weight unhealthy) fails, and exactly one failover follows (DEEP_CHECK_FAILED)",
    configure: withHealthContract,
    async run(ctx) {
      await sleep(1_000);
      await ctx.refuseWrites(ctx.primary);
      await sleep(300);
      await ctx.recordDeepHealth(ctx.primary);
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 5_000);
    },
    expect(o) {
      const c = new Checks();
      oneFailover(o, c);
      noneLost(o, c);
      requestedForDeepCheck(o, c, 'db-write');
      const plain = o.timeline.find((e) => e.type === 'deep_health' && e.region === o.config.primary.region);
      c.equal("the primary's health contract answered", plain?.httpStatus, 503);
      return c.list;
    },
  },

  'queue-backlog': {
    name: 'queue-backlog',
    summary:
      "the primary's queue backs up; the health contract's queue check (weight warn) fails and is recorded in every vote, and nothing else happens: no failover",
    configure: withHealthContract,
    async run(ctx) {
      await sleep(1_000);
      ctx.backUpQueue(ctx.primary);
      await sleep(ctx.config.debounceMs * 2);
      await ctx.recordDeepHealth(ctx.primary);
      await sleep(ctx.config.debounceMs);
    },
    expect(o) {
      const c = new Checks();
      noFailover(o, c);
      const seen = o.timeline.find((e) => e.type === 'deep_health' && e.region === o.config.primary.region);
      const queue = (seen?.checks as { name: string; ok: boolean }[] | undefined)?.find(
        (k) => k.name === 'queue',
      );
      c.that(
        'the backed-up queue answered 200 with a failed queue check',
        seen?.httpStatus === 200 && queue?.ok === false,
        `status ${String(seen?.httpStatus)}, queue check ok=${String(queue?.ok)}`,
        `got ${JSON.stringify(seen)}`,
      );
      return c.list;
    },
  },
  // Issue 15: `cutover gameday --fault health` rehearsed locally: the marker, the real health contract, the real
  // control plane; the primary stays up, and only its health says otherwise.
  gameday: {
    name: 'gameday',
    summary:
      "a game day's health fault: the game-day marker in the control table makes the primary's health contract fail (its gameday check, weight unhealthy) while the primary stays up; exactly one failover follows, and the marker is removed after it",
    configure: withGamedayCheck,
    async run(ctx) {
      await sleep(1_000);
      const startedAt = await ctx.startGameday(ctx.primary, 60_000);
      await sleep(ctx.config.probe.intervalMs * 2);
      await ctx.recordDeepHealth(ctx.primary);
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 5_000);
      await ctx.endGameday(ctx.primary, startedAt);
      // After the marker is gone the check passes again, within its cache period.
      await sleep(ctx.config.probe.intervalMs * 2);
      await ctx.recordDeepHealth(ctx.primary);
    },
    expect(o) {
      const c = new Checks();
      oneFailover(o, c);
      noneLost(o, c);
      requestedForDeepCheck(o, c, 'gameday');
      const seen = o.timeline.filter((e) => e.type === 'deep_health' && e.region === o.config.primary.region);
      c.equal("the primary's health contract answered while the marker was live", seen[0]?.httpStatus, 503);
      c.equal('and again once the marker was removed', seen[1]?.httpStatus, 200);
      const removed = o.timeline.find((e) => e.type === 'gameday_marker_removed');
      c.equal('the marker was removed', removed?.removed, true);
      return c.list;
    },
  },
};
