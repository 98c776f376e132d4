import { z } from 'zod';
import {
  CHECK_KINDS,
  CHECK_NAME,
  CHECK_WEIGHTS,
  DEEP_HEALTH_PATH,
  HEALTH_ANSWER_MARGIN_MS,
  MAX_CHECKS,
} from './health.js';
import { isCommercialRegion, regionProblem } from './regions.js';

// A commercial AWS region as AWS spells it (functions/core/regions.ts): a typo such as eu-centrl-1 deploys nothing
// there and only shows at incident time, so it is refused with the region it most likely meant.
const regionName = z.string().refine((v): boolean => isCommercialRegion(v), {
  error: (issue) =>
    typeof issue.input === 'string'
      ? regionProblem(issue.input)
      : 'must be an AWS region code such as us-east-1',
});

const ms = (_what: string) => z.number().int('must be a whole number of milliseconds').positive();

const applicationRegion = z
  .object({
    region: regionName,
    // The probe speaks HTTP only; z.url() alone would also take ftp:, file: or mailto:.
    healthUrl: z.url({
      protocol: /^https?$/,
      error: 'must be an http(s) URL of the region-specific health endpoint',
    }),
    /** Route 53 record set identifier of this region's record (failover or weighted routing). */
    setIdentifier: z.string().min(1).optional(),
    /**
     * The holder check: 200 only while this region holds an unexpired lease, 503 otherwise (issue 10). Served by
     * the application from its LeaseGuard (`/cutover/holder`, the default: this URL's origin) or by Cutover's
     * holder-check function URL in a lease-authority region. The traffic layer's health checks poll it.
     */
    holderCheckUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL of the region-specific holder check' })
      .optional(),
    /** RDS instance identifier (engine rds) or Aurora cluster ARN (engine aurora) in this region; none for dynamodb. */
    databaseId: z.string().min(1).optional(),
  })
  .strict();

const leaseAuthority = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('mrsc'),
      regions: z.array(regionName).min(2).max(3),
      witnessRegion: regionName.optional(),
    })
    .strict(),
  z.object({ mode: z.literal('arbiter'), region: regionName }).strict(),
]);

/**
 * A hook's region: `target` (the region a run moves to) or `source` (the region it moves away from: in an unplanned
 * failover, the region that may be down), or a fixed AWS region.
 */
const hookRegion = z
  .string()
  .refine((v): boolean => v === 'target' || v === 'source' || isCommercialRegion(v), {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `must be "target", "source" or a commercial AWS region: ${regionProblem(issue.input)}`
        : 'must be "target", "source" or an AWS region name such as us-east-1',
  });

const hookCommon = {
  /** Unique across both lists: it names the hook in the audit trail and the report. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1-40 characters of lowercase letters, digits and dashes'),
  region: hookRegion,
  /** How long the hook may take, from its first call until it is ready; past it, onFailure decides. */
  timeoutMs: ms('timeoutMs'),
  /**
   * What a failed or timed-out hook does: `abort` ends the run (after the traffic moved: the failure path, which
   * pages), `continue` records it and goes on, `ask` (afterTraffic) asks approval.slack's approvers to continue or
   * fail, a timeout being fail. A beforePromote hook must be `continue` (functions/core/hooks.ts,
   * hookIssues): it runs after the fence, where stopping would leave no region that can write.
   */
  onFailure: z.enum(['abort', 'continue', 'ask'], { error: 'must be "abort", "continue" or "ask"' }),
};

const count = (what: string) => z.number().int(`${what} must be a whole number`).nonnegative();

