import type { CutoverConfig } from './config.js';
import {
  AGGREGATOR_CONTROL_READS,
  type ComponentCost,
  type CostAssumptions,
  type CostEstimate,
  component,
  DEFAULT_ASSUMPTIONS,
  DEPLOYED,
  type DeploymentShape,
  type FailoverCost,
  gbSeconds,
  loopDurationMs,
  loopRounds,
  priced,
  readUnits,
  regionalDuration,
  shapeOf,
  tracesOf,
  tracingBasis,
} from './cost-model.js';
import {
  DAYS_PER_MONTH,
  lambdaArmGbSecondIn,
  MINUTES_PER_MONTH,
  type PriceTable,
  pricedRegions,
  US_EAST_1_LIST_PRICES,
} from './cost-prices.js';
import { runStates } from './step-registry.js';

/**
 * The steady-state monthly cost of a Cutover deployment, from its validated configuration and a price table.
 * Pure: no AWS SDK, no clock, no environment; `cutover cost` and docs/cost.md print what this returns.
 * Every quantity follows the code that spends it (functions/commons/prober-loop.ts, aggregate.ts,
 * heartbeat-loop.ts) and the CDK app that deploys it (infra/); the prices are list prices, which change.
 */

export * from './cost-model.js';
export * from './cost-prices.js';

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
  const worstAggregatorInvocations = streamRecords;
  const voteQueryUnits = readUnits(shape.watchers * a.voteItemBytes);
  // Lease, pause, stored verdict, last failover, open incident, rebuild mark: one small item or short query each.
  const controlReads = AGGREGATOR_CONTROL_READS;

  // Lease renewal in both application regions: the holder renews once a tick, the standby reads once a tick.
  // The in-process LeaseKeeper runs in the application (no Lambda, no schedule); the scheduled heartbeat starts a
  // run every minute that renews for scheduledRunMs, so runs overlap and each minute's start adds one run's ticks.
  const inProcess = shape.keeper === 'process';
  const runMs = shape.scheduledRunMs ?? invocationMs;
  const budget = 2 * shape.retryTimeoutMs + 1_000;
  const ticks = inProcess
    ? Math.floor(60_000 / shape.renewIntervalMs)
    : loopRounds(runMs, shape.renewIntervalMs, budget);
  const heartbeatMs = inProcess ? 0 : loopDurationMs(ticks, shape.renewIntervalMs, a.heartbeatTickMs);
  const heartbeatInvocations = inProcess ? 0 : applicationRegions * MINUTES_PER_MONTH;
  const leaseRenewals = MINUTES_PER_MONTH * ticks;
  const leaseWritePrice =
    shape.leaseReplicas > 1 ? p.dynamoReplicatedWriteRequestUnit : p.dynamoWriteRequestUnit;
  const scheduledLoops = shape.watchers + (inProcess ? 0 : applicationRegions);

  const schedulerInvocations = scheduledLoops * MINUTES_PER_MONTH;
  const readinessRuns = shape.controlRegions * (MINUTES_PER_MONTH / DEPLOYED.readinessEveryMinutes);

  const duration = (kind: 'prober' | 'aggregator' | 'heartbeat', gbs: number) =>
    regionalDuration(
      gbs,
      shape.regionsOf?.[kind],
      (r) => (r === p.region ? p.lambdaArmGbSecond : lambdaArmGbSecondIn(r, p.lambdaArmGbSecond)),
      p.lambdaArmGbSecond,
    );
  // The aggregator writes the verdict only when the stored one differs (functions/commons/aggregate.ts): none in
  // the steady state; the worst case counts one per invocation (a burst of verdict changes in an incident).
  const aggregator = (invocations: number, batching: string, verdictWrites: number): ComponentCost =>
    component(
      'aggregator',
      `Aggregator (${shape.controlRegions} control regions)`,
      `one invocation per stream batch per control region (${batching}); each reads ${controlReads} control items and 2 vote queries of ${voteQueryUnits} read ${voteQueryUnits === 1 ? 'unit' : 'units'}; ${verdictWrites === 0 ? 'it writes the verdict only when it changes, so none while it stays the same' : 'and, at worst, writes the verdict every time (a conditional write, which consumes a write unit even when refused)'}`,
      [
        priced(p.lambdaRequest, invocations, 'invocations'),
        ...duration('aggregator', gbSeconds('aggregator', invocations, a.aggregatorBatchMs)),
        priced(
          p.dynamoReadRequestUnit,
          invocations * (controlReads + 2 * voteQueryUnits),
          'control and vote reads',
        ),
        priced(p.dynamoWriteRequestUnit, verdictWrites, 'verdict writes'),
      ],
    );

  const components: ComponentCost[] = [
    component(
      'prober',
      `Prober Lambda (${shape.watchers} watchers)`,
      `one invocation a minute per watcher; ${proberRounds} rounds of ${shape.probeIntervalMs / 1000} s, billed until the last round ends (${(proberMs / 1000).toFixed(1)} s at ${DEPLOYED.memoryMb.prober} MB arm64)`,
      [
        priced(p.lambdaRequest, proberInvocations, 'invocations'),
        ...duration('prober', gbSeconds('prober', proberInvocations, proberMs)),
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
    aggregator(aggregatorInvocations, `${a.recordsPerBatch} vote records a batch`, 0),
    component(
      'heartbeat',
      inProcess
        ? `Lease keeper (in the application's process, ${applicationRegions} application regions)`
        : `Lease heartbeat (${applicationRegions} application regions)`,
      `${inProcess ? `${ticks} renewals a minute from the application itself (no Lambda, no schedule)` : `${ticks} ticks a run, a run started every minute and lasting ${(runMs / 1000).toFixed(0)} s`}; the holder's conditional renewal is billed in ${shape.leaseReplicas} replica ${shape.leaseReplicas === 1 ? 'table' : 'tables'} (MRSC: one replicated write unit per full replica; a witness holds no table); the standby reads the lease each tick`,
      [
        ...(inProcess
          ? []
          : [
              priced(p.lambdaRequest, heartbeatInvocations, 'invocations'),
              ...duration('heartbeat', gbSeconds('heartbeat', heartbeatInvocations, heartbeatMs)),
            ]),
        priced(leaseWritePrice, leaseRenewals * shape.leaseReplicas, 'lease renewals × replicas'),
        priced(
          p.dynamoReadRequestUnit,
          leaseRenewals + MINUTES_PER_MONTH,
          'standby lease reads, holder first read',
        ),
      ],
    ),
    component(
      'readiness',
      `Readiness evaluation (${shape.controlRegions} control regions)`,
      `every ${DEPLOYED.readinessEveryMinutes} minutes in each control region, changing nothing: ${readinessRuns.toLocaleString('en-US')} runs, billed ${(a.readinessRunMs / 1000).toFixed(0)} s each (assumed) at ${DEPLOYED.memoryMb.step} MB; its IAM policy simulations and Slack's auth.test are free, its few strongly consistent reads negligible`,
      [
        priced(p.lambdaRequest, readinessRuns, 'invocations'),
        ...duration('aggregator', gbSeconds('step', readinessRuns, a.readinessRunMs)),
      ],
    ),
    component(
      'scheduler',
      'EventBridge Scheduler',
      `${scheduledLoops} every-minute schedules (probers${inProcess ? '' : ' and heartbeats'}) and the readiness schedule every ${DEPLOYED.readinessEveryMinutes} minutes in each control region`,
      [priced(p.schedulerInvocation, schedulerInvocations + readinessRuns, 'invocations')],
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
  const traffic = trafficComponent(shape, p);
  if (traffic) components.push(traffic);

  // No $0.00 rows: what costs nothing is said once, with the reason, and left out of the breakdown.
  const free: string[] = [];
  const billed = components.flatMap((c) => {
    const lines = c.lines.filter((l) => l.usd > 0);
    if (lines.length === 0) {
      free.push(`${c.title}: ${c.basis}`);
      return [];
    }
    return [{ ...c, lines, usd: lines.reduce((sum, l) => sum + l.usd, 0) }];
  });
  // Every record its own batch (votes that never share a poll, or a burst of verdict changes in an incident).
  const worstCase =
    a.recordsPerBatch > 1
      ? [
          aggregator(
            worstAggregatorInvocations,
            'worst case: every vote record its own batch',
            worstAggregatorInvocations,
          ),
        ]
      : [];
  const withPrice = pricedRegions([p]);

  return {
    monthlyUsd: billed.reduce((sum, c) => sum + c.usd, 0),
    worstCase,
    free,
    regions: {
      priced: (shape.regions ?? [p.region]).filter((r) => withPrice.includes(r)),
      unpriced: (shape.regions ?? []).filter((r) => !withPrice.includes(r)),
    },
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
    components: billed,
    perFailover: failoverCost(prices, a),
    prices,
    assumptions: a,
  };
}

/**
 * The traffic layer's own price, when it has one: an ARC cluster (traffic.mode arc) or an accelerator
 * (traffic.mode accelerator), by the hour. Route 53 health checks and records are priced per check and per
 * query, which this model leaves out. The accelerator's data transfer premium scales with the application's
 * traffic, which the configuration does not say: its rate is in the basis, not in the total.
 */
function trafficComponent(shape: DeploymentShape, p: PriceTable): ComponentCost | undefined {
  const hours = DAYS_PER_MONTH * 24;
  if (shape.trafficMode === 'arc') {
    return component(
      'traffic',
      'Route 53 ARC cluster',
      'one routing control cluster, billed by the hour whether or not it is used (one cluster can serve every application of the account)',
      [priced(p.arcClusterHour, hours, 'cluster-hours')],
    );
  }
  if (shape.trafficMode === 'accelerator') {
    const premium = p.acceleratorPremiumGb;
    return component(
      'traffic',
      'Global Accelerator',
      `one standard accelerator's fixed fee; not in the total: the data transfer premium on the application's own traffic, $${premium.usd} per ${premium.unit} (other region pairs cost more)`,
      [priced(p.acceleratorHour, hours, 'accelerator-hours')],
    );
  }
  return undefined;
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
  Fence: ['OldLeaseOver', 'WaitOutOldLease'],
  RpoGuard: ['RpoDecision'],
  // The hook loops run once each, also without hooks (the ASL cannot read the configuration).
  BeforePromoteHooks: ['BeforePromoteHooksDecision'],
  Promote: ['PromoteSubmitted'],
  RouteTraffic: ['RouteTrafficSubmitted', 'MoreTrafficSteps'],
  Verify: ['Verified'],
  AfterTrafficHooks: ['AfterTrafficHooksDecision'],
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
