import type { CutoverConfig } from './config.js';
import { crossFieldIssues, minimumLeaseTtlMs } from './config-rules.js';
import { loopRounds } from './cost-model.js';
import { HOOK_POLL_SECONDS, longestHookMs } from './hooks.js';

/**
 * The expected recovery time of a configuration in AWS (not in the drill, which compresses every timing): from the
 * moment the primary region stops answering until clients reach the standby, by phase, as best / expected / worst.
 * Pure: `cutover rto` and docs/rto.md print what this returns. Every AWS figure names its source in SOURCES; a
 * figure AWS does not publish is in ASSUMED and says so.
 *
 * The path modelled is the automatic one: a region outage seen by a quorum of watchers, no approval. Best and
 * worst are sums of each part's extremes, so the worst is an upper bound no single failover reaches.
 */

export const RTO_TARGET_MS = 60_000;

/** Milliseconds, in the best case, the expected case and the worst case. */
export interface Span {
  best: number;
  expected: number;
  worst: number;
}

export type SourceId =
  | 'r53-health-checks'
  | 'r53-insync'
  | 'ga-health-checks'
  | 'ga-failover'
  | 'rds-promote'
  | 'aurora-failover'
  | 'sfn-wait'
  | 'lambda-ddb-stream'
  | 'ddb-replication-latency'
  | 'arc-routing-control'
  | 'config'
  | 'cutover'
  | 'assumed';

/** Where each AWS figure comes from (docs/rto.md quotes them). */
export const SOURCES: Record<
  Exclude<SourceId, 'config' | 'cutover' | 'assumed'>,
  { fact: string; url: string }
> = {
  'r53-health-checks': {
    fact: 'Route 53 health checkers probe every 10 or 30 seconds; an endpoint changes status after failureThreshold (1-10) consecutive results; it is healthy when more than 18 % of checkers report it healthy; an HTTP(S) check must connect within 4 s and answer within 2 s',
    url: 'https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html',
  },
  'r53-insync': {
    fact: 'record changes "generally propagate to all Route 53 name servers within 60 seconds" (GetChange turns INSYNC)',
    url: 'https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html',
  },
  'ga-health-checks': {
    fact: 'Global Accelerator health checks run every 10 or 30 seconds (HealthCheckIntervalSeconds) with a threshold count of consecutive checks; static anycast IPs, so no client DNS cache to wait out',
    url: 'https://docs.aws.amazon.com/global-accelerator/latest/dg/about-endpoint-groups-health-check-options.html',
  },
  'ga-failover': {
    fact: 'routing "will start going back to healthy endpoints after about 30 seconds or so" when a region recovers',
    url: 'https://docs.aws.amazon.com/global-accelerator/latest/dg/about-endpoints-endpoint-weights.unhealthy-endpoints.html',
  },
  'rds-promote': {
    fact: 'RDS reboots a promoted read replica; "the promotion process can take several minutes or longer to complete, depending on the size of the read replica"',
    url: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html',
  },
  'aurora-failover': {
    fact: 'an Aurora global database can promote a secondary region to full read/write "in under a minute" (RTO of about a minute)',
    url: 'https://wellarchitectedlabs.com/reliability/disaster-recovery/workshop_4/5-failover/5.1-aurora/ (AWS Well-Architected Labs); API: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverGlobalCluster.html',
  },
  'sfn-wait': {
    fact: 'a Wait state\'s Seconds(Path) counts whole seconds "from when the state begins" (a Timestamp "truncates milliseconds"): the fence step waits the part of a second itself, then hands the whole seconds left to WaitOutOldLease, so the fence ends at expiresAt + maxSkew to the millisecond',
    url: 'https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-wait-state.html',
  },
  'lambda-ddb-stream': {
    fact: 'Lambda polls the shards of a DynamoDB stream "at a base rate of 4 times per second"',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html',
  },
  'ddb-replication-latency': {
    fact: 'global tables publish ReplicationLatency (ms, AWS/DynamoDB, dimensions TableName and ReceivingRegion) per source and destination pair, per minute',
    url: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html',
  },
  'arc-routing-control': {
    fact: "a routing control is set through any of the cluster's five regional endpoints; its routing control health check then steers Route 53 records",
    url: 'https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.html',
  },
};

/**
 * Figures AWS does not publish, and Cutover's own. Each is a guess to be replaced by a measurement; the output
 * labels every part built on one as "assumed".
 */