const hook = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('ecs'),
        ...hookCommon,
        cluster: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS cluster name'),
        service: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS service name'),
        desiredCount: count('desiredCount'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('autoscaling'),
        ...hookCommon,
        groupName: z.string().min(1).max(255),
        desiredCapacity: count('desiredCapacity'),
        /** Raised (UpdateAutoScalingGroup) with the desired capacity, when the group's minimum would refuse it. */
        minSize: count('minSize').optional(),
      })
      .strict(),
    z
      .object({
        kind: z.literal('lambda-provisioned-concurrency'),
        ...hookCommon,
        functionName: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a Lambda function name (not an ARN)'),
        /** An alias or a published version: provisioned concurrency cannot be set on $LATEST. */
        qualifier: z
          .string()
          .regex(/^(?!\$LATEST$)[A-Za-z0-9_$-]{1,128}$/, 'must be an alias or a version number, not $LATEST'),
        count: z.number().int('count must be a whole number').positive(),
      })
      .strict(),
    z
      .object({
        kind: z.literal('lambda'),
        ...hookCommon,
        /** The function's name, or its ARN when the hook's region is a fixed region (an ARN names one region). */
        function: z.string().min(1).max(170),
        /** Sent as the event, with `cutover` (incident, phase, hook, regions, an idempotency key) added. */
        payload: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
  ],
  { error: 'must have kind "ecs", "autoscaling", "lambda-provisioned-concurrency" or "lambda"' },
);

/**
 * The health contract (issue 15, docs/health.md): the deep checks the application's `/cutover/health` runs, each
 * under its own timeout, and what a failure weighs in the decision. Absent: the watchers probe healthUrl only.
 */
