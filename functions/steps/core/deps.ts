import type { CutoverConfig } from '#core/config.js';
import type {
  ApprovalChannel,
  DatabasePromoter,
  FenceActions,
  HealthVerifier,
  Notifier,
  RecordResolver,
  ReplicationLagReader,
  TrafficRouter,
} from '#core/failover-ports.js';
import type { HookActuator } from '#core/hooks.js';
import type { Clock, ControlStore, EventPublisher, LeaseStore, VoteStore } from '#core/ports.js';

/** Everything a step may touch. The Lambda handlers build it from AWS adapters; the drill from local ones. */
export interface StepDeps {
  config: CutoverConfig;
  clock: Clock;
  leases: LeaseStore;
  control: ControlStore;
  votes: VoteStore;
  events: EventPublisher;
  traffic: TrafficRouter;
  database: DatabasePromoter;
  lag: ReplicationLagReader;
  health: HealthVerifier;
  /** Resolves the application's record at its zone's authoritative servers (Verify); absent: DNS is not checked. */
  dns?: RecordResolver;
  notifier: Notifier;
  fenceActions?: FenceActions;
  /** Acts on the configured hooks' resources (ECS, Auto Scaling, Lambda); absent where no hooks are configured. */
  hooks?: HookActuator;
  /** Only the local runner uses it: on AWS the `.waitForTaskToken` task is the wait (issue 5). */
  approval?: ApprovalChannel;
  /** Overrides config.approval.timeoutPolicy (tests); a data-loss or failback approval always aborts. */
  approvalTimeoutPolicy?: 'abort' | 'proceed';
  /** Budget for the optional active fence actions, which call into a region that may be down. */
  fenceActionTimeoutMs?: number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}