export const ASSUMED = {
  /** A vote written in a watcher region reaching the aggregator: global table replication, stream, Lambda poll. */
  voteDelivery: { best: 500, expected: 1_500, worst: 5_000 },
  /** EventBridge Scheduler starting the next minute's prober or heartbeat run, and its cold start. */
  scheduleStart: { best: 0, expected: 500, worst: 2_000 },
  /** Failover Requested on the bus, the rule, StartExecution. */
  workflowStart: { best: 200, expected: 500, worst: 2_000 },
  /** One Task state: a Lambda invocation (worst: a cold start) and its DynamoDB calls. */
  stepTask: { best: 100, expected: 300, worst: 1_500 },
  /** A Route 53 health check's new status reaching the DNS servers that answer for the zone. */
  healthToDns: { best: 0, expected: 10_000, worst: 30_000 },
  /** Global Accelerator acting on a changed endpoint health ("about 30 seconds" on recovery, SOURCES.ga-failover). */
  acceleratorShift: { best: 0, expected: 15_000, worst: 30_000 },
  /** UpdateRoutingControlState, trying the cluster's regional endpoints in turn until one answers. */
  arcUpdate: { best: 300, expected: 1_000, worst: 5_000 },
  /** RDS PromoteReadReplica until the instance is available and writable ("several minutes or longer"). */
  rdsPromote: { best: 60_000, expected: 300_000 },
  /** Aurora FailoverGlobalCluster until the target cluster has a writer ("under a minute"). */
  auroraFailover: { best: 30_000, expected: 60_000 },
  /** A fence action (reserved concurrency 0) into the failed region: 2 attempts of 3 s (functions/steps/aws-deps.ts). */
  fenceAction: { best: 200, expected: 6_000, worst: 6_000 },
} as const;

/**
 * The failover machine's own timing (statemachines/failover.asl.json, functions/steps/core/state.ts; the core may
 * not import the steps, so test/unit/rto.test.ts checks these against them).
 */
export const MACHINE = {
  /** Seconds between PromoteStatus polls (WaitPromote). */
  promotePollSeconds: 10,
  /** Seconds between RPO guard readings (WaitRpo), and how many readings before the policy decides. */
  rpoPollSeconds: 5,
  rpoAttempts: 6,
  /** CloudWatch replication lag metrics (ReplicaLag, AuroraGlobalDBRPOLag, ReplicationLatency): one a minute. */
  lagMetricPeriodSeconds: 60,
} as const;

export interface RtoPart extends Span {
  id: string;
  label: string;
  /** How the numbers follow from the configuration or the source, in a sentence. */
  basis: string;
  source: SourceId;
}

export type PhaseId = 'detection' | 'claim' | 'fence' | 'hooks' | 'promotion' | 'traffic';

export interface RtoPhase extends Span {
  id: PhaseId;
  title: string;
  parts: RtoPart[];
}

export type RtoCode = 'MEETS_TARGET' | 'EXPECTED_WITHIN_TARGET' | 'MISSES_TARGET' | 'CANNOT_MEET_TARGET';

export interface RtoLever {
  /** The settings changed, as `field: value` sentences. */
  settings: string[];
  expected: number;
  worst: number;
  /** Why this lever could not be applied as is, when it breaks another rule (then it is left out). */
  note?: string;
}

export interface RtoEstimate {
  application: string;
  targetMs: number;
  engine: 'rds' | 'aurora' | 'dynamodb' | 'none';
  trafficMode: NonNullable<CutoverConfig['traffic']>['mode'] | 'none';
  phases: RtoPhase[];
  total: Span;
  /** Things the numbers leave out on purpose (a person's approval, the RPO policy), in sentences. */
  caveats: string[];
  levers: RtoLever[];
  verdict: { code: RtoCode; reason: string };
}

const span = (best: number, expected: number, worst: number): Span => ({ best, expected, worst });
const same = (ms: number): Span => span(ms, ms, ms);
const sum = (xs: readonly Span[]): Span =>
  xs.reduce((a, x) => span(a.best + x.best, a.expected + x.expected, a.worst + x.worst), same(0));
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

function part(id: string, label: string, s: Span, source: SourceId, basis: string): RtoPart {
  return { id, label, ...s, source, basis };
}

function phase(id: PhaseId, title: string, parts: RtoPart[]): RtoPhase {
  return { id, title, parts, ...sum(parts) };
}

