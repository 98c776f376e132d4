import { fileURLToPath } from 'node:url';
import { HealthCheckTrafficRouter } from '#adapters/http/health-check-traffic-router.js';
import { HttpHealthVerifier } from '#adapters/http/health-verifier.js';
import { HttpHolderCheckReader } from '#adapters/http/holder-check-reader.js';
import { LocalHookActuator } from '#adapters/local/hook-actuator.js';
import { TransientError } from '#core/errors.js';
import type {
  ChangeStatus,
  DatabasePromoter,
  DatabaseStatus,
  LagReading,
  Notifier,
  ReplicationLagReader,
  TrafficChange,
  TrafficRouter,
} from '#core/failover-ports.js';
import type { Lease } from '#core/lease.js';
import { type LeaseResult, type LeaseStore, systemClock } from '#core/ports.js';
import type { StepDeps } from '#steps/core/deps.js';
import { failbackTaskHandlers, failoverTaskHandlers, type TaskHandler } from '#steps/core/task-handlers.js';
import { drillEdgeTimings } from '../drill-config.js';
import { advanceFence } from '../sample-app.js';
import { prepareStateMachine, type RunResult, runStateMachine } from '../sfn-runner.js';
import { SlackStandIn } from '../slack-standin.js';
import type { DrillStack } from './stack.js';

export const FAILOVER_ASL = fileURLToPath(
  new URL('../../../statemachines/failover.asl.json', import.meta.url),
);
export const FAILBACK_ASL = fileURLToPath(
  new URL('../../../statemachines/failback.asl.json', import.meta.url),
);

/**
 * Validates both machines for every control region, as creating them in AWS does, so that a local StartExecution
 * does not pay for it. CPU-bound (about 1-2 s): call it before anything runs on a clock.
 */
export function prepareMachines(controlRegions: readonly string[]): void {
  for (const region of controlRegions) {
    prepareStateMachine(FAILOVER_ASL, region);
    prepareStateMachine(FAILBACK_ASL, region);
  }
}

/**
 * The failover's traffic steps in the drill, recorded on the timeline. The router is the configured mode's: in
 * health-check mode (the default) the real HealthCheckTrafficRouter reading each region's holder check through the
 * links the world reaches it by, so a dead or cut-off region is unreachable; in records mode the Route 53 API
 * stand-in. Either way the clients' traffic moves only as the front door's edge (checkers, records, resolvers) moves it.
 */
export class RecordedTraffic implements TrafficRouter {
  constructor(
    private readonly stack: DrillStack,
    private readonly router: TrafficRouter,
  ) {}
  async stopTraffic(region: string): Promise<TrafficChange> {
    const change = await this.router.stopTraffic(region);
    this.stack.timeline.record('traffic', 'traffic_stopped', { region, changeId: change.changeId });
    return change;
  }
  async routeTo(region: string, weightPercent: number): Promise<TrafficChange> {
    const change = await this.router.routeTo(region, weightPercent);
    this.stack.timeline.record('traffic', 'traffic_routed', {
      region,
      weightPercent,
      changeId: change.changeId,
    });
    return change;
  }
  async changeStatus(changeId: string): Promise<ChangeStatus> {
    const status = await this.router.changeStatus(changeId);
    if (status === 'INSYNC') this.stack.timeline.record('traffic', 'traffic_in_sync', { changeId });
    return status;
  }
}

/** The configured traffic mode's router for the drill (accelerator and arc are steered by health, as health-check). */
export function drillTrafficRouter(stack: DrillStack): TrafficRouter {
  const edge = drillEdgeTimings(stack.config, stack.timeScale);
  if (edge.mode === 'records') return stack.route53;
  const { primary, standby } = stack.config;
  return new HealthCheckTrafficRouter(new HttpHolderCheckReader(stack.holderCheckUrls(), edge.timeoutMs), [
    primary.region,
    standby.region,
  ]);
}

