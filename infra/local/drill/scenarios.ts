import type { CutoverConfig } from '#core/config.js';
import type { RawConfig } from '../drill-config.js';
import type { TimelineEvent } from '../timeline.js';
import type { DrillContext } from './context.js';
import type { DrillNumbers } from './report.js';

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
  'db-refuses-writes',
  'queue-backlog',
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
  /** Every broken expectation, as a sentence; empty means pass. */
  expect(o: Outcome): string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectEqual(reasons: string[], what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) reasons.push(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

/** Lost writes are allowed only for writes acknowledged within the replication lag before the fault. */
function lostWithinLag(o: Outcome, reasons: string[], slackMs = 300): void {
  if (o.synchronous) {
    noneLost(o, reasons);
    return;
  }
  if (o.faultAt === null) return;
  const window = (o.lagAtFaultMs ?? 0) + slackMs;
  const outside = o.lost.filter((w) => w.at < o.faultAt! - window);
  if (outside.length) {
    reasons.push(
      `${outside.length} lost acknowledged writes were acked more than ${window} ms before the fault (outside the asynchronous lag), e.g. ${outside[0]?.id}`,
    );
  }
}

function noneLost(o: Outcome, reasons: string[]): void {
  expectEqual(reasons, 'lost acknowledged writes', o.numbers.lost_acked_writes, 0);
}

const has = (o: Outcome, type: string) => o.timeline.some((e) => e.type === type);

/** Exactly one failover started and completed, and no write was accepted under a superseded epoch. */
function oneFailover(o: Outcome, reasons: string[]): void {
  expectEqual(reasons, 'failover executions', o.numbers.failover_executions, 1);
  expectEqual(reasons, 'failovers completed', o.numbers.failovers_completed, 1);
  expectEqual(reasons, 'split-brain writes', o.numbers.split_brain_writes, 0);
}

/** Nothing happened: no failover started, nothing lost, no split brain. */
function noFailover(o: Outcome, reasons: string[]): void {
  expectEqual(reasons, 'failover executions', o.numbers.failover_executions, 0);
  expectEqual(reasons, 'split-brain writes', o.numbers.split_brain_writes, 0);
  noneLost(o, reasons);
}

/** Scheduling on a busy machine: the keeper's timer and its health check come on top of the budgets. */
const KEEPER_SLACK_MS = 250;

/**
 * The cut-off primary's keeper says so in time: `Lease Renewal Failed` within one renew interval (the next
 * tick) plus the retry timeout (the renewal through every lease replica, aborted) of the cut.
 */
function keeperReported(o: Outcome, reasons: string[]): void {
  const cut = o.timeline.find((e) => e.type === 'partitioned');
  if (!cut) return;
  const l = o.config.lease;
  const failed = o.timeline.find(
    (e) => e.type === 'lease_renewal_failed' && e.source === `keeper@${cut.region}` && e.at >= cut.at,
  );
  const bound = l.renewIntervalMs + l.retryTimeoutMs + KEEPER_SLACK_MS;
  if (!failed) reasons.push('the partitioned primary’s keeper never published Lease Renewal Failed');
  else if (failed.at - cut.at > bound)
    reasons.push(
      `Lease Renewal Failed came ${failed.at - cut.at} ms after the cut, over renew interval + retry timeout (${bound} ms with slack)`,
    );
}

/** Events from the region's keeper after `since`, other than plain renewals. */
const keeperTrouble = (o: Outcome, region: string, since: number) =>
  o.timeline.filter((e) => e.source === `keeper@${region}` && e.at >= since && e.type !== 'renewed');

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

export const scenarios: Record<ScenarioName, Scenario> = {
  'region-outage': {
    name: 'region-outage',
    summary: "the primary's application and database are killed; exactly one failover",
    async run(ctx) {
      await ctx.killRegion(ctx.primary);
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 5_000);
    },
    expect(o) {
      const r: string[] = [];
      oneFailover(o, r);
      lostWithinLag(o, r);
      if (o.numbers.rto_ms === null) r.push('no write was acknowledged by the new primary');
      return r;
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
    expect(o) {
      const r: string[] = [];
      oneFailover(o, r);
      const grant = o.timeline.filter((e) => e.type === 'lease_granted').at(-1);
      const lastOld = o.acked.filter((a) => a.region !== grant?.region).at(-1);
      if (grant && lastOld && lastOld.at >= grant.at) {
        r.push(
          `the partitioned primary acknowledged a write at ${lastOld.at}, after the new lease at ${grant.at}`,
        );
      }
      if (!has(o, 'local_write_refused'))
        r.push('the partitioned primary never refused a local write by itself');
      keeperReported(o, r);
      return r;
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
      const r: string[] = [];
      noFailover(o, r);
      return r;
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
      const r: string[] = [];
      noFailover(o, r);
      return r;
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
    expect(o) {
      const r: string[] = [];
      if (!has(o, 'approval_requested')) r.push('no approval was requested');
      expectEqual(r, 'failover executions', o.numbers.failover_executions, 1);
      expectEqual(r, 'failovers completed', o.numbers.failovers_completed, o.approve ? 1 : 0);
      expectEqual(r, 'split-brain writes', o.numbers.split_brain_writes, 0);
      if (!o.approve && !has(o, 'failover_aborted')) r.push('the failover did not abort without approval');
      // Nothing was promoted: the writes the stalled replica never got sit on the old primary's disk.
      if (!o.approve) noneLost(o, r);
      return r;
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
    expect(o) {
      const r: string[] = [];
      // The example policy is "ask": a unanimous, sustained timeout is not ambiguous, so it fails over.
      oneFailover(o, r);
      return r;
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
    expect(o) {
      const r: string[] = [];
      expectEqual(r, 'failovers completed', o.numbers.failovers_completed, 1);
      expectEqual(r, 'split-brain writes', o.numbers.split_brain_writes, 0);
      const killed = o.timeline.find((e) => e.type === 'control_region_killed');
      if (!killed) r.push('no control region was killed during the failover');
      // Two executions are started for the one incident: the dead region's, then the survivor's after the takeover.
      const started = o.timeline.filter((e) => e.type === 'execution_started' && e.machine === 'failover');
      const incidents = new Set(started.map((e) => String(e.incidentId)));
      expectEqual(r, 'incidents with a failover execution', incidents.size, 1);
      expectEqual(r, 'failover executions', o.numbers.failover_executions, 2);
      const takeovers = o.timeline.filter((e) => e.type === 'taken-over');
      expectEqual(r, 'takeovers', takeovers.length, 1);
      if (killed && takeovers[0]?.source === `aggregator@${killed.region}`)
        r.push('the dead control region took the incident over');
      const finished = o.timeline.filter((e) => e.type === 'execution_finished' && e.machine === 'failover');
      const dead = finished.filter((e) => killed && e.source === `sfn@${killed.region}`);
      if (dead.length !== 1 || dead[0]?.status !== 'ABORTED')
        r.push(
          `the dead region's execution should end ABORTED, got ${dead.map((e) => e.status).join(', ') || 'none'}`,
        );
      const done = finished.filter((e) => e.status === 'SUCCEEDED');
      if (done.length !== 1 || (killed && done[0]?.source === `sfn@${killed.region}`))
        r.push('exactly one execution, in a surviving region, should succeed');
      // I4 across the takeover: never two executions of the incident past their claim at once, and no Task
      // started by an execution after it ended.
      const overlap = o.timeline.filter((e) => e.type === 'execution_overlap');
      if (overlap.length)
        r.push(`${overlap.length} execution overlaps for one incident, e.g. ${overlap[0]?.why}`);
      lostWithinLag(o, r);
      return r;
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
    expect(o) {
      const r: string[] = [];
      expectEqual(r, 'failovers completed', o.numbers.failovers_completed, 1);
      if (!has(o, 'failback_completed')) r.push('the failback did not complete');
      expectEqual(r, 'split-brain writes', o.numbers.split_brain_writes, 0);
      const window = o.timeline.find((e) => e.type === 'failback_window_open');
      const lostInFailback = window ? o.lost.filter((w) => w.at >= window.at) : [];
      if (lostInFailback.length)
        r.push(`${lostInFailback.length} writes acked during the planned failback were lost`);
      return r;
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
    expect(o) {
      const r: string[] = [];
      expectEqual(r, 'failover executions', o.numbers.failover_executions, 2);
      expectEqual(r, 'failovers completed', o.numbers.failovers_completed, o.approve ? 2 : 1);
      expectEqual(r, 'split-brain writes', o.numbers.split_brain_writes, 0);
      const second = o.timeline.find((e) => e.type === 'second_failure');
      if (!second) {
        r.push('the new primary was never killed');
        return r;
      }
      const after = o.timeline.filter((e) => e.at >= second.at);
      const asked = after.filter((e) => e.type === 'approval_requested');
      if (!asked.some((e) => String(e.reason ?? '').includes('DATA LOSS')))
        r.push('no approval with a data-loss warning was requested after the new primary died');
      if (
        asked.some(
          (e) =>
            String(e.reason ?? '').includes('INSIDE_COOLDOWN') ||
            String(e.reason ?? '').includes('cool-down'),
        )
      )
        r.push(
          'the second failure came inside the cool-down: the question did not come from the stale target',
        );
      if (!o.approve) {
        if (after.some((e) => e.type === 'failover_completed' || e.type === 'promote_requested'))
          r.push('the stale database was promoted without approval');
        // The first failover may lose what was inside the asynchronous lag; nothing the new primary acknowledged.
        lostWithinLag(o, r);
        const byNewPrimary = o.lost.filter((w) => w.region === second.region);
        if (byNewPrimary.length)
          r.push(
            `${byNewPrimary.length} writes acknowledged by the new primary were lost, e.g. ${byNewPrimary[0]?.id}`,
          );
      }
      return r;
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
    expect(o) {
      const r: string[] = [];
      oneFailover(o, r);
      lostWithinLag(o, r);
      if (o.numbers.rto_ms === null) r.push('no write was acknowledged by the new primary');
      const to = o.timeline.find((e) => e.type === 'failover_completed')?.to;
      if (to && !o.timeline.some((e) => e.type === 'health_changed' && e.region === to && e.healthy === true))
        r.push(`the edge's health checkers never saw ${String(to)}, the new holder, healthy`);
      // Static stability: with traffic following the lease, the unplanned path calls no record API at all.
      const mode = o.timeline.find((e) => e.type === 'edge_ready')?.mode;
      const calls = o.timeline.filter((e) => e.type === 'api_call' && e.source === 'route53');
      if (mode !== 'records' && calls.length)
        r.push(
          `the failover called the Route 53 API ${calls.length} times (e.g. ${calls[0]?.action}) in ${String(mode)} mode`,
        );
      const completed = o.timeline.find((e) => e.type === 'failover_completed');
      const served = o.timeline.find(
        (e) => e.type === 'traffic_served' && completed && e.region === completed.to,
      );
      if (!served) r.push('no client request was served by the new primary through the front door');
      return r;
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
      const r: string[] = [];
      noFailover(o, r);
      const paused = o.timeline.find((e) => e.type === 'keeper_paused');
      const resumed = o.timeline.find((e) => e.type === 'keeper_resumed');
      if (!paused || !resumed) {
        r.push('the keeper was never paused and resumed');
        return r;
      }
      const fenced = o.timeline.filter((e) => e.type === 'primary_self_fenced');
      if (fenced.length !== 1) r.push(`expected one Primary Self-Fenced page, got ${fenced.length}`);
      else if (fenced[0]!.at < resumed.at) r.push('Primary Self-Fenced came before the keeper resumed');
      if (
        !o.timeline.some(
          (e) => e.type === 'renewed' && e.source === `keeper@${paused.region}` && e.at > resumed.at,
        )
      )
        r.push('the keeper did not renew after the pause');
      if (!o.acked.some((a) => a.region === paused.region && a.at > resumed.at))
        r.push('writes did not resume on the primary after the pause');
      return r;
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
      const r: string[] = [];
      noFailover(o, r);
      const slowed = o.timeline.find((e) => e.type === 'health_slowed');
      if (!slowed) {
        r.push('the health endpoint was never slowed');
        return r;
      }
      const region = String(slowed.region);
      const trouble = keeperTrouble(o, region, slowed.at);
      const paged = trouble.filter(
        (e) => e.type === 'primary_self_fenced' || e.type === 'lease_renewal_failed',
      );
      if (paged.length) r.push(`the keeper fenced a healthy primary: ${paged.map((e) => e.type).join(', ')}`);
      // A tick that the machine's load pushes past the timeout is a vote any watcher could cast too; what must
      // not happen is two renewals missed in a row, the start of a fence.
      const end = o.timeline.find((e) => e.type === 'scenario_finished')?.at ?? slowed.at;
      const ticks = o.timeline.filter(
        (e) => e.source === `keeper@${region}` && e.at >= slowed.at && e.at <= end,
      );
      for (const [k, e] of ticks.entries()) {
        if (e.type === 'renewed') continue;
        const back = ticks.slice(k + 1).find((n) => n.type === 'renewed')?.at ?? end;
        if (back - e.at >= 2 * o.config.lease.renewIntervalMs)
          r.push(`the keeper did not renew for ${back - e.at} ms from ${e.type} (two renewals missed)`);
      }
      const acks = o.acked.filter((a) => a.region === region && a.at >= slowed.at).map((a) => a.at);
      const gap = Math.max(0, ...acks.slice(1).map((t, k) => t - acks[k]!));
      if (acks.length === 0 || end - acks.at(-1)! > 2_000)
        r.push('the primary did not acknowledge writes to the end');
      if (gap >= 2 * o.config.lease.renewIntervalMs)
        r.push(`the primary stopped acknowledging writes for ${gap} ms under a slow but healthy endpoint`);
      return r;
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
      await ctx.recordDeepHealth(ctx.primary, ctx.config.health?.path ?? '/cutover/health');
      await ctx.waitFor('failover_completed', 40_000);
      await ctx.waitForAckFrom(ctx.standby, 5_000);
    },
    expect(o) {
      const r: string[] = [];
      oneFailover(o, r);
      noneLost(o, r);
      // The decision names the deep check: DEEP_CHECK_FAILED, or an approval whose reason says it (a loaded machine
      // can add an ambiguity, e.g. a standby probe timing out).
      const decided = o.timeline.find((e) => e.type === 'requested');
      const asked = o.timeline.find((e) => e.type === 'approval_requested');
      if (
        decided?.code !== 'DEEP_CHECK_FAILED' &&
        !String(asked?.reason ?? '').includes('deep check db-write failed')
      )
        r.push(`the failover was requested with ${String(decided?.code)}, not for the failed db-write check`);
      const plain = o.timeline.find((e) => e.type === 'deep_health' && e.region === o.config.primary.region);
      if (plain?.httpStatus !== 503)
        r.push(`the primary's health contract answered ${String(plain?.httpStatus)}, not 503`);
      return r;
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
      await ctx.recordDeepHealth(ctx.primary, ctx.config.health?.path ?? '/cutover/health');
      await sleep(ctx.config.debounceMs);
    },
    expect(o) {
      const r: string[] = [];
      noFailover(o, r);
      const seen = o.timeline.find((e) => e.type === 'deep_health' && e.region === o.config.primary.region);
      const queue = (seen?.checks as { name: string; ok: boolean }[] | undefined)?.find(
        (c) => c.name === 'queue',
      );
      if (seen?.httpStatus !== 200 || queue?.ok !== false)
        r.push(
          `the backed-up queue should answer 200 with a failed queue check, got ${JSON.stringify(seen)}`,
        );
      return r;
    },
  },
};