/** The phases of one failover of this configuration. */
export function rtoPhases(c: CutoverConfig): RtoPhase[] {
  const detection = detectionPhase(c);
  const claim = claimPhase(c);
  const fence = fencePhase(c, sum([detection, claim]));
  const hooks = c.hooks?.beforePromote.length ? [hooksPhase(c)] : [];
  return [detection, claim, fence, ...hooks, promotionPhase(c), trafficPhase(c)];
}

/**
 * The beforePromote hooks run together after the RPO guard's fence, before the promotion (functions/core/hooks.ts):
 * at best the standby is already at size (one reading), at worst the longest hook runs out its timeoutMs and is
 * read once more. How long a real scale-up takes is the application's: half the longest timeout is assumed.
 */
function hooksPhase(c: CutoverConfig): RtoPhase {
  const task = ASSUMED.stepTask;
  const longest = longestHookMs(c, 'beforePromote');
  const names = c.hooks!.beforePromote.map((h) => h.name).join(', ');
  return phase('hooks', 'Hooks: the beforePromote hooks ready the standby', [
    part(
      'hooks-before-promote',
      `beforePromote hooks (${names})`,
      span(task.best, Math.round(longest / 2), longest + HOOK_POLL_SECONDS * 1_000 + task.worst),
      'config',
      `they run together: best, already at size; worst, the longest timeoutMs (${seconds(longest)}) plus one reading ${HOOK_POLL_SECONDS} s later; expected, assumed half of it`,
    ),
  ]);
}

function detectionPhase(c: CutoverConfig): RtoPhase {
  const i = c.probe.intervalMs;
  const n = new Set(c.watchers).size;
  const k = c.quorum;
  // Watchers probe on their own clocks: the quorum-th of n uniform phases is k/(n+1) of an interval away.
  const firstProbe = span(0, Math.round((k / (n + 1)) * i), i);
  // The streak must cover the debounce window by observation, and observations come once an interval.
  const debounce = Math.ceil(c.debounceMs / i) * i;
  // The prober stops a round short of its minute and the next run starts on the next minute (cost-model.ts).
  const rounds = loopRounds(60_000, i, c.probe.responseTimeoutMs + 1_000);
  const minuteGap = rounds > 0 ? Math.max(0, 60_000 - (rounds - 1) * i - i) : 0;
  return phase('detection', 'Detection: the quorum sees the primary down for the debounce window', [
    part(
      'first-probe',
      'next probe of the quorum-th watcher',
      firstProbe,
      'config',
      `${n} watchers probe every ${seconds(i)} on their own clocks; the quorum's last (${k} of ${n}) probes ${k}/${n + 1} of an interval after the failure, on average`,
    ),
    part(
      'probe-fails',
      'the probe fails',
      span(0, c.probe.connectTimeoutMs, c.probe.responseTimeoutMs),
      'config',
      `refused at once, or no connection within probe.connectTimeoutMs (${seconds(c.probe.connectTimeoutMs)}), or no answer within probe.responseTimeoutMs (${seconds(c.probe.responseTimeoutMs)})`,
    ),
    part(
      'debounce',
      'unhealthy for the whole debounce window',
      same(debounce),
      'config',
      `debounceMs ${seconds(c.debounceMs)} spanned by observations ${seconds(i)} apart: ${Math.ceil(c.debounceMs / i)} more probes`,
    ),
    part(
      'minute-boundary',
      'a minute boundary inside the window',
      span(0, 0, minuteGap + ASSUMED.scheduleStart.worst),
      'assumed',
      `probers start once a minute (EventBridge Scheduler) and stop a round short of it; the worst case waits ${seconds(minuteGap)} more than an interval for the next run, plus its start`,
    ),
    part(
      'vote-delivery',
      'votes reach the aggregator',
      span(ASSUMED.voteDelivery.best, ASSUMED.voteDelivery.expected, ASSUMED.voteDelivery.worst),
      'lambda-ddb-stream',
      'global table replication into the control region, its stream, Lambda polling 4 times a second (replication delay assumed)',
    ),
    part(
      'staleness',
      'vote staleness',
      same(0),
      'config',
      `adds nothing while watchers run: a vote every ${seconds(i)} stays inside voteStalenessMs (${seconds(c.voteStalenessMs)}); a watcher that stops voting abstains, and a quorum needs others`,
    ),
  ]);
}

