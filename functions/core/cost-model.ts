import type { CutoverConfig } from './config.js';
import { type PriceTable, SECONDS_PER_MONTH, type UnitPrice } from './cost-prices.js';

/** What is deployed and what the model assumes (functions/core/cost.ts computes from these). */

/**
 * What the CDK app deploys, as the cost model needs it. Kept here because the core must not import infra/;
 * test/unit/cost.test.ts checks these against the infra sources, test/infra/stacks.test.ts against the templates.
 */
export const DEPLOYED = {
  /**
   * MB per function kind (infra/constructs/cutover-function.ts): the prober and heartbeat loops get
   * LOOP_MEMORY_MB, the aggregator and the failover and failback steps the construct's DEFAULT_MEMORY_MB.
   */
  memoryMb: { prober: 128, heartbeat: 128, aggregator: 256, step: 256 },
  /**
   * Which functions have active X-Ray tracing by default: the steps (and their state machines), not the
   * functions that run every few seconds, which trace only with `-c traceEveryFunction=true`.
   */
  traced: { prober: false, heartbeat: false, aggregator: false, step: true },
  /** Prober and heartbeat timeout (Duration.minutes(1)): the loop runs until the invocation's time is nearly up. */
  invocationMs: 60_000,
  /** Alarm metrics per stack (a math alarm is billed per metric it reads): infra/stacks/*.ts. */
  alarmMetrics: { watcher: 2, application: 3, control: 11 },
  /** One dashboard for the whole control plane (infra/constructs/dashboard.ts). */
  dashboards: 1,
  /** The Slack bot token and signing secret, created in every control stack. */
  secretsPerControlRegion: 2,
  /** The watchers' probers and the two application regions' heartbeats each have an every-minute schedule. */
  applicationRegions: 2,
  /** A prober probes the primary and the standby. */
  targets: 2,
  /** The scheduled readiness evaluation in every control region (infra/constructs/readiness.ts READINESS_RATE). */
  readinessEveryMinutes: 30,
} as const;

export type FunctionKind = keyof typeof DEPLOYED.memoryMb;

/**
 * The control-table reads of one aggregator invocation in the steady state (functions/commons/aggregate.ts): the
 * lease, the pause, the stored verdict, the last completed failover, the open incident and the standby's rebuild
 * mark; each one small item or a short query (one read unit). test/integration/aggregator-reads.test.ts counts
 * them on the wire.
 */
export const AGGREGATOR_CONTROL_READS = 6;

export interface CostAssumptions {
  /** One probe round's own time: both health checks in parallel, then the vote writes. */
  proberRoundMs: number;
  /** One heartbeat tick: the local health check and the conditional renewal. */
  heartbeatTickMs: number;
  /** One aggregator invocation: its reads in two round trips; the verdict is written only when it changes. */
  aggregatorBatchMs: number;
  /** One failover step Lambda invocation. */
  stepInvocationMs: number;
  /**
   * One readiness evaluation: the IAM policy simulations of every step role, the lease (read again one renew
   * interval later only when the first read finds it expired), the database and lag readings, the holder checks
   * and Slack's auth.test, mostly in parallel.
   */
  readinessRunMs: number;
  /** A vote item as stored (keys, streak, seq, latency, up to 500 characters of detail). */
  voteItemBytes: number;
  /**
   * Vote records per aggregator invocation in the steady state. A watcher writes its two votes of a round together
   * (Promise.all in functions/commons/prober-loop.ts), so they usually share a batch; 1, every record its own batch,
   * is the worst case, priced apart from the total.
   */
  recordsPerBatch: number;
  /** CloudWatch Logs bytes: Lambda's START/END/REPORT lines per invocation, and each loop's own line. */
  logBytes: { perInvocation: number; perProbeRound: number; perHeartbeatTick: number; perDecision: number };
  /** Polls of a failover run: Route 53 INSYNC (stop and route) and the database becoming writable. */
  failover: {
    stopTrafficPolls: number;
    promotePolls: number;
    routeTrafficPolls: number;
    verifyRetries: number;
  };
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  proberRoundMs: 600,
  heartbeatTickMs: 300,
  aggregatorBatchMs: 200,
  stepInvocationMs: 500,
  readinessRunMs: 5_000,
  voteItemBytes: 600,
  recordsPerBatch: 2,
  logBytes: { perInvocation: 600, perProbeRound: 700, perHeartbeatTick: 400, perDecision: 500 },
  // Route 53 reports INSYNC within about a minute (5 s polls); an RDS promotion takes minutes (10 s polls).
  failover: { stopTrafficPolls: 12, promotePolls: 30, routeTrafficPolls: 12, verifyRetries: 0 },
};

