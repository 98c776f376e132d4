import { z } from 'zod';

// An AWS region name as AWS spells it (us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4).
const regionName = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/, 'must be an AWS region name such as us-east-1');

const ms = (what: string) => z.number().int(`${what} must be a whole number of milliseconds`).positive();

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
    /** RDS instance identifier (engine rds) or Aurora cluster ARN (engine aurora) in this region. */
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
        hostedZoneId: z.string().regex(/^Z[A-Z0-9]+$/, 'must be a Route 53 hosted zone id such as Z123ABC'),
        recordName: z.string().min(1),
        recordType: z.enum(['A', 'AAAA', 'CNAME']).default('CNAME'),
        routing: z.enum(['failover', 'weighted']).default('weighted'),
        ttlSeconds: z.number().int().positive().default(60),
        /** Weighted steps (percent to the target) for a planned failback. */
        failbackSteps: z.array(z.number().int().min(1).max(100)).default([100]),
      })
      .strict()
      .optional(),
    database: z
      .object({
        engine: z.enum(['rds', 'aurora']),
        globalClusterId: z.string().min(1).optional(),
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
