import type { CutoverConfig } from './config.js';
import { runStates } from './step-registry.js';

/**
 * The steady-state monthly cost of a Cutover deployment, from its validated configuration and a price table.
 * Pure: no AWS SDK, no clock, no environment; `cutover cost` and docs/cost.md print what this returns.
 * Every quantity follows the code that spends it (functions/commons/prober-loop.ts, aggregate.ts,
 * heartbeat-loop.ts) and the CDK app that deploys it (infra/); the prices are list prices, which change.
 */

export const DAYS_PER_MONTH = 30;
export const MINUTES_PER_MONTH = DAYS_PER_MONTH * 24 * 60;
const SECONDS_PER_MONTH = MINUTES_PER_MONTH * 60;

/** A list price: `usd` for every `per` units of `unit`. */
export interface UnitPrice {
  usd: number;
  per: number;
  unit: string;
  source: string;
}

export interface PriceTable {
  region: string;
  checkedOn: string;
  note: string;
  lambdaRequest: UnitPrice;
  lambdaArmGbSecond: UnitPrice;
  dynamoWriteRequestUnit: UnitPrice;
  dynamoReplicatedWriteRequestUnit: UnitPrice;
  dynamoReadRequestUnit: UnitPrice;
  dynamoStreamReadByLambda: UnitPrice;
  interRegionTransferGb: UnitPrice;
  schedulerInvocation: UnitPrice;
  eventBridgeCustomEvent: UnitPrice;
  stepFunctionsTransition: UnitPrice;
  alarmMetricMonth: UnitPrice;
  dashboardMonth: UnitPrice;
  secretMonth: UnitPrice;
  xrayTraceRecorded: UnitPrice;
  logsIngestedGb: UnitPrice;
}

/**
 * US East (N. Virginia) on-demand list prices, without free tiers (those are per account and shared with
 * everything else in it). docs/cost.md says which page each one was read from.
 */