/** The parts of a deployment that cost money; `shapeOf` derives it from a configuration. */
export interface DeploymentShape {
  watchers: number;
  controlRegions: number;
  /** Replica tables of the votes global table: every watcher and control region (infra/topology.ts). */
  votesReplicas: number;
  /** Replica tables that bill a lease renewal: MRSC full replicas (a witness holds none), or 1 for an arbiter. */
  leaseReplicas: number;
  probeIntervalMs: number;
  responseTimeoutMs: number;
  renewIntervalMs: number;
  retryTimeoutMs: number;
  /** How traffic moves (traffic.mode); arc and accelerator have an hourly price of their own. */
  trafficMode?: NonNullable<CutoverConfig['traffic']>['mode'];
  /**
   * Who renews the lease (lease.keeper): `process`, the LeaseKeeper in the application (no Lambda, no schedule);
   * `scheduled` (the default here), a Lambda started every minute whose runs last `scheduledRunMs` and overlap.
   */
  keeper?: CutoverConfig['lease']['keeper'];
  /** How long one scheduled run renews (lease.scheduledRunMs); absent: one minute. */
  scheduledRunMs?: number;
  /** Every region Cutover runs in (application, watchers, control, lease): the prices that apply. */
  regions?: readonly string[];
  /** Where each looping function runs, for the prices that differ by region (Lambda duration). */
  regionsOf?: { prober: readonly string[]; aggregator: readonly string[]; heartbeat: readonly string[] };
}

export function shapeOf(config: CutoverConfig): DeploymentShape {
  const watchers = new Set(config.watchers);
  const control = new Set(config.controlRegions);
  const la = config.leaseAuthority;
  return {
    watchers: watchers.size,
    controlRegions: control.size,
    votesReplicas: new Set([...control, ...watchers]).size,
    leaseReplicas: la.mode === 'mrsc' ? new Set(la.regions).size : 1,
    probeIntervalMs: config.probe.intervalMs,
    responseTimeoutMs: config.probe.responseTimeoutMs,
    renewIntervalMs: config.lease.renewIntervalMs,
    retryTimeoutMs: config.lease.retryTimeoutMs,
    keeper: config.lease.keeper,
    scheduledRunMs: config.lease.scheduledRunMs,
    regions: [
      ...new Set([
        config.primary.region,
        config.standby.region,
        ...watchers,
        ...control,
        ...(la.mode === 'mrsc'
          ? [...la.regions, ...(la.witnessRegion ? [la.witnessRegion] : [])]
          : [la.region]),
      ]),
    ],
    regionsOf: {
      prober: [...watchers],
      aggregator: [...control],
      heartbeat: [config.primary.region, config.standby.region],
    },
    ...(config.traffic ? { trafficMode: config.traffic.mode } : {}),
  };
}

/**
 * Rounds of a loop that starts a round every `intervalMs` while more than `budgetMs` of the invocation remain
 * (runProber and runHeartbeat stop when the next round could outlive the invocation).
 */
export function loopRounds(invocationMs: number, intervalMs: number, budgetMs: number): number {
  if (invocationMs <= budgetMs) return 0;
  return Math.floor((invocationMs - budgetMs - 1) / intervalMs) + 1;
}

/** Billed milliseconds of one looping invocation: it returns as soon as its last round ends. */
export function loopDurationMs(rounds: number, intervalMs: number, roundMs: number): number {
  return rounds === 0 ? 0 : (rounds - 1) * intervalMs + roundMs;
}

/** Traces Lambda records for a function called `perSecond` times a second: 1 a second and 5 % of the rest. */
export function tracedPerSecond(perSecond: number): number {
  return Math.min(perSecond, 1) + 0.05 * Math.max(perSecond - 1, 0);
}

export type ComponentId =
  | 'prober'
  | 'votes'
  | 'stream'
  | 'aggregator'
  | 'heartbeat'
  | 'readiness'
  | 'scheduler'
  | 'alarms'
  | 'dashboard'
  | 'secrets'
  | 'tracing'
  | 'logs'
  | 'traffic';

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
  /** The price applied: quantity / price.per × price.usd = usd. */
  price: UnitPrice;
}

