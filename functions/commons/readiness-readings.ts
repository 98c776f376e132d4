import type { CutoverConfig } from '#core/config.js';
import type { HolderCheckReader, LagReading, ReplicationLagReader } from '#core/failover-ports.js';
import type { Lease } from '#core/lease.js';
import type { Clock } from '#core/ports.js';
import type {
  DatabaseReading,
  LeaseReadings,
  MachineReading,
  PermissionReading,
  ReadinessReadings,
  RolePlan,
  SlackReading,
  StandingReading,
  Unreadable,
} from '#core/readiness.js';

/** The read-only ports readiness takes its readings through; the CLI and the scheduled evaluation fill them alike. */
export interface ReadinessDeps {
  permissions: { read(plan: RolePlan): Promise<PermissionReading | (Unreadable & { role: string })> };
  /** null when Cutover promotes no database (none configured, or DynamoDB global tables). */
  database: { standing(region: string): Promise<StandingReading>; lag: ReplicationLagReader } | null;
  leases: { read(application: string): Promise<Lease | null> };
  holders: HolderCheckReader;
  /** null when Slack is not configured. */
  slack: (() => Promise<SlackReading>) | null;
  definition(arn: string): Promise<MachineReading['deployed']>;
  clock: Clock;
  sleep(ms: number): Promise<void>;
}

export interface ReadinessInputs {
  plan: RolePlan[];
  machines: Array<Pick<MachineReading, 'kind' | 'arn' | 'expected'>>;
  /** How long to wait for a renewal when the first read finds the lease expired or absent. */
  leaseWaitMs: number;
}

const asError = (err: unknown): Unreadable => ({ error: (err as Error).message ?? String(err) });

/** Takes every reading, in parallel where they are independent; a reading that fails is kept as its error. */
export async function takeReadings(
  deps: ReadinessDeps,
  config: CutoverConfig,
  inputs: ReadinessInputs,
): Promise<ReadinessReadings> {
  const [permissions, database, lease, holders, slack, machines] = await Promise.all([
    Promise.all(inputs.plan.map((p) => deps.permissions.read(p))),
    readDatabase(deps, config),
    readLease(deps, config, inputs.leaseWaitMs),
    Promise.all([config.primary.region, config.standby.region].map((r) => deps.holders.read(r))),
    deps.slack ? deps.slack() : Promise.resolve(null),
    Promise.all(inputs.machines.map(async (m) => ({ ...m, deployed: await deps.definition(m.arn) }))),
  ]);
  return { permissions, database, lease, holders, slack, machines };
}

async function readDatabase(deps: ReadinessDeps, config: CutoverConfig): Promise<DatabaseReading | null> {
  if (!deps.database) return null;
  const region = config.standby.region;
  const [standing, lag] = await Promise.all([
    deps.database.standing(region).catch(asError),
    deps.database.lag.read(region).catch(asError) as Promise<LagReading | Unreadable>,
  ]);
  return { region, standing, lag };
}

async function readLease(
  deps: ReadinessDeps,
  config: CutoverConfig,
  waitMs: number,
): Promise<LeaseReadings | Unreadable> {
  try {
    const first = { at: deps.clock.now(), lease: await deps.leases.read(config.application) };
    if (first.lease?.holder && first.lease.expiresAt > first.at) return { reads: [first] };
    // Expired or absent: a keeper that is renewing will have moved it within one renew interval.
    await deps.sleep(waitMs);
    const second = { at: deps.clock.now(), lease: await deps.leases.read(config.application) };
    return { reads: [first, second] };
  } catch (err) {
    return asError(err);
  }
}