function claimPhase(c: CutoverConfig): RtoPhase {
  const task = span(ASSUMED.stepTask.best, ASSUMED.stepTask.expected, ASSUMED.stepTask.worst);
  const parts = [
    part(
      'start',
      'Failover Requested starts the state machine',
      span(ASSUMED.workflowStart.best, ASSUMED.workflowStart.expected, ASSUMED.workflowStart.worst),
      'assumed',
      'the aggregator puts the event; an EventBridge rule starts the execution',
    ),
    part('claim', 'Claim', task, 'assumed', 'one Lambda task: the conditional claim of the incident'),
    part('recheck', 'RecheckVotes', task, 'assumed', 'one Lambda task: the votes read again'),
  ];
  if (c.approval.ambiguousPolicy === 'ask') {
    parts.push(
      part(
        'approval',
        'approval (not counted)',
        same(0),
        'config',
        `an ambiguous verdict (votes split, standby unhealthy, lag over budget, cool-down) waits for a person, up to approval.timeoutSeconds = ${c.approval.timeoutSeconds} s; not in these numbers`,
      ),
    );
  }
  return phase(
    'claim',
    'Claim and re-check: start the machine, claim the incident, re-check the votes',
    parts,
  );
}

function fencePhase(c: CutoverConfig, before: Span): RtoPhase {
  const l = c.lease;
  const task = span(ASSUMED.stepTask.best, ASSUMED.stepTask.expected, ASSUMED.stepTask.worst);
  const actions = c.fence?.lambdaFunctions.length
    ? span(ASSUMED.fenceAction.best, ASSUMED.fenceAction.expected, ASSUMED.fenceAction.worst)
    : same(0);
  // A dead primary stopped renewing when it failed, on average half a renewal interval after its last one; by
  // the time the fence runs, part or all of its lease has run out. A partitioned primary that still reaches the
  // lease authority renewed just before the revoke: the whole lease and the skew are left.
  const leftAfter = (elapsed: number, renewedAgo: number) =>
    Math.max(0, l.ttlMs + l.maxSkewMs - renewedAgo - elapsed);
  const expectedLeft = leftAfter(before.expected + task.expected, l.renewIntervalMs / 2);
  const wait = span(0, Math.max(0, expectedLeft - actions.expected), l.ttlMs + l.maxSkewMs);
  const parts = [
    part(
      'stop-traffic',
      'StopTraffic',
      task,
      'assumed',
      'one Lambda task; no Route 53 API call on this path',
    ),
    part(
      'revoke',
      'Fence: revoke the lease (epoch + 1)',
      task,
      'assumed',
      'one Lambda task: a conditional write',
    ),
  ];
  if (c.fence?.lambdaFunctions.length) {
    parts.push(
      part(
        'fence-actions',
        'fence actions',
        actions,
        'assumed',
        `reserved concurrency 0 on ${c.fence.lambdaFunctions.length} function(s) in the failed region, whose API may time out (2 × 3 s)`,
      ),
    );
  }
  parts.push(
    part(
      'wait-out-lease',
      'wait out the old lease',
      wait,
      'sfn-wait',
      `until expiresAt + lease.maxSkewMs (a sub-second sleep in the step, then a whole-second Wait); best: the dead primary's lease ran out during detection; expected: it stopped renewing at the failure (ttl ${seconds(l.ttlMs)} + skew ${seconds(l.maxSkewMs)} − ${seconds(l.renewIntervalMs / 2)} since its last renewal − the time already passed); worst: a partitioned primary renewed just before the revoke`,
    ),
  );
  return phase('fence', 'Fence: revoke the lease and wait out the old one', parts);
}

