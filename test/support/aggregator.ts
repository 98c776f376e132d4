import { decide } from '#core/decide.js';
import { type Incident, incidentId } from '#core/incident.js';
import type { IncidentRequest } from '#core/ports.js';
import { requestPlan } from '#core/verdict-action.js';
import type { Vote } from '#core/vote.js';
import { exampleConfig, vote } from './fixtures.js';

/** The aggregator's world for its decisions' tests: the example configuration, its regions, one clock. */
export const config = exampleConfig();
export const NOW = 1_800_000_000_000;
export const P = config.primary.region;
export const S = config.standby.region;
export const REGIONS = { primary: P, standby: S };
export const [HERE, THERE] = config.controlRegions as [string, string];

/** Where and when a request is planned: this application, the lease epoch, the roles from REGIONS. */
export const at = (region: string, epoch = 0) => ({
  application: 'orders',
  region,
  now: NOW,
  epoch,
  ...REGIONS,
});

/** Votes about the primary (some down for the whole window) and the standby (healthy), all fresh. */
export const snapshot = (down: string[]): Vote[] => [
  ...config.watchers.map((voter) =>
    down.includes(voter)
      ? vote({ voter, target: P, healthy: false, streakSince: NOW - 61_000, detail: 'refused' }, NOW)
      : vote({ voter, target: P }, NOW),
  ),
  ...config.watchers.map((voter) => vote({ voter, target: S }, NOW)),
];
export const quorumDown = decide(snapshot(config.watchers), config, NOW, REGIONS);

/** The incident the conditional put creates from a request: the first attempt, requested. */
export function fromRequest(request: IncidentRequest, id: string): Incident {
  return { ...request, id, attempt: 1, status: 'requested' };
}

/** The incident HERE requests at epoch 1 when a quorum sees the primary down. */
export function incident(partial: Partial<Incident> = {}): Incident {
  const plan = requestPlan(quorumDown, at(HERE, 1));
  if (plan.act !== 'request') throw new Error('a quorum down must request');
  return { ...fromRequest(plan.request, incidentId('orders', 1, 1)), ...partial };
}
