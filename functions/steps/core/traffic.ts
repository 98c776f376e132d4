import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '#core/errors.js';
import { LeaseLostError, StepInputError } from '#core/failover-errors.js';
import type { TrafficChange } from '#core/failover-ports.js';
import { nextStep, planRoute } from '#core/route.js';
import { planStopTraffic } from '#core/traffic.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import {
  type IncidentState,
  MAX_ATTEMPTS,
  newPoll,
  type Poll,
  parseIncidentState,
  requireStep,
  stepResult,
  type TaskEvent,
} from './state.js';

/** What the execution keeps of a traffic API call that failed on the unplanned path. */
interface TrafficFailure {
  movedByApi: false;
  error: { name: string; message: string };
}

/**
 * On the unplanned path a traffic API failure (Route 53's API is served from us-east-1 only, the disaster may
 * have taken it) never fails the failover: the lease is granted and the database promoted, and the holder
 * checks still steer. It is reported (`Traffic Change Failed`) and paged, and the run goes on to Verify.
 */
async function reportTrafficFailure(
  deps: StepDeps,
  s: IncidentState,
  step: string,
  region: string,
  weightPercent: number | null,
  err: unknown,
): Promise<TrafficFailure> {
  const e = err instanceof Error ? err : new Error(String(err));
  const error = { name: e.name, message: e.message };
  const detail = {
    incidentId: s.incidentId,
    application: s.application,
    kind: s.kind,
    from: s.from,
    to: s.to,
    step,
    mode: deps.config.traffic?.mode ?? null,
    region,
    weightPercent,
    error: error.name,
    message: error.message,
    movedByApi: false,
    at: deps.clock.now(),
  };
  await deps.events
    .publish('Traffic Change Failed', detail)
    .catch((pe: Error) => deps.log?.('traffic change failure not published', { error: pe.message }));
  await deps.notifier
    .notify(
      `Traffic of ${s.application} NOT moved by API at ${step} (${region}): ${error.name}: ${error.message}. The failover goes on; the health checks steer by the lease.`,
      detail,
    )
    .catch((ne: Error) => deps.log?.('traffic change failure not notified', { error: ne.message }));
  return { movedByApi: false, error };
}

/** Only a failover's traffic calls are best effort; a failback is planned and fails on them as before. */
const bestEffort = (s: IncidentState) => s.kind === 'failover';

/**
 * A failover's traffic call, with a throttled or unavailable API retried twice inside the step: the state
 * machine's Retry would end in ReportFailure, which the unplanned path must not reach over traffic. A failback's
 * call is made once, and the state machine retries it as before.
 */
async function withRetries<T>(s: IncidentState, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      return await call();
    } catch (err) {
      // No new attempt after RETRY_BUDGET_MS: the step must end, reported, inside its Task timeout (60 s).
      const late = Date.now() - started > RETRY_BUDGET_MS;
      if (!bestEffort(s) || !(err instanceof TransientError) || n >= 3 || late) throw err;
      await sleep(250 * 2 ** n);
    }
  }
}

const RETRY_BUDGET_MS = 20_000;

/**
 * Takes the old primary out of rotation where the mode has a way to (the status loop waits for it). In the
 * health-check modes that is nothing: the fence's revoke turns its holder check 503. In mode records the
 * unplanned path changes no record here; the one record change comes after the grant.
 */
export async function stopTraffic(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(deps, owned(ev, s), 'stop-traffic', async () => {
    const plan = planStopTraffic({ kind: s.kind, mode: deps.config.traffic?.mode ?? null, from: s.from });
    if (plan.code === 'DEFER') {
      return {
        outcome: 'deferred',
        decision: plan,
        result: { changeId: null, detail: plan.reason, poll: newPoll(MAX_ATTEMPTS.traffic, true) },
      };
    }
    let change: TrafficChange;
    try {
      change = await withRetries(s, () => deps.traffic.stopTraffic(s.from));
    } catch (err) {
      if (!bestEffort(s)) throw err;
      const failure = await reportTrafficFailure(deps, s, 'stop-traffic', s.from, null, err);
      return {
        outcome: 'not-moved-by-api',
        result: { changeId: null, detail: failure.error.message, ...failure, poll: newPoll(0, true) },
      };
    }
    return {
      outcome: change.changeId ? 'submitted' : 'nothing-to-change',
      decision: plan,
      result: { ...change, poll: newPoll(MAX_ATTEMPTS.traffic, change.changeId === null) },
    };
  });
}