/** pg_promote() on the region's real PostgreSQL; status is whether a write with an xid commits there. */
export class PostgresPromoter implements DatabasePromoter {
  private readonly pending = new Map<string, Promise<unknown>>();
  constructor(private readonly stack: DrillStack) {}
  async promote(region: string): Promise<{ detail: string }> {
    this.refuseIfDown(region, 'PromoteReadReplica');
    const db = this.stack.region(region).db;
    this.stack.stopLagSampler();
    this.stack.timeline.record(`db@${region}`, 'promote_requested', {});
    const p = db.promote(15_000).then(
      (r) => this.stack.timeline.record(`db@${region}`, 'promoted', { ms: r.ms }),
      (err) => this.stack.timeline.record(`db@${region}`, 'promote_failed', { error: String(err) }),
    );
    this.pending.set(region, p);
    return { detail: `pg_promote() requested on ${region}` };
  }
  async status(region: string): Promise<DatabaseStatus> {
    this.refuseIfDown(region, 'DescribeDBInstances');
    const db = this.stack.region(region).db;
    // Long-poll the local promotion (bounded) instead of polling it: pg_promote() takes ~0.1 s, a poll round more.
    const pending = this.pending.get(region);
    if (pending) await Promise.race([pending, new Promise((r) => setTimeout(r, 1_000))]);
    const writable = await db.isWritable(1_000).catch(() => false);
    return {
      writable,
      detail: writable ? 'out of recovery, accepts writes' : 'still in recovery or not answering',
    };
  }

  /** The region's database API is down (control-plane-outage): refused as RDS refuses, a 503 that is worth a retry. */
  private refuseIfDown(region: string, action: string): void {
    if (!this.stack.databaseApiRefused(region)) return;
    this.stack.timeline.record(`db@${region}`, 'api_refused', { action });
    throw new TransientError(
      `could not ${action} in ${region}: ServiceUnavailable: the RDS API in ${region} is unavailable`,
    );
  }
}

/**
 * The replica's lag as the drill's sampler measures it when asked, with the time of the reading (see
 * LagSampler.fresh): a direct reading, as a self-managed database's replay position is read, where AWS's
 * CloudWatch metrics come once a period (`cutover rto` models that). Only the database the sampler follows has a
 * reading; any other region's lag is unknown.
 */
export class SampledLag implements ReplicationLagReader {
  constructor(private readonly stack: DrillStack) {}
  async read(region: string): Promise<LagReading> {
    if (region !== this.stack.sampledReplica()) return { lagMs: null, at: null };
    return this.stack.freshReplicationLag();
  }
}

export class TimelineNotifier implements Notifier {
  constructor(private readonly stack: DrillStack) {}
  async notify(message: string, detail: Record<string, unknown>): Promise<void> {
    this.stack.timeline.record('notifier', 'notified', { message, incidentId: detail.incidentId });
  }
}

/** The stack's lease store; a grant also raises the new primary database's fence, so an older epoch can never write there. */
export class FencingLeaseStore implements LeaseStore {
  constructor(private readonly stack: DrillStack) {}
  read(application: string): Promise<Lease | null> {
    return this.stack.leases.read(application);
  }
  acquire(application: string, region: string, expectedEpoch: number | null): Promise<LeaseResult> {
    return this.stack.leases.acquire(application, region, expectedEpoch);
  }
  renew(application: string, region: string, epoch: number): Promise<LeaseResult> {
    return this.stack.leases.renew(application, region, epoch);
  }
  revoke(application: string, expectedEpoch: number): Promise<LeaseResult> {
    return this.stack.leases.revoke(application, expectedEpoch);
  }
  async grant(application: string, region: string, expectedEpoch: number): Promise<LeaseResult> {
    const result = await this.stack.leases.grant(application, region, expectedEpoch);
    if (result.ok)
      await advanceFence(this.stack.region(region).db.endpoint, result.lease.epoch).catch(() => 0);
    return result;
  }
}

/**
 * The hooks' resources in the drill: every capacity hook's resource idles at 2 in both application regions and moves
 * one unit every 100 ms (a task placed; AWS takes tens of seconds, compressed like everything else); a `lambda`
 * hook's function answers at once. Every call that reaches a region goes to the timeline.
 */
export const DRILL_HOOK_IDLE = 2;
export const DRILL_HOOK_UNIT_MS = 100;

function drillHooks(stack: DrillStack): LocalHookActuator {
  const actuator = new LocalHookActuator({
    clock: systemClock,
    unitMs: DRILL_HOOK_UNIT_MS,
    functions: {
      purge: async (event) => ({
        purged: true,
        key: (event.cutover as { idempotencyKey?: string })?.idempotencyKey,
      }),
    },
    onCall: (call) => {
      if (call.op !== 'read')
        stack.timeline.record(`hooks@${call.region}`, `hook_${call.op}`, {
          hook: call.hook,
          detail: call.detail,
        });
    },
  });
  const hooks = [...(stack.config.hooks?.beforePromote ?? []), ...(stack.config.hooks?.afterTraffic ?? [])];
  for (const hook of hooks) {
    if (hook.kind === 'lambda') continue;
    for (const region of [stack.config.primary.region, stack.config.standby.region])
      actuator.seed(hook, region, DRILL_HOOK_IDLE);
  }
  return actuator;
}