export const US_EAST_1_LIST_PRICES: PriceTable = {
  region: 'us-east-1',
  checkedOn: '2026-11-27',
  note: 'us-east-1 on-demand list prices; AWS changes them, other regions differ, free tiers are not subtracted',
  lambdaRequest: {
    usd: 0.2,
    per: 1_000_000,
    unit: 'requests',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-second (Arm, first 7.5 billion GB-s a month)',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'write request units (on-demand)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamoReplicatedWriteRequestUnit: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'replicated write request units (on-demand, one per replica table per write)',
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html ("priced the same as single-Region write units")',
  },
  dynamoReadRequestUnit: {
    usd: 0.125,
    per: 1_000_000,
    unit: 'read request units (on-demand; one strongly consistent read of up to 4 KB)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamoStreamReadByLambda: {
    usd: 0,
    per: 1,
    unit: 'stream records read by a Lambda trigger',
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html (GetRecords by Lambda consumers is free)',
  },
  interRegionTransferGb: {
    usd: 0.02,
    per: 1,
    unit: 'GB transferred to another region (global table replication)',
    source:
      'https://aws.amazon.com/ec2/pricing/on-demand/ (data transfer from us-east-1 to another region; global-tables-billing.html: "Cross-Region data transfer fees apply")',
  },
  schedulerInvocation: {
    usd: 1,
    per: 1_000_000,
    unit: 'EventBridge Scheduler invocations',
    source: 'https://aws.amazon.com/eventbridge/pricing/ (Scheduler)',
  },
  eventBridgeCustomEvent: {
    usd: 1,
    per: 1_000_000,
    unit: 'custom events published',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  stepFunctionsTransition: {
    usd: 0.025,
    per: 1_000,
    unit: 'state transitions (Standard workflows)',
    source: 'https://aws.amazon.com/step-functions/pricing/ (US East (N. Virginia) row)',
  },
  alarmMetricMonth: {
    usd: 0.1,
    per: 1,
    unit: 'standard-resolution alarm metric per month',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  dashboardMonth: {
    usd: 3,
    per: 1,
    unit: 'custom dashboard per month',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  secretMonth: {
    usd: 0.4,
    per: 1,
    unit: 'secret per month',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
  },
  xrayTraceRecorded: {
    usd: 5,
    per: 1_000_000,
    unit: 'traces recorded',
    source: 'https://aws.amazon.com/xray/pricing/',
  },
  logsIngestedGb: {
    usd: 0.5,
    per: 1,
    unit: 'GB of logs ingested (Standard class)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
};

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
} as const;

export type FunctionKind = keyof typeof DEPLOYED.memoryMb;

export interface CostAssumptions {
  /** One probe round's own time: both health checks in parallel, then the vote writes. */
  proberRoundMs: number;
  /** One heartbeat tick: the local health check and the conditional renewal. */
  heartbeatTickMs: number;
  /** One aggregator invocation: 6 reads (4 in parallel) and the conditional verdict write. */
  aggregatorBatchMs: number;
  /** One failover step Lambda invocation. */
  stepInvocationMs: number;
  /** A vote item as stored (keys, streak, seq, latency, up to 500 characters of detail). */
  voteItemBytes: number;
  /** Vote records per aggregator invocation. 1 is the worst case: every record its own batch. */
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
  voteItemBytes: 600,
  recordsPerBatch: 1,
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
function loopDurationMs(rounds: number, intervalMs: number, roundMs: number): number {
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
  | 'scheduler'
  | 'alarms'
  | 'dashboard'
  | 'secrets'
  | 'tracing'
  | 'logs';

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
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
  monthlyUsd: number;
  days: number;
  shape: DeploymentShape;
  usage: MonthlyUsage;
  components: ComponentCost[];
  perFailover: FailoverCost;
  prices: PriceTable;
  assumptions: CostAssumptions;
}

const priced = (price: UnitPrice, quantity: number, item: string): CostLine => ({
  item,
  quantity,
  unit: price.unit,
  usd: (quantity / price.per) * price.usd,
});

const component = (id: ComponentId, title: string, basis: string, lines: CostLine[]): ComponentCost => ({
  id,
  title,
  basis,
  lines,
  usd: lines.reduce((sum, l) => sum + l.usd, 0),
});

const gbSeconds = (kind: FunctionKind, invocations: number, billedMs: number): number =>
  invocations * (billedMs / 1000) * (DEPLOYED.memoryMb[kind] / 1024);

/** Traces recorded a month for a traced function called `invocations` times a month in each of `regions`. */
const tracesOf = (kind: FunctionKind, invocations: number, regions: number): number =>
  DEPLOYED.traced[kind]
    ? regions * tracedPerSecond(invocations / regions / SECONDS_PER_MONTH) * SECONDS_PER_MONTH
    : 0;

/** Read request units of one strongly consistent query or get returning `bytes` (at least 1). */
const readUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 4096));

function tracingBasis(): string {
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

export function estimateShape(
  shape: DeploymentShape,
  prices: PriceTable = US_EAST_1_LIST_PRICES,
  a: CostAssumptions = DEFAULT_ASSUMPTIONS,
): CostEstimate {
  const p = prices;
  const { invocationMs, targets, applicationRegions } = DEPLOYED;

  // Prober: one invocation a minute per watcher, one vote write per target per round.
  const proberRounds = loopRounds(invocationMs, shape.probeIntervalMs, shape.responseTimeoutMs + 1_000);
  const proberMs = loopDurationMs(proberRounds, shape.probeIntervalMs, a.proberRoundMs);
  const proberInvocations = shape.watchers * MINUTES_PER_MONTH;
  const voteWrites = proberInvocations * proberRounds * targets;
  const voteWriteUnits = Math.ceil(a.voteItemBytes / 1024);

  // Aggregator: every control region's replica streams every vote write.
  const streamRecords = voteWrites * shape.controlRegions;
  const aggregatorInvocations = streamRecords / a.recordsPerBatch;
  const voteQueryUnits = readUnits(shape.watchers * a.voteItemBytes);
  // Lease, open incident, pause, last failover: one small item or short query each.
  const controlReads = 4;

  // Heartbeat: in both application regions; the holder renews once a tick, the standby reads once a tick.
  const budget = 2 * shape.retryTimeoutMs + 1_000;
  const ticks = loopRounds(invocationMs, shape.renewIntervalMs, budget);
  const heartbeatMs = loopDurationMs(ticks, shape.renewIntervalMs, a.heartbeatTickMs);
  const heartbeatInvocations = applicationRegions * MINUTES_PER_MONTH;
  const leaseRenewals = MINUTES_PER_MONTH * ticks;
  const leaseWritePrice =
    shape.leaseReplicas > 1 ? p.dynamoReplicatedWriteRequestUnit : p.dynamoWriteRequestUnit;

  const schedulerInvocations = (shape.watchers + applicationRegions) * MINUTES_PER_MONTH;

  const components: ComponentCost[] = [
    component(
      'prober',
      `Prober Lambda (${shape.watchers} watchers)`,
      `one invocation a minute per watcher; ${proberRounds} rounds of ${shape.probeIntervalMs / 1000} s, billed until the last round ends (${(proberMs / 1000).toFixed(1)} s at ${DEPLOYED.memoryMb.prober} MB arm64)`,
      [
        priced(p.lambdaRequest, proberInvocations, 'invocations'),
        priced(p.lambdaArmGbSecond, gbSeconds('prober', proberInvocations, proberMs), 'duration'),
      ],
    ),
    component(
      'votes',
      `Vote writes (global table, ${shape.votesReplicas} replicas)`,
      `one conditional put per target per round (${voteWriteUnits} write unit each), billed as one replicated write unit in each of the ${shape.votesReplicas} replica tables; each prober invocation first reads its last vote per target`,
      [
        priced(
          p.dynamoReplicatedWriteRequestUnit,
          voteWrites * voteWriteUnits * shape.votesReplicas,
          `${voteWrites.toLocaleString('en-US')} vote writes × ${shape.votesReplicas} replicas`,
        ),
        priced(p.dynamoReadRequestUnit, proberInvocations * targets, 'last-vote reads'),
        priced(
          p.interRegionTransferGb,
          (voteWrites * (shape.votesReplicas - 1) * a.voteItemBytes) / 1e9,
          'replication transfer',
        ),
      ],
    ),
    component('stream', 'Votes stream reads', 'GetRecords calls made by a Lambda trigger are not charged', [
      priced(p.dynamoStreamReadByLambda, streamRecords, 'stream records to the aggregators'),
    ]),
    component(
      'aggregator',
      `Aggregator (${shape.controlRegions} control regions)`,
      `worst case: one invocation per vote record per control region (no batching); each reads 4 control items, 2 vote queries of ${voteQueryUnits} read unit(s), and makes 1 conditional verdict write (it fails when the verdict is unchanged, and a failed conditional write still consumes a write unit)`,
      [
        priced(p.lambdaRequest, aggregatorInvocations, 'invocations'),
        priced(
          p.lambdaArmGbSecond,
          gbSeconds('aggregator', aggregatorInvocations, a.aggregatorBatchMs),
          'duration',
        ),
        priced(
          p.dynamoReadRequestUnit,
          aggregatorInvocations * (controlReads + 2 * voteQueryUnits),
          'control and vote reads',
        ),
        priced(p.dynamoWriteRequestUnit, aggregatorInvocations, 'verdict writes'),
      ],
    ),
    component(
      'heartbeat',
      `Lease heartbeat (${applicationRegions} application regions)`,
      `${ticks} ticks a minute; the holder's conditional renewal is billed in ${shape.leaseReplicas} replica table(s) (MRSC: one replicated write unit per full replica; a witness holds no table); the standby reads the lease each tick`,
      [
        priced(p.lambdaRequest, heartbeatInvocations, 'invocations'),
        priced(p.lambdaArmGbSecond, gbSeconds('heartbeat', heartbeatInvocations, heartbeatMs), 'duration'),
        priced(leaseWritePrice, leaseRenewals * shape.leaseReplicas, 'lease renewals × replicas'),
        priced(
          p.dynamoReadRequestUnit,
          leaseRenewals + MINUTES_PER_MONTH,
          'standby lease reads, holder first read',
        ),
      ],
    ),
    component(
      'scheduler',
      'EventBridge Scheduler',
      `${shape.watchers + applicationRegions} every-minute schedules (probers and heartbeats)`,
      [priced(p.schedulerInvocation, schedulerInvocations, 'invocations')],
    ),
    component(
      'alarms',
      'CloudWatch alarms',
      `alarm metrics: ${DEPLOYED.alarmMetrics.watcher} per watcher, ${DEPLOYED.alarmMetrics.application} per application region, ${DEPLOYED.alarmMetrics.control} per control region (the failover/failback math alarms read 3 metrics each)`,
      [
        priced(
          p.alarmMetricMonth,
          shape.watchers * DEPLOYED.alarmMetrics.watcher +
            applicationRegions * DEPLOYED.alarmMetrics.application +
            shape.controlRegions * DEPLOYED.alarmMetrics.control,
          'alarm metrics',
        ),
      ],
    ),
    component('dashboard', 'CloudWatch dashboard', 'one dashboard for the whole control plane', [
      priced(p.dashboardMonth, DEPLOYED.dashboards, 'dashboards'),
    ]),
    component(
      'secrets',
      'Secrets Manager',
      'the Slack bot token and signing secret in every control region; read once per cold start',
      [priced(p.secretMonth, shape.controlRegions * DEPLOYED.secretsPerControlRegion, 'secrets')],
    ),
    component(
      'tracing',
      'X-Ray traces (active tracing)',
      `Lambda samples 1 request a second and 5 % of the rest, per function and region; ${tracingBasis()}`,
      [
        priced(p.xrayTraceRecorded, tracesOf('prober', proberInvocations, shape.watchers), 'prober traces'),
        priced(
          p.xrayTraceRecorded,
          tracesOf('heartbeat', heartbeatInvocations, applicationRegions),
          'heartbeat traces',
        ),
        priced(
          p.xrayTraceRecorded,
          tracesOf('aggregator', aggregatorInvocations, shape.controlRegions),
          'aggregator traces',
        ),
      ],
    ),
    component(
      'logs',
      'CloudWatch Logs ingestion',
      `assumed sizes: ${a.logBytes.perInvocation} B of platform lines per invocation, ${a.logBytes.perProbeRound} B per probe round, ${a.logBytes.perHeartbeatTick} B per tick, ${a.logBytes.perDecision} B per decision`,
      [
        priced(
          p.logsIngestedGb,
          ((proberInvocations + heartbeatInvocations + aggregatorInvocations) * a.logBytes.perInvocation +
            proberInvocations * proberRounds * a.logBytes.perProbeRound +
            heartbeatInvocations * ticks * a.logBytes.perHeartbeatTick +
            aggregatorInvocations * a.logBytes.perDecision) /
            1e9,
          'log data',
        ),
      ],
    ),
  ];

  return {
    monthlyUsd: components.reduce((sum, c) => sum + c.usd, 0),
    days: DAYS_PER_MONTH,
    shape,
    usage: {
      proberInvocations,
      proberRoundsPerInvocation: proberRounds,
      proberBilledMs: proberMs,
      voteWrites,
      aggregatorInvocations,
      heartbeatInvocations,
      heartbeatTicksPerInvocation: ticks,
      heartbeatBilledMs: heartbeatMs,
      leaseRenewals,
      schedulerInvocations,
    },
    components,
    perFailover: failoverCost(prices, a),
    prices,
    assumptions: a,
  };
}

export function estimateCost(
  config: CutoverConfig,
  prices: PriceTable = US_EAST_1_LIST_PRICES,
  assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS,
): CostEstimate {
  return estimateShape(shapeOf(config), prices, assumptions);
}

/** The Task states of an automatic failover's run, from the step registry: one Lambda invocation each. */
export const FAILOVER_PATH_TASKS: readonly string[] = runStates('failover');

/** The Choice, Wait and Succeed states that run passes after each of its Tasks, when nothing is polled. */
const PASSED_AFTER: Record<string, readonly string[]> = {
  Claim: ['Claimed'],
  RecheckVotes: ['PrimaryRecovered'],
  StopTraffic: ['StopTrafficSubmitted'],
  Fence: ['WaitOutOldLease'],
  RpoGuard: ['RpoDecision'],
  Promote: ['PromoteSubmitted'],
  RouteTraffic: ['RouteTrafficSubmitted', 'MoreTrafficSteps'],
  Verify: ['Verified'],
  Notify: ['Completed'],
};

/**
 * An automatic failover that goes straight through statemachines/failover.asl.json (no approval, one traffic
 * step), with no polls; test/unit/cost.test.ts walks it against the ASL.
 */
export const FAILOVER_PATH: readonly string[] = FAILOVER_PATH_TASKS.flatMap((t) => [
  t,
  ...(PASSED_AFTER[t] ?? []),
]);

/** Each poll enters a Wait, a status Task and a Choice. */
export const STATES_PER_POLL = 3;

export function failoverCost(
  prices: PriceTable = US_EAST_1_LIST_PRICES,
  a: CostAssumptions = DEFAULT_ASSUMPTIONS,
): FailoverCost {
  const f = a.failover;
  const polls = f.stopTrafficPolls + f.promotePolls + f.routeTrafficPolls + f.verifyRetries;
  const stateTransitions = FAILOVER_PATH.length + STATES_PER_POLL * polls;
  const lambdaInvocations = FAILOVER_PATH_TASKS.length + polls;
  const lambdaGbSeconds = gbSeconds('step', lambdaInvocations, a.stepInvocationMs);
  // Failover Requested from the aggregator, and the notification at the end.
  const events = 2;
  // The traced state machine records the execution as one trace, and traced steps add their segments to it.
  const traces = DEPLOYED.traced.step ? 1 : 0;
  const lines = [
    priced(prices.stepFunctionsTransition, stateTransitions, 'state transitions'),
    priced(prices.lambdaRequest, lambdaInvocations, 'step invocations'),
    priced(prices.lambdaArmGbSecond, lambdaGbSeconds, 'step duration'),
    priced(prices.eventBridgeCustomEvent, events, 'events'),
    priced(prices.xrayTraceRecorded, traces, 'execution trace'),
  ];
  return {
    usd: lines.reduce((sum, l) => sum + l.usd, 0),
    stateTransitions,
    lambdaInvocations,
    lambdaGbSeconds,
    events,
    traces,
    lines,
  };
}

export interface LeverRow {
  lever: 'probe.intervalMs' | 'watchers' | 'lease.renewIntervalMs';
  value: number;
  monthlyUsd: number;
  current: boolean;
}

/**
 * What the three knobs cost, each varied alone from the configuration's shape. A changed probe interval or
 * renew interval must still pass `config validate` (debounce, staleness and lease timing rules); cost does
 * not depend on those fields. An added watcher is a new region, so it adds a votes replica.
 */
export function levers(
  config: CutoverConfig,
  prices: PriceTable = US_EAST_1_LIST_PRICES,
  a: CostAssumptions = DEFAULT_ASSUMPTIONS,
): LeverRow[] {
  const base = shapeOf(config);
  const total = (shape: DeploymentShape) => estimateShape(shape, prices, a).monthlyUsd;
  const values = (preset: number[], current: number) =>
    [...new Set([...preset, current])].sort((x, y) => x - y);
  const rows: LeverRow[] = [];
  for (const v of values([5_000, 10_000, 30_000], base.probeIntervalMs)) {
    // A shorter interval needs a shorter response timeout (they must not overlap); keep the configured one if it fits.
    const responseTimeoutMs = Math.min(base.responseTimeoutMs, v - 1);
    rows.push({
      lever: 'probe.intervalMs',
      value: v,
      monthlyUsd: total({ ...base, probeIntervalMs: v, responseTimeoutMs }),
      current: v === base.probeIntervalMs,
    });
  }
  for (const v of values([3, 5, 7], base.watchers)) {
    rows.push({
      lever: 'watchers',
      value: v,
      monthlyUsd: total({
        ...base,
        watchers: v,
        votesReplicas: Math.max(1, base.votesReplicas + (v - base.watchers)),
      }),
      current: v === base.watchers,
    });
  }
  for (const v of values([5_000, 10_000, 15_000], base.renewIntervalMs)) {
    rows.push({
      lever: 'lease.renewIntervalMs',
      value: v,
      monthlyUsd: total({ ...base, renewIntervalMs: v }),
      current: v === base.renewIntervalMs,
    });
  }
  return rows;
}
