import type { CutoverConfig } from '#core/config.js';
import type { Clock, ControlStore, EventPublisher, LeaseStore, VoteStore } from '#core/ports.js';

export interface AggregatorDeps {
  config: CutoverConfig;
  /** The control region this aggregator runs in; recorded as the incident's requester. */
  region: string;
  votes: VoteStore;
  leases: LeaseStore;
  control: ControlStore;
  events: EventPublisher;
  clock: Clock;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export type AggregateAction =
  | { action: 'none'; code: string; reason: string }
  | { action: 'requested'; incidentId: string }
  | { action: 'duplicate'; incidentId: string | null; reason: string }
  | { action: 're-published'; incidentId: string }
  | { action: 'taken-over'; incidentId: string; code: string; from: string; reason: string }
  | { action: 'abandoned'; incidentId: string; code: 'FAILBACK_ABANDONED'; reason: string };