export function stepDeps(stack: DrillStack, opts: { approve: boolean }): StepDeps {
  return {
    config: stack.config,
    clock: systemClock,
    leases: new FencingLeaseStore(stack),
    control: stack.control,
    votes: stack.votes,
    events: stack.events,
    traffic: new RecordedTraffic(stack, drillTrafficRouter(stack)),
    database: new PostgresPromoter(stack),
    lag: new SampledLag(stack),
    health: new HttpHealthVerifier(stack.config.probe),
    notifier: new TimelineNotifier(stack),
    ...(stack.config.hooks ? { hooks: drillHooks(stack) } : {}),
    // The real approval path: approval store on the control table, Block Kit message, a signed Slack click
    // into the real callback core, and the local task callback resolving the waiting execution.
    approval: new SlackStandIn({
      approvals: stack.approvals,
      control: stack.control,
      approvers: stack.config.approval.slack?.approvers ?? [],
      answer: opts.approve ? 'approve' : 'reject',
      answerAfterMs: 300,
      onEvent: (type, detail) => {
        if (type === 'slack_message' || type.startsWith('approval_') || type === 'slack_click') {
          stack.timeline.record('slack', type, {
            incidentId: detail.incidentId,
            kind: detail.kind,
            by: detail.by,
            status: detail.status,
            reason: typeof detail.reason === 'string' ? detail.reason : undefined,
            text: typeof detail.text === 'string' ? detail.text.slice(0, 120) : undefined,
          });
        }
      },
    }),
    log: () => {},
  };
}

interface ExecutionRun {
  incidentId: string | null;
  region: string;
  /** Claimed its incident (requested → running, bound to it). */
  pastClaim: boolean;
  settled: boolean;
  stop: AbortController;
}

export interface Execution {
  machine: 'failover' | 'failback';
  region: string;
  incidentId: string | null;
  result: Promise<RunResult>;
}

/**
 * The local EventBridge rule: `Failover Requested` on a control region's bus starts that region's failover
 * machine with the event's detail as input. Executions run the real ASL with the real step code.
 */
export class LocalControl {
  readonly executions: Execution[] = [];
  private readonly runs: ExecutionRun[] = [];
  private readonly deadRegions = new Set<string>();
  readonly deps: StepDeps;

  constructor(
    private readonly stack: DrillStack,
    opts: { approve: boolean },
  ) {
    this.deps = stepDeps(stack, opts);
    stack.events.subscribe((event) => {
      const completed =
        event.detailType === 'Failover Completed' || event.detailType === 'Failback Completed';
      if (!completed)
        stack.timeline.record('eventbus', event.detailType.toLowerCase().replaceAll(' ', '_'), {
          incidentId: event.detail.incidentId,
          code: event.detail.code ?? event.detail.verdictCode,
          // The report's detection phase starts and ends at the request's own instants (drill/report.ts).
          detectedAt: event.detail.detectedAt,
          requestedAt: event.detail.requestedAt,
          unhealthySince: unhealthySince(event.detail.evidence),
        });
      if (completed) {
        stack.timeline.record(
          'sfn',
          event.detailType === 'Failover Completed' ? 'failover_completed' : 'failback_completed',
          {
            incidentId: event.detail.incidentId,
            from: event.detail.from,
            to: event.detail.to,
            epoch: event.detail.epoch,
            timings: event.detail.timings,
            // The hook phases, timed like every step (their span covers every reading).
            hooks: ((event.detail.steps ?? []) as { name: string; durationMs: number; outcome: string }[])
              .filter((st) => st.name.startsWith('hooks-') && st.outcome !== 'none')
              .map(({ name, durationMs, outcome }) => ({ name, durationMs, outcome })),
          },
        );
      }
      if (event.detailType === 'Failover Requested') {
        const region = String(event.detail.requestedBy ?? stack.config.controlRegions[0]);
        if (this.deadRegions.has(region)) return;
        this.start('failover', region, event.detail);
      }
    });
  }