function promotionPhase(c: CutoverConfig): RtoPhase {
  const task = span(ASSUMED.stepTask.best, ASSUMED.stepTask.expected, ASSUMED.stepTask.worst);
  const db = c.database;
  const window = (MACHINE.rpoAttempts - 1) * MACHINE.rpoPollSeconds * 1_000;
  const halfPeriod = (MACHINE.lagMetricPeriodSeconds * 1_000) / 2;
  const parts: RtoPart[] = [];
  if (!db) {
    parts.push(part('rpo-guard', 'RpoGuard', task, 'assumed', 'no database: nothing to measure or promote'));
  } else {
    // A reading counts only when newer than the fence. RDS and Aurora publish theirs in the standby's region, a
    // minute apart; a global table's comes from the failed source region, which in an outage publishes none.
    const dynamo = db.engine === 'dynamodb';
    parts.push(
      part(
        'rpo-guard',
        'RpoGuard: a lag reading newer than the fence',
        span(task.best, dynamo ? window : Math.min(halfPeriod, window), window),
        dynamo ? 'ddb-replication-latency' : 'cutover',
        dynamo
          ? `ReplicationLatency of ${db.tables?.join(', ')} comes from the failed source region: in an outage none is newer than the fence, so the guard reads ${MACHINE.rpoAttempts} times ${MACHINE.rpoPollSeconds} s apart (${seconds(window)}) and the policy decides`
          : `the lag metric comes once a minute: half a minute for one newer than the fence, on average, but the guard reads only ${MACHINE.rpoAttempts} times ${MACHINE.rpoPollSeconds} s apart (${seconds(window)}) before the policy decides`,
      ),
    );
  }
  const timeout = (db?.promoteTimeoutSeconds ?? 900) * 1_000;
  if (db?.engine === 'rds') {
    parts.push(
      part(
        'promote',
        'PromoteReadReplica until writable',
        span(ASSUMED.rdsPromote.best, ASSUMED.rdsPromote.expected, timeout),
        'rds-promote',
        `"several minutes or longer"; worst: database.promoteTimeoutSeconds (${db.promoteTimeoutSeconds} s), after which the failover fails`,
      ),
    );
  } else if (db?.engine === 'aurora') {
    parts.push(
      part(
        'promote',
        'FailoverGlobalCluster until writable',
        span(ASSUMED.auroraFailover.best, ASSUMED.auroraFailover.expected, timeout),
        'aurora-failover',
        `"under a minute"; worst: database.promoteTimeoutSeconds (${db.promoteTimeoutSeconds} s), after which the failover fails`,
      ),
    );
  } else {
    parts.push(
      part(
        'promote',
        db ? 'nothing to promote' : 'no database',
        task,
        'assumed',
        db
          ? 'every replica of a global table takes writes: one Lambda task reads that and promotes nothing'
          : 'one Lambda task; nothing to promote',
      ),
    );
  }
  if (db && db.engine !== 'dynamodb') {
    const poll = MACHINE.promotePollSeconds * 1_000;
    parts.push(
      part(
        'promote-poll',
        'PromoteStatus polls',
        span(0, poll / 2, poll),
        'cutover',
        `the machine looks every ${MACHINE.promotePollSeconds} s`,
      ),
    );
  }
  parts.push(part('grant', 'GrantLease', task, 'assumed', 'one Lambda task: the conditional grant'));
  return phase('promotion', 'Promotion: RPO guard, promote the standby database, grant the lease', parts);
}

/** The time a checker needs to change an endpoint's status once the endpoint changed: threshold results in a row. */
function checkerSpan(intervalSeconds: number, threshold: number): Span {
  const i = intervalSeconds * 1_000;
  return span((threshold - 1) * i, Math.round((threshold - 0.5) * i), threshold * i);
}

