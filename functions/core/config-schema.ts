import { z } from 'zod';
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
    fence: z
      .object({
        /** Lambda functions in the old primary region set to reserved concurrency 0 when fenced. */
        lambdaFunctions: z.array(z.string().min(1)).default([]),
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