const healthCheck = z
  .object({
    name: z
      .string()
      .regex(CHECK_NAME, 'must be 1-32 lowercase letters, digits or dashes, starting with a letter'),
    kind: z.enum(CHECK_KINDS, { error: `must be one of ${CHECK_KINDS.join(', ')}` }),
    weight: z.enum(CHECK_WEIGHTS, { error: `must be one of ${CHECK_WEIGHTS.join(', ')}` }),
    timeoutMs: ms('health.checks[].timeoutMs').default(1_000),
    /** kind replication-lag: the standby's lag above which the check fails; default rpoBudgetMs. */
    maxLagMs: z.number().int().nonnegative().optional(),
    /** kind queue-backlog: ApproximateAgeOfOldestMessage above which the check fails; default 300. */
    maxAgeSeconds: z.number().int().positive().optional(),
    /** kind dependency: the URL a GET must answer 2xx within the timeout. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of the dependency' }).optional(),
  })
  .strict();

const healthSection = z
  .object({
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/, 'must be an absolute URL path such as /cutover/health')
      .default(DEEP_HEALTH_PATH),
    checks: z
      .array(healthCheck)
      .min(1, 'needs at least one check (or leave health out)')
      .max(MAX_CHECKS, `at most ${MAX_CHECKS} checks: each vote carries every result`),
  })
  .strict()
  .optional();

export type HealthConfig = z.output<typeof healthSection>;

/**
 * The health section's rules that need other fields. Self-contained: config-rules.ts calls it once the health and
 * probe sections parsed.
 */
export function healthIssues(c: {
  health?: HealthConfig;
  probe: { responseTimeoutMs: number };
}): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const h = c.health;
  if (!h) return out;
  if (h.path === '/cutover/holder') {
    out.push({ field: 'health.path', message: "must differ from the holder check's path /cutover/holder" });
  }
  const seen = new Set<string>();
  h.checks.forEach((check, i) => {
    const at = `health.checks[${i}]`;
    if (seen.has(check.name)) out.push({ field: `${at}.name`, message: `names ${check.name} twice` });
    seen.add(check.name);
    // The handler answers after its slowest check: a check that could outlast the watcher's wait turns every
    // slow-but-passing answer into a timeout vote.
    const limit = c.probe.responseTimeoutMs - HEALTH_ANSWER_MARGIN_MS;
    if (check.timeoutMs > limit) {
      out.push({
        field: `${at}.timeoutMs`,
        message: `${check.timeoutMs} ms is longer than probe.responseTimeoutMs − ${HEALTH_ANSWER_MARGIN_MS} ms (${limit} ms): the watchers would give up before the check answers; lower it or raise probe.responseTimeoutMs`,
      });
    }
    if (check.kind === 'replication-lag' && check.weight === 'unhealthy') {
      out.push({
        field: `${at}.weight`,
        message:
          'replication-lag must not be unhealthy: a lagging standby would make the primary unhealthy and fail over to the very standby that lags; use ineligible',
      });
    }
    if (check.kind === 'dependency' && check.url === undefined) {
      out.push({ field: `${at}.url`, message: 'is required for kind dependency (the URL to GET)' });
    }
    if (check.kind !== 'dependency' && check.url !== undefined) {
      out.push({ field: `${at}.url`, message: `is only for kind dependency, not ${check.kind}` });
    }
    if (check.kind !== 'queue-backlog' && check.maxAgeSeconds !== undefined) {
      out.push({
        field: `${at}.maxAgeSeconds`,
        message: `is only for kind queue-backlog, not ${check.kind}`,
      });
    }
    if (check.kind !== 'replication-lag' && check.maxLagMs !== undefined) {
      out.push({ field: `${at}.maxLagMs`, message: `is only for kind replication-lag, not ${check.kind}` });
    }
    if (check.kind === 'gameday' && check.weight !== 'unhealthy') {
      out.push({
        field: `${at}.weight`,
        message: `must be unhealthy for kind gameday, got ${check.weight}: the game day fails the region only through an unhealthy check`,
      });
    }
  });
  const gamedays = h.checks.filter((c) => c.kind === 'gameday');
  if (gamedays.length > 1) {
    out.push({
      field: `health.checks[${h.checks.lastIndexOf(gamedays[1]!)}].kind`,
      message: 'gameday appears twice: one game-day check reads the one marker',
    });
  }
  return out;
}

/**
 * The game day (docs/gameday.md, `cutover gameday`): what its FIS fault starts. Absent: `--fault health` only.
 */
const gamedaySection = z
  .object({
    /** An AWS FIS experiment template in the primary's region that fails the primary (`--fault fis`). */
    fisExperimentTemplateId: z
      .string()
      .regex(
        /^[A-Za-z0-9]{1,64}$/,
        'must be an AWS FIS experiment template id such as EXT1a2b3c4d5e6f7 (letters and digits, at most 64)',
      )
      .optional(),
  })
  .strict()
  .optional();

export const configShape = z
  .object({
    application: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,40}$/, 'must be 2-41 characters of lowercase letters, digits and dashes'),
    primary: applicationRegion,
    standby: applicationRegion,
    watchers: z.array(regionName).min(3, 'needs at least 3 watcher regions'),
    controlRegions: z.array(regionName).min(2, 'needs at least 2 control regions'),
    leaseAuthority,
    probe: z
      .object({
        intervalMs: ms('probe.intervalMs').default(10_000),
        connectTimeoutMs: ms('probe.connectTimeoutMs').default(2_000),
        responseTimeoutMs: ms('probe.responseTimeoutMs').default(3_000),
      })
      .strict()
      .prefault({}),
    quorum: z.number().int().positive(),
    debounceMs: ms('debounceMs').default(30_000),
    voteStalenessMs: ms('voteStalenessMs').default(25_000),
    cooldownMs: z.number().int().nonnegative().default(3_600_000),
    /** How long an aborted or rejected incident blocks a new request for the same epoch. */
    reopenAfterMs: z.number().int().nonnegative().default(600_000),
    rpoBudgetMs: z.number().int().nonnegative().default(5_000),
    /**
     * How long a failover execution may show no progress before another control region takes its incident
     * over. The default is above the failover machine's longest Task timeout plus its longest poll Wait
     * (120 s + 10 s, checked by test/unit/takeover.test.ts); the lease and approval waits are announced.
     */
    takeoverAfterMs: ms('takeoverAfterMs').default(180_000),
    lease: z
      .object({
        ttlMs: ms('lease.ttlMs').default(30_000),
        renewIntervalMs: ms('lease.renewIntervalMs').default(10_000),
        retryTimeoutMs: ms('lease.retryTimeoutMs').default(2_000),
        maxSkewMs: z.number().int().nonnegative().default(1_000),
        safetyMarginMs: z.number().int().nonnegative().default(500),
        /**
         * Who renews the lease: `process` (default), the LeaseKeeper inside the application's own process
         * (container, EC2, ECS task); `scheduled`, a Lambda heartbeat started once a minute, for applications that
         * are Lambda functions. Scheduled runs overlap: each lasts `scheduledRunMs`, longer than the period.
         */
        keeper: z.enum(['process', 'scheduled']).default('process'),
        /** How long one scheduled heartbeat run renews before it ends (its Lambda timeout is set above it). */
        scheduledRunMs: ms('lease.scheduledRunMs').default(130_000),
      })
      .strict()
      .prefault({}),
    approval: z
      .object({
        ambiguousPolicy: z.enum(['ask', 'abort', 'proceed']).default('ask'),
        timeoutSeconds: z.number().int().positive().max(86_400).default(900),
        /**
         * What an ambiguous failover does when nobody answers in time. A data-loss approval (lag over the RPO
         * budget) and a failback always abort on timeout: losing data or moving back needs a person.
         */
        timeoutPolicy: z.enum(['abort', 'proceed']).default('abort'),
        slack: z
          .object({
            channel: z.string().min(1),
            approvers: z.array(
              z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U012AB3CD'),
            ),
            twoPerson: z.boolean().default(false),
            /** The workspace (team id) and Slack app id whose clicks count; others are refused (403). */
            teamId: z
              .string()
              .regex(/^T[A-Z0-9]{2,}$/, 'must be a Slack team id such as T0123ABCD')
              .optional(),
            appId: z
              .string()
              .regex(/^A[A-Z0-9]{2,}$/, 'must be a Slack app id such as A0123ABCD')
              .optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    traffic: z
      .object({
        /**
         * How traffic moves on the unplanned path (issue 10). `health-check` (default): Route 53 health checks on
         * each region's holder check steer pre-provisioned failover or weighted records, no API call.
         * `accelerator`: AWS Global Accelerator endpoint groups whose health check is the holder check.
         * `arc`: Route 53 ARC routing controls, set through any of the cluster's regional endpoints.
         * `records`: record changes through Route 53's API (a control plane served from us-east-1), best effort
         * after the grant on the unplanned path. Planned failback's weighted steps use the record API in every
         * Route 53 mode.
         */
        mode: z.enum(['health-check', 'accelerator', 'arc', 'records']).default('health-check'),
        hostedZoneId: z.string().regex(/^Z[A-Z0-9]+$/, 'must be a Route 53 hosted zone id such as Z123ABC'),
        recordName: z.string().min(1),
        recordType: z.enum(['A', 'AAAA', 'CNAME']).default('CNAME'),
        routing: z.enum(['failover', 'weighted']).default('weighted'),
        ttlSeconds: z.number().int().positive().default(60),
        /** Weighted steps (percent to the target) for a planned failback. */
        failbackSteps: z.array(z.number().int().min(1).max(100)).default([100]),
        /** Route 53 health checks on the holder checks (modes health-check and records). */
        healthCheck: z
          .object({
            /** 10 (fast) or 30 seconds between checks from each checker region. */
            requestIntervalSeconds: z.union([z.literal(10), z.literal(30)]).default(10),
            failureThreshold: z.number().int().min(1).max(10).default(1),
            /** Checker regions (Route 53 needs at least 3); absent: Route 53's default set. */
            regions: z.array(regionName).min(3, 'needs at least 3 checker regions').optional(),
          })
          .strict()
          .prefault({}),
        /**
         * Who serves the holder checks: `application` (default), the application itself (`/cutover/holder` from its
         * LeaseGuard, or each region's holderCheckUrl); `function`, Cutover's holder-check function URL in each
         * lease-authority region, for applications that cannot add a route (a region's holderCheckUrl still wins).
         */
        holderCheck: z.enum(['application', 'function']).default('application'),
        /** The CDK creates the records (with the health checks attached) rather than only the health checks. */
        createRecords: z.boolean().default(false),
        /** Global Accelerator (mode accelerator): the endpoint (ALB/NLB ARN or EIP allocation) per region. */
        accelerator: z
          .object({
            endpoints: z.record(regionName, z.string().min(1)),
            healthCheckIntervalSeconds: z.union([z.literal(10), z.literal(30)]).default(10),
            thresholdCount: z.number().int().min(1).max(10).default(3),
          })
          .strict()
          .optional(),
        /** Route 53 ARC (mode arc): the cluster, and the routing control that admits each region's traffic. */
        arc: z
          .object({
            clusterArn: z
              .string()
              .regex(
                /^arn:aws[a-z-]*:route53-recovery-control::\d{12}:cluster\/[\w-]+$/,
                'must be a Route 53 ARC cluster ARN',
              ),
            controlPanelArn: z
              .string()
              .regex(
                /^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel\/[\w-]+$/,
                'must be a Route 53 ARC control panel ARN',
              )
              .optional(),
            /**
             * The cluster's regional endpoints (DescribeCluster's ClusterEndpoints, copied once). Kept here rather than
             * described at failover time: DescribeCluster is the recovery-control-config API, a control plane served
             * from us-west-2 only, and the unplanned path must not depend on it.
             */
            clusterEndpoints: z
              .array(
                z
                  .object({
                    region: regionName,
                    endpoint: z.url({ protocol: /^https$/, error: 'must be an https cluster endpoint URL' }),
                  })
                  .strict(),
              )
              .min(1)
              .max(5)
              .optional(),
            routingControls: z.record(
              regionName,
              z
                .string()
                .regex(
                  /^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel\/[\w-]+\/routingcontrol\/[\w-]+$/,
                  'must be a Route 53 ARC routing control ARN',
                ),
            ),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    database: z
      .object({
        /**
         * `rds`: a cross-region read replica (PromoteReadReplica). `aurora`: an Aurora global database
         * (FailoverGlobalCluster). `dynamodb`: DynamoDB global tables, writable in every replica region: nothing to
         * promote; the RPO guard reads their ReplicationLatency (issue 10).
         */
        engine: z.enum(['rds', 'aurora', 'dynamodb']),
        globalClusterId: z.string().min(1).optional(),
        /** The application's global tables (engine dynamodb): names as DynamoDB spells them, the same in every region. */
        tables: z
          .array(
            z
              .string()
              .regex(
                /^[A-Za-z0-9_.-]{3,255}$/,
                'must be a DynamoDB table name: 3-255 letters, digits, _ . or -',
              ),
          )
          .min(1, 'needs at least one table')
          .optional(),
        promoteTimeoutSeconds: z.number().int().positive().default(900),
      })
      .strict()
      .optional(),
    health: healthSection,
    gameday: gamedaySection,
    fence: z
      .object({
        /** Lambda functions in the old primary region set to reserved concurrency 0 when fenced. */
        lambdaFunctions: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .optional(),
    /**
     * Steps of both machines declared here (docs/hooks.md): `beforePromote` runs after the RPO guard, before the
     * promotion (scale the standby up and wait until it is ready); `afterTraffic` after the new primary is verified
     * (scale the old primary down, invalidate caches). The hooks of one list run together.
     */
    hooks: z
      .object({
        beforePromote: z.array(hook).default([]),
        afterTraffic: z.array(hook).default([]),
        /**
         * The most the beforePromote hooks may add to a failover (`cutover rto` counts their longest timeout).
         * Default 15 minutes: a warm standby's scale-up takes 5-15 (issue 15).
         */
        beforePromoteBudgetMs: ms('hooks.beforePromoteBudgetMs').default(900_000),
      })
      .strict()
      .optional(),
  })
  .strict();

export type CutoverConfig = z.output<typeof configShape>;
export type CutoverConfigInput = z.input<typeof configShape>;

export interface ConfigIssue {
  field: string;
  message: string;
}
