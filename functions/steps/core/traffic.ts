import { LeaseLostError, StepInputError } from '#core/failover-errors.js';
import { nextStep, planRoute } from '#core/route.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import {
  MAX_ATTEMPTS,
  newPoll,
  type Poll,
  parseIncidentState,
  requireStep,
  stepResult,
  type TaskEvent,
} from './state.js';

/** Takes the old primary out of DNS rotation; the status loop waits for INSYNC (the drain). */
export async function stopTraffic(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(deps, owned(ev, s), 'stop-traffic', async () => {
    const change = await deps.traffic.stopTraffic(s.from);
    return {
      outcome: change.changeId ? 'submitted' : 'nothing-to-change',
      result: { ...change, poll: newPoll(MAX_ATTEMPTS.traffic, change.changeId === null) },
    };
  });
}

/** One poll of a Route 53 change; `of` names the step whose change it is (stop or route). */
export async function trafficStatus(ev: TaskEvent & { of?: string }, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  const of = ev.of === 'stop' || ev.of === 'route' ? ev.of : null;
  if (!of)
    throw new StepInputError(`traffic status needs "of": "stop" or "route", got ${JSON.stringify(ev.of)}`);
  const change = requireStep<{ changeId: string | null; poll: Poll }>(ev.state, of);
  return recorded(deps, owned(ev, s), `${of}-traffic-status`, async () => {
    const attempt = change.poll.attempt + 1;
    const status = change.changeId ? await deps.traffic.changeStatus(change.changeId) : 'INSYNC';
    const done = status === 'INSYNC';
    return {
      outcome: status.toLowerCase(),
      audit: done || attempt >= change.poll.maxAttempts,
      result: { attempt, maxAttempts: change.poll.maxAttempts, done, status, changeId: change.changeId },
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
    const change = await deps.traffic.routeTo(s.to, step.weight);
    return {
      outcome: `weight-${step.weight}`,
      decision: plan,
      result: { ...step, ...change, poll: newPoll(MAX_ATTEMPTS.traffic, change.changeId === null) },
    };
  });
}