function trafficPhase(c: CutoverConfig): RtoPhase {
  const t = c.traffic;
  const task = span(ASSUMED.stepTask.best, ASSUMED.stepTask.expected, ASSUMED.stepTask.worst);
  if (!t) {
    return phase('traffic', 'Traffic: nothing configured', [
      part('none', 'no traffic section', same(0), 'config', 'clients must find the new region by themselves'),
    ]);
  }
  const ttl = t.ttlSeconds * 1_000;
  const resolvers = part(
    'resolver-cache',
    'resolvers cache the old answer',
    span(0, ttl / 2, ttl),
    'config',
    `traffic.ttlSeconds ${t.ttlSeconds}: a resolver may hold the old answer that long (some hold it longer)`,
  );
  const toDns = part(
    'health-to-dns',
    'health status reaches the DNS servers',
    span(ASSUMED.healthToDns.best, ASSUMED.healthToDns.expected, ASSUMED.healthToDns.worst),
    'assumed',
    'Route 53 does not publish how fast a health check status reaches its name servers',
  );
  const route = part(
    'route-step',
    'RouteTraffic',
    task,
    'assumed',
    'one Lambda task: the new holder check answers 200',
  );
  if (t.mode === 'accelerator') {
    const a = t.accelerator ?? { healthCheckIntervalSeconds: 10, thresholdCount: 3 };
    return phase('traffic', 'Traffic: Global Accelerator health checks follow the lease', [
      route,
      part(
        'ga-health',
        'endpoint health checks see the new holder',
        checkerSpan(a.healthCheckIntervalSeconds, a.thresholdCount),
        'ga-health-checks',
        `every ${a.healthCheckIntervalSeconds} s, ${a.thresholdCount} in a row (traffic.accelerator)`,
      ),
      part(
        'ga-shift',
        'the accelerator moves traffic',
        span(
          ASSUMED.acceleratorShift.best,
          ASSUMED.acceleratorShift.expected,
          ASSUMED.acceleratorShift.worst,
        ),
        'ga-failover',
        'AWS says about 30 s for routing to return to a healthy endpoint; no DNS cache to wait out',
      ),
    ]);
  }
  if (t.mode === 'arc') {
    return phase('traffic', 'Traffic: an ARC routing control steers Route 53', [
      part(
        'arc-update',
        'UpdateRoutingControlState',
        span(ASSUMED.arcUpdate.best, ASSUMED.arcUpdate.expected, ASSUMED.arcUpdate.worst),
        'arc-routing-control',
        'one call to one of the five regional cluster endpoints, the next one if it does not answer (time assumed)',
      ),
      toDns,
      resolvers,
    ]);
  }
  if (t.mode === 'records') {
    return phase('traffic', 'Traffic: a record change through the Route 53 API', [
      part(
        'record-change',
        'ChangeResourceRecordSets until INSYNC',
        span(1_000, 30_000, 60_000),
        'r53-insync',
        '"generally within 60 seconds"; the API is served from us-east-1 only, a control plane on the recovery path',
      ),
      part(
        'insync-poll',
        'RouteTrafficStatus polls',
        span(0, 2_500, 5_000),
        'cutover',
        'the machine looks every 5 s',
      ),
      resolvers,
    ]);
  }
  const h = t.healthCheck;
  return phase('traffic', 'Traffic: Route 53 health checks follow the lease', [
    route,
    part(
      'r53-health',
      'health checkers see the new holder',
      checkerSpan(h.requestIntervalSeconds, h.failureThreshold),
      'r53-health-checks',
      `every ${h.requestIntervalSeconds} s, ${h.failureThreshold} in a row (traffic.healthCheck), from checkers that do not coordinate`,
    ),
    toDns,
    resolvers,
  ]);
}

export function engineOf(c: CutoverConfig): RtoEstimate['engine'] {
  return c.database?.engine ?? 'none';
}

function caveatsOf(c: CutoverConfig): string[] {
  const out: string[] = [];
  const window = (MACHINE.rpoAttempts - 1) * MACHINE.rpoPollSeconds;
  const policy = c.approval.ambiguousPolicy;
  const then =
    policy === 'ask'
      ? 'a person decides (approval.ambiguousPolicy "ask"), and the wait for them is not counted'
      : policy === 'proceed'
        ? 'the failover proceeds (approval.ambiguousPolicy "proceed"), accepting the unknown loss'
        : 'the failover aborts (approval.ambiguousPolicy "abort") and nothing recovers';
  if (c.database?.engine === 'dynamodb') {
    out.push(
      `In a region outage the global tables' ReplicationLatency, published by the failed region, has no reading newer than the fence: after ${window} s of readings ${then}.`,
    );
  } else if (c.database && MACHINE.lagMetricPeriodSeconds / 2 > window) {
    out.push(
      `The replication lag metric comes once a minute, so more often than not no reading newer than the fence arrives within the RPO guard's ${window} s: then ${then}.`,
    );
  }
  if (policy === 'ask') {
    out.push('An ambiguous verdict waits for a person; that wait is not in these numbers.');
  }
  if (c.hooks?.afterTraffic.length) {
    out.push(
      'The afterTraffic hooks run once clients already reach the standby: they are not in these numbers.',
    );
  }
  if (c.traffic?.mode === 'records') {
    out.push(
      "Mode records depends on Route 53's API, served from us-east-1 only: when the disaster takes it down, traffic does not move.",
    );
  }
  if (c.traffic && c.traffic.mode !== 'accelerator') {
    out.push(
      'Resolvers and clients that cache past the record TTL (some JVMs, some ISPs) take longer than the TTL shown.',
    );
  }
  return out;
}

/** The RTO of a configuration, by phase, against the 60 s target, with the settings that would bring it under. */
export function estimateRto(c: CutoverConfig): RtoEstimate {
  const base = baseEstimate(c);
  const levers = leversOf(c);
  return { ...base, levers, verdict: verdictOf(c, base, levers) };
}