export interface ComponentCost {
  id: ComponentId;
  title: string;
  usd: number;
  lines: CostLine[];
  /** The assumption or rule behind the numbers, in a sentence. */
  basis: string;
}

export interface MonthlyUsage {
  proberInvocations: number;
  proberRoundsPerInvocation: number;
  proberBilledMs: number;
  voteWrites: number;
  aggregatorInvocations: number;
  heartbeatInvocations: number;
  heartbeatTicksPerInvocation: number;
  heartbeatBilledMs: number;
  leaseRenewals: number;
  schedulerInvocations: number;
}

export interface FailoverCost {
  usd: number;
  stateTransitions: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  events: number;
  traces: number;
  lines: CostLine[];
}

export interface CostEstimate {
  /** The steady state: what a month costs when nothing fails. */
  monthlyUsd: number;
  /** Components whose worst case differs from the steady state, each priced alone and not in the total. */
  worstCase: ComponentCost[];
  /** What costs nothing, and why, in place of $0.00 rows. */
  free: string[];
  /** Where the prices come from: the regions with a price in the table, and those priced at its rates. */
  regions: { priced: string[]; unpriced: string[] };
  days: number;
  shape: DeploymentShape;
  usage: MonthlyUsage;
  components: ComponentCost[];
  perFailover: FailoverCost;
  prices: PriceTable;
  assumptions: CostAssumptions;
}

export const priced = (price: UnitPrice, quantity: number, item: string): CostLine => ({
  item,
  quantity,
  unit: price.unit,
  usd: (quantity / price.per) * price.usd,
  price,
});

/**
 * A Lambda duration spread evenly over the regions a function runs in, one line per duration price: one line
 * ("duration") when every region has the same price, else one per price with its regions named.
 */
export function regionalDuration(
  gbSecondsTotal: number,
  regions: readonly string[] | undefined,
  priceIn: (region: string) => UnitPrice,
  base: UnitPrice,
  item = 'duration',
): CostLine[] {
  if (!regions?.length) return [priced(base, gbSecondsTotal, item)];
  const groups = new Map<number, { price: UnitPrice; regions: string[] }>();
  for (const r of regions) {
    const price = priceIn(r);
    const g = groups.get(price.usd) ?? { price, regions: [] };
    g.regions.push(r);
    groups.set(price.usd, g);
  }
  if (groups.size === 1) return [priced([...groups.values()][0]?.price ?? base, gbSecondsTotal, item)];
  return [...groups.values()].map((g) =>
    priced(
      g.price,
      (gbSecondsTotal * g.regions.length) / regions.length,
      `${item} in ${g.regions.join(', ')}`,
    ),
  );
}

export const component = (
  id: ComponentId,
  title: string,
  basis: string,
  lines: CostLine[],
): ComponentCost => ({
  id,
  title,
  basis,
  lines,
  usd: lines.reduce((sum, l) => sum + l.usd, 0),
});

export const gbSeconds = (kind: FunctionKind, invocations: number, billedMs: number): number =>
  invocations * (billedMs / 1000) * (DEPLOYED.memoryMb[kind] / 1024);

/** Traces recorded a month for a traced function called `invocations` times a month in each of `regions`. */
export const tracesOf = (kind: FunctionKind, invocations: number, regions: number): number =>
  DEPLOYED.traced[kind]
    ? regions * tracedPerSecond(invocations / regions / SECONDS_PER_MONTH) * SECONDS_PER_MONTH
    : 0;

/** Read request units of one strongly consistent query or get returning `bytes` (at least 1). */
export const readUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 4096));

export function tracingBasis(): string {
  const kinds = ['prober', 'heartbeat', 'aggregator'] as const;
  const on = kinds.filter((k) => DEPLOYED.traced[k]);
  const off = kinds.filter((k) => !DEPLOYED.traced[k]);
  return [
    on.length > 0 ? `traced: ${on.join(', ')}` : '',
    off.length > 0
      ? `not traced: ${off.join(', ')} (they run every few seconds and log every decision; -c traceEveryFunction=true traces them)`
      : '',
    DEPLOYED.traced.step ? 'the failover and failback steps are traced, counted per failover' : '',
  ]
    .filter(Boolean)
    .join('; ');
}