  start(machine: 'failover' | 'failback', region: string, input: Record<string, unknown>): Execution {
    const incidentId = typeof input.incidentId === 'string' ? input.incidentId : null;
    this.stack.timeline.record(`sfn@${region}`, 'execution_started', { machine, incidentId });
    const stop = new AbortController();
    const run: ExecutionRun = { incidentId, region, pastClaim: false, settled: false, stop };
    this.runs.push(run);
    const handlers = this.watched(
      run,
      machine === 'failover' ? failoverTaskHandlers(this.deps) : failbackTaskHandlers(this.deps),
    );
    const result = runStateMachine(machine === 'failover' ? FAILOVER_ASL : FAILBACK_ASL, input, handlers, {
      region,
      // Poll loops (stop-traffic, promote, route, verify) wait real seconds on AWS; locally 50 ms is enough.
      retryIntervalMs: 100,
      waitMs: 50,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'StateEntered') {
          // Poll loops repeat their Wait and Choice states; the timeline keeps the Tasks.
          if (e.state.type === 'Task')
            this.stack.timeline.record(`sfn@${region}`, 'state', { machine, state: e.state.name });
          const kill = this.killOnState;
          if (kill && e.state.name === kill.state && !this.deadRegions.has(region)) {
            // Once: the execution that takes over enters the same state in the surviving region.
            this.killOnState = undefined;
            kill.kill(region);
            this.killRegion(region);
          }
        }
      },
    }).then((r) => {
      run.settled = true;
      this.stack.timeline.record(`sfn@${region}`, 'execution_finished', {
        machine,
        incidentId,
        status: r.status,
        error: r.error?.Error,
        cause: r.error?.Cause?.slice(0, 300),
      });
      return r;
    });
    const execution = { machine, region, incidentId, result };
    this.executions.push(execution);
    return execution;
  }

  /**
   * The control region dies: its Step Functions stop (every execution it runs is aborted; a Task already in
   * flight finishes or not, and its result goes nowhere) and no new execution starts there.
   */
  killRegion(region: string): void {
    this.deadRegions.add(region);
    for (const run of this.runs) {
      if (run.region === region && !run.settled) run.stop.abort();
    }
  }

  private killOnState: { state: string; kill: (region: string) => void } | undefined;

  /** Kills the control region that runs a failover when it enters `state` (control-region-outage). */
  killRegionOnState(state: string, kill: (region: string) => void): void {
    this.killOnState = { state, kill };
  }

  /**
   * The drill's check of I4 across a takeover: an execution is past its claim from a successful claim until
   * it ends. A Task started by an execution while another one of the same incident is past its claim, or by
   * an execution that has ended (aborted with its region), is an `execution_overlap` on the timeline.
   */
  private watched(run: ExecutionRun, handlers: Record<string, TaskHandler>): Record<string, TaskHandler> {
    const out: Record<string, TaskHandler> = {};
    for (const [key, handler] of Object.entries(handlers)) {
      out[key] = async (input) => {
        const claiming = key === 'ClaimIncidentFunctionArn' || key === 'StartFailbackFunctionArn';
        if (!claiming) this.checkOverlap(run, key);
        const res = await handler(input);
        const claimed =
          key === 'ClaimIncidentFunctionArn'
            ? res?.claimed === true
            : key === 'StartFailbackFunctionArn' && res?.start?.claimed === true;
        if (claimed) {
          run.pastClaim = true;
          this.checkOverlap(run, key);
        }
        return res;
      };
    }
    return out;
  }

  private checkOverlap(run: ExecutionRun, task: string): void {
    if (!run.incidentId) return;
    if (run.settled) {
      this.stack.timeline.record(`sfn@${run.region}`, 'execution_overlap', {
        incidentId: run.incidentId,
        task,
        why: 'an execution that had ended started a Task',
      });
      return;
    }
    if (!run.pastClaim) return;
    const others = this.runs.filter(
      (o) => o !== run && o.incidentId === run.incidentId && o.pastClaim && !o.settled,
    );
    if (others.length) {
      this.stack.timeline.record(`sfn@${run.region}`, 'execution_overlap', {
        incidentId: run.incidentId,
        task,
        why: `past its claim while ${others.length} other execution(s) of the incident were (${others.map((o) => o.region).join(', ')})`,
      });
    }
  }

  async settle(): Promise<RunResult[]> {
    return Promise.all(this.executions.map((e) => e.result));
  }
}

/** When each watcher in a request's evidence began to see the target unhealthy (report.html's watchers lanes). */
function unhealthySince(evidence: unknown): Record<string, number> | undefined {
  const fresh = (evidence as { fresh?: unknown } | undefined)?.fresh;
  if (!Array.isArray(fresh)) return undefined;
  const out: Record<string, number> = {};
  for (const v of fresh as { voter?: unknown; healthy?: unknown; since?: unknown }[])
    if (v.healthy === false && typeof v.voter === 'string' && typeof v.since === 'number')
      out[v.voter] = v.since;
  return Object.keys(out).length ? out : undefined;
}