function baseEstimate(c: CutoverConfig): Omit<RtoEstimate, 'levers' | 'verdict'> {
  const phases = rtoPhases(c);
  return {
    application: c.application,
    targetMs: RTO_TARGET_MS,
    engine: engineOf(c),
    trafficMode: c.traffic?.mode ?? 'none',
    phases,
    total: sum(phases),
    caveats: caveatsOf(c),
  };
}

function verdictOf(
  c: CutoverConfig,
  e: Omit<RtoEstimate, 'levers' | 'verdict'>,
  levers: RtoLever[],
): RtoEstimate['verdict'] {
  const t = e.total;
  const target = seconds(RTO_TARGET_MS);
  if (t.worst <= RTO_TARGET_MS) {
    return {
      code: 'MEETS_TARGET',
      reason: `meets the ${target} target even in the worst case (${seconds(t.worst)})`,
    };
  }
  if (t.expected <= RTO_TARGET_MS) {
    return {
      code: 'EXPECTED_WITHIN_TARGET',
      reason: `expected ${seconds(t.expected)} is within the ${target} target; the worst case, ${seconds(t.worst)}, is not`,
    };
  }
  const all = fastest(levers);
  const promotion = e.phases.find((p) => p.id === 'promotion')!;
  if (promotion.best >= RTO_TARGET_MS || !all || all.expected > RTO_TARGET_MS) {
    const why =
      promotion.best >= RTO_TARGET_MS
        ? `${c.database?.engine === 'rds' ? 'RDS read replica promotion' : 'promotion'} alone takes at least ${seconds(promotion.best)} (expected ${seconds(promotion.expected)})`
        : `with the fastest settings below the expected RTO is still ${seconds(all?.expected ?? t.expected)}, of which ${largest(c, all)}`;
    return {
      code: 'CANNOT_MEET_TARGET',
      reason: `DOES NOT MEET the ${target} target: expected ${seconds(t.expected)}, worst ${seconds(t.worst)}; no setting in this configuration brings it under, because ${why}`,
    };
  }
  return {
    code: 'MISSES_TARGET',
    reason: `DOES NOT MEET the ${target} target: expected ${seconds(t.expected)}, worst ${seconds(t.worst)}; ${all.settings.join(', ')} would bring the expected to ${seconds(all.expected)}`,
  };
}

/** The part that costs most in the expected case, as a phrase: "RpoGuard: ... takes 25 s". */
function largest(c: CutoverConfig, lever: RtoLever | undefined): string {
  const parts = rtoPhases(lever ? (leverConfigs.get(lever) ?? c) : c).flatMap((p) => p.parts);
  const top = parts.reduce((a, p) => (p.expected > a.expected ? p : a));
  return `${top.label} takes ${seconds(top.expected)}`;
}

/** The configuration behind each lever row, for the verdict's reason. */
const leverConfigs = new WeakMap<RtoLever, CutoverConfig>();

interface Change {
  settings: string[];
  /** The settings as applied, when they depend on the changes applied before (debounce after the interval). */
  label?: (applied: CutoverConfig) => string[];
  apply: (c: CutoverConfig) => void;
  /** Another traffic layer rather than a setting: its own row on top of the settings, never among them. */
  modeSwitch?: true;
}