/**
 * One poll of a traffic change; `of` names the step whose change it is (stop or route). A Route 53 change is
 * INSYNC when GetChange says so; a change that follows the lease, when the holder checks show the switch.
 */
export async function trafficStatus(ev: TaskEvent & { of?: string }, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const of = ev.of === 'stop' || ev.of === 'route' ? ev.of : null;
  if (!of)
    throw new StepInputError(`traffic status needs "of": "stop" or "route", got ${JSON.stringify(ev.of)}`);
  const change = requireStep<{ changeId: string | null; poll: Poll }>(ev.state, of);
  return recorded(deps, owned(ev, s), `${of}-traffic-status`, async () => {
    const attempt = change.poll.attempt + 1;
    let status: 'PENDING' | 'INSYNC' | 'UNKNOWN';
    let failure: TrafficFailure | null = null;
    try {
      const id = change.changeId;
      status = id ? await withRetries(s, () => deps.traffic.changeStatus(id)) : 'INSYNC';
    } catch (err) {
      if (!bestEffort(s)) throw err;
      failure = await reportTrafficFailure(deps, s, `${of}-traffic-status`, s.to, null, err);
      status = 'UNKNOWN';
    }
    const done = status !== 'PENDING';
    return {
      outcome: failure ? 'not-moved-by-api' : status.toLowerCase(),
      audit: done || attempt >= change.poll.maxAttempts,
      result: {
        attempt,
        maxAttempts: change.poll.maxAttempts,
        done,
        status,
        changeId: change.changeId,
        ...(failure ?? {}),
      },
    };
  });
}

/**
 * Route traffic to the new primary, in the weighted steps of a failback or all at once for a failover. It
 * re-reads the lease first: traffic never goes to a region that does not hold it.
 */
export async function routeTraffic(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const steps =
    s.kind === 'failback'
      ? ((ev.state.trafficSteps as number[] | undefined) ?? deps.config.traffic?.failbackSteps ?? [100])
      : [100];
  const step = nextStep(steps, stepResult<{ index: number }>(ev.state, 'route')?.index ?? null);
  if (!step) throw new StepInputError(`no traffic step after the last of ${JSON.stringify(steps)}`);
  return recorded(deps, owned(ev, s), 'route-traffic', async () => {
    const lease = await deps.leases.read(s.application);
    const plan = planRoute({ to: s.to, weight: step.weight, lease });
    if (plan.code === 'NOT_HOLDER') throw new LeaseLostError(plan.reason);
    let change: TrafficChange;
    try {
      change = await withRetries(s, () =>
        deps.traffic.routeTo(s.to, step.weight, {
          afterWeightedSteps: s.kind === 'failback' && step.index > 0,
        }),
      );
    } catch (err) {
      if (!bestEffort(s)) throw err;
      const failure = await reportTrafficFailure(deps, s, 'route-traffic', s.to, step.weight, err);
      return {
        outcome: 'not-moved-by-api',
        decision: plan,
        result: {
          ...step,
          changeId: null,
          detail: `traffic not moved by API: ${failure.error.message}`,
          ...failure,
          poll: newPoll(0, true),
        },
      };
    }
    return {
      outcome: `weight-${step.weight}`,
      decision: plan,
      result: { ...step, ...change, poll: newPoll(MAX_ATTEMPTS.traffic, change.changeId === null) },
    };
  });
}