/** The knobs that shorten a failover, each at the shortest value the configuration rules allow with the rest. */
function changesFor(c: CutoverConfig): Change[] {
  const out: Change[] = [];
  const interval = 5_000;
  if (c.probe.intervalMs > interval) {
    const response = Math.min(c.probe.responseTimeoutMs, interval - 1_000);
    const connect = Math.min(c.probe.connectTimeoutMs, response);
    out.push({
      settings: [
        `probe.intervalMs: ${interval}`,
        ...(response !== c.probe.responseTimeoutMs ? [`probe.responseTimeoutMs: ${response}`] : []),
        ...(connect !== c.probe.connectTimeoutMs ? [`probe.connectTimeoutMs: ${connect}`] : []),
      ],
      apply: (x) => {
        x.probe = {
          ...x.probe,
          intervalMs: interval,
          responseTimeoutMs: response,
          connectTimeoutMs: connect,
        };
      },
    });
  }
  // Twice the probe interval in effect when applied: the shortest window the rules allow (I6).
  if (c.debounceMs > 2 * Math.min(c.probe.intervalMs, interval)) {
    out.push({
      settings: [`debounceMs: ${2 * c.probe.intervalMs}`],
      label: (x) => [`debounceMs: ${x.debounceMs}`],
      apply: (x) => {
        x.debounceMs = Math.min(x.debounceMs, 2 * x.probe.intervalMs);
        x.reopenAfterMs = Math.max(x.reopenAfterMs, x.debounceMs);
      },
    });
  }
  const l = c.lease;
  const ttl = Math.ceil(minimumLeaseTtlMs(l, c.probe) / 1_000) * 1_000;
  if (l.ttlMs > ttl) {
    out.push({
      settings: [`lease.ttlMs: ${ttl}`],
      apply: (x) => {
        x.lease = { ...x.lease, ttlMs: ttl };
      },
    });
  }
  const t = c.traffic;
  if (t && t.mode !== 'accelerator') {
    if (t.ttlSeconds > 10) {
      out.push({
        settings: ['traffic.ttlSeconds: 10'],
        apply: (x) => {
          x.traffic = { ...x.traffic!, ttlSeconds: 10 };
        },
      });
    }
    const h = t.healthCheck;
    if (t.mode === 'health-check' && (h.requestIntervalSeconds !== 10 || h.failureThreshold !== 1)) {
      out.push({
        settings: [
          'traffic.healthCheck.requestIntervalSeconds: 10',
          'traffic.healthCheck.failureThreshold: 1',
        ],
        apply: (x) => {
          x.traffic = {
            ...x.traffic!,
            healthCheck: { ...x.traffic!.healthCheck, requestIntervalSeconds: 10, failureThreshold: 1 },
          };
        },
      });
    }
    out.push({
      modeSwitch: true,
      settings: [
        'traffic.mode: accelerator (with traffic.accelerator endpoints, checks every 10 s, threshold 1)',
      ],
      apply: (x) => {
        x.traffic = {
          ...x.traffic!,
          mode: 'accelerator',
          accelerator: {
            endpoints: x.traffic!.accelerator?.endpoints ?? {},
            healthCheckIntervalSeconds: 10,
            thresholdCount: 1,
          },
        };
      },
    });
  } else if (t?.mode === 'accelerator') {
    const a = t.accelerator;
    if (a?.healthCheckIntervalSeconds !== 10 || a?.thresholdCount !== 1) {
      out.push({
        settings: [
          'traffic.accelerator.healthCheckIntervalSeconds: 10',
          'traffic.accelerator.thresholdCount: 1',
        ],
        apply: (x) => {
          x.traffic = {
            ...x.traffic!,
            accelerator: { endpoints: a?.endpoints ?? {}, healthCheckIntervalSeconds: 10, thresholdCount: 1 },
          };
        },
      });
    }
  }
  return out;
}

/**
 * Each knob alone; then every setting that passes the configuration rules at once; then those with the traffic
 * layer switched to Global Accelerator. A candidate that breaks a rule is kept with a note and left out of the
 * combinations. The accelerator's endpoints are the operator's to supply, so the rules about them are not held
 * against that lever.
 */
function leversOf(c: CutoverConfig): RtoLever[] {
  const changes = changesFor(c);
  const row = (applied: Change[]): RtoLever => {
    const x = structuredClone(c);
    for (const change of applied) change.apply(x);
    const total = sum(rtoPhases(x));
    const issues = crossFieldIssues(x).filter((i) => !i.field.startsWith('traffic.accelerator'));
    const lever: RtoLever = {
      settings: applied.flatMap((a) => (a.label ? a.label(x) : a.settings)),
      expected: total.expected,
      worst: total.worst,
      ...(issues.length ? { note: issues.map((i) => `${i.field} ${i.message}`).join('; ') } : {}),
    };
    leverConfigs.set(lever, x);
    return lever;
  };
  const rows = changes.map((change) => row([change]));
  const valid = changes.filter((_, i) => rows[i]?.note === undefined);
  const settings = valid.filter((v) => !v.modeSwitch);
  const modeSwitch = valid.filter((v) => v.modeSwitch);
  if (settings.length > 1) rows.push(row(settings));
  if (modeSwitch.length && settings.length) {
    // Under the accelerator the record TTL and Route 53 health checks no longer matter.
    rows.push(row([...settings.filter((v) => !v.settings[0]?.startsWith('traffic.')), ...modeSwitch]));
  }
  return rows;
}

/** The fastest lever that passes the configuration rules. */
function fastest(levers: readonly RtoLever[]): RtoLever | undefined {
  return levers
    .filter((l) => l.note === undefined)
    .reduce<RtoLever | undefined>((a, l) => (a === undefined || l.expected < a.expected ? l : a), undefined);
}
