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

const configShape = z
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

/**
 * AWS creates an MRSC global table only when its replicas and witness all lie in one of these region sets
 * (Amazon DynamoDB API Reference, CreateGlobalTableWitnessGroupMemberAction: "within the same Region set";
 * the same list is in the CloudFormation reference, AWS::DynamoDB::GlobalTable GlobalTableWitness).
 */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
};

/**
 * Why AWS would refuse this MRSC lease authority's regions, or undefined when they all lie in one region set.
 * Shared with the CDK app (infra/topology.ts), so that `config validate` and the synth refuse the same tables.
 */
export function mrscRegionSetIssue(la: {
  regions: readonly string[];
  witnessRegion?: string | undefined;
}): ConfigIssue | undefined {
  const all = [...la.regions, ...(la.witnessRegion ? [la.witnessRegion] : [])];
  // The set holding most replicas (on a tie, the first replica's) decides which regions are named as outside.
  let set: [string, readonly string[]] | undefined;
  let best = 0;
  for (const entry of Object.entries(MRSC_REGION_SETS)) {
    const inside = la.regions.filter((r) => entry[1].includes(r)).length;
    if (inside > best || (inside === best && inside > 0 && entry[1].includes(la.regions[0] ?? ''))) {
      set = entry;
      best = inside;
    }
  }
  const outside = all.filter((r) => !set?.[1].includes(r));
  if (outside.length === 0) return undefined;
  const onlyWitness = set !== undefined && outside.length === 1 && outside[0] === la.witnessRegion;
  const sets = Object.entries(MRSC_REGION_SETS)
    .map(([name, regions]) => `${name}: ${regions.join(', ')}`)
    .join('; ');
  return {
    field: onlyWitness ? 'leaseAuthority.witnessRegion' : 'leaseAuthority.regions',
    message: `MRSC replicas and witness must all lie in one region set (${sets}); ${outside.join(', ')} ${
      outside.length === 1 ? 'is' : 'are'
    } outside ${set ? `the ${set[0]} set` : 'every set'}`,
  };
}

export interface ConfigIssue {
  field: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(`invalid Cutover configuration:\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Whether these top-level sections parsed; a rule that reads a broken section is skipped. */
type ValidSections = (...sections: (keyof CutoverConfig)[]) => boolean;

/**
 * The rules that span fields. The timing rules are invariant I6 of the brief: a lease must survive two
 * failed renewals, the debounce must span at least two probes, and the holder must stop before a taker may start.
 */
function crossFieldIssues(c: CutoverConfig, valid: ValidSections = () => true): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (field: string, message: string): void => {
    issues.push({ field, message });
  };

  if (valid('primary', 'standby') && c.primary.region === c.standby.region) {
    add('standby.region', `must differ from primary.region (${c.primary.region})`);
  }
  if (valid('watchers')) {
    for (const r of duplicates(c.watchers))
      add('watchers', `lists ${r} twice; each watcher region votes once`);
  }
  if (valid('watchers', 'primary', 'standby')) {
    const app = new Set([c.primary.region, c.standby.region]);
    c.watchers.forEach((r, i) => {
      if (app.has(r)) add(`watchers[${i}]`, `${r} is an application region; watchers must be other regions`);
    });
  }
  if (valid('watchers', 'quorum')) {
    const n = new Set(c.watchers).size;
    const majority = Math.floor(n / 2) + 1;
    if (c.quorum < majority || c.quorum > n) {
      add('quorum', `must be a majority of the ${n} watchers: between ${majority} and ${n}, got ${c.quorum}`);
    }
  }
  if (valid('controlRegions')) {
    for (const r of duplicates(c.controlRegions)) add('controlRegions', `lists ${r} twice`);
    if (new Set(c.controlRegions).size < 2) {
      add(
        'controlRegions',
        'needs at least 2 distinct control regions so that one can finish a failover alone',
      );
    }
  }
  if (valid('controlRegions', 'primary') && c.controlRegions.every((r) => r === c.primary.region)) {
    add('controlRegions', `must not be only the primary region (${c.primary.region})`);
  }

  const la = valid('leaseAuthority') ? c.leaseAuthority : undefined;
  if (la?.mode === 'mrsc') {
    for (const r of duplicates(la.regions)) add('leaseAuthority.regions', `lists ${r} twice`);
    if (la.regions.length === 3 && la.witnessRegion) {
      add(
        'leaseAuthority.witnessRegion',
        'must be omitted with 3 full replica regions (MRSC takes 3, or 2 + witness)',
      );
    }
    if (la.regions.length === 2 && !la.witnessRegion) {
      add(
        'leaseAuthority.witnessRegion',
        'is required with 2 replica regions (MRSC takes 3, or 2 + witness)',
      );
    }
    if (la.witnessRegion && la.regions.includes(la.witnessRegion)) {
      add('leaseAuthority.witnessRegion', `must not be one of leaseAuthority.regions (${la.witnessRegion})`);
    }
    const outsideSet = mrscRegionSetIssue(la);
    if (outsideSet) issues.push(outsideSet);
  } else if (la?.mode === 'arbiter' && valid('primary') && la.region === c.primary.region) {
    add(
      'leaseAuthority.region',
      `the arbiter must not be the primary region (${c.primary.region}); it must outlive it`,
    );
  }

  const p = c.probe;
  if (valid('probe')) {
    if (p.connectTimeoutMs > p.responseTimeoutMs) {
      add('probe.connectTimeoutMs', `must be at most probe.responseTimeoutMs (${p.responseTimeoutMs})`);
    }
    if (p.responseTimeoutMs >= p.intervalMs) {
      add(
        'probe.responseTimeoutMs',
        `must be less than probe.intervalMs (${p.intervalMs}) so probes do not overlap`,
      );
    }
  }
  if (valid('probe', 'debounceMs') && c.debounceMs < 2 * p.intervalMs) {
    add('debounceMs', `must be at least 2 × probe.intervalMs = ${2 * p.intervalMs}, got ${c.debounceMs}`);
  }
  const minStaleness = valid('probe') ? p.intervalMs + p.responseTimeoutMs : 0;
  if (valid('probe', 'voteStalenessMs') && c.voteStalenessMs < minStaleness) {
    add(
      'voteStalenessMs',
      `must be at least probe.intervalMs + probe.responseTimeoutMs = ${minStaleness}, or healthy voters go stale between probes`,
    );
  }

  const l = c.lease;
  if (valid('lease')) {
    const renewBudget = l.renewIntervalMs + 2 * l.retryTimeoutMs;
    if (renewBudget > l.ttlMs) {
      add(
        'lease.ttlMs',
        `must be at least lease.renewIntervalMs + 2 × lease.retryTimeoutMs = ${renewBudget}, got ${l.ttlMs}`,
      );
    }
    const usable = l.ttlMs - l.maxSkewMs - l.safetyMarginMs;
    if (usable <= l.renewIntervalMs) {
      add(
        'lease.maxSkewMs',
        `lease.ttlMs − lease.maxSkewMs − lease.safetyMarginMs (${usable}) must exceed lease.renewIntervalMs (${l.renewIntervalMs}), or the holder stops writing between renewals`,
      );
    }
  }

  if (valid('lease', 'takeoverAfterMs')) {
    const fenceWait = l.ttlMs + l.maxSkewMs;
    if (c.takeoverAfterMs <= fenceWait) {
      add(
        'takeoverAfterMs',
        `must exceed lease.ttlMs + lease.maxSkewMs = ${fenceWait}, the fence's wait, or a failover waiting out the old lease looks stalled; got ${c.takeoverAfterMs}`,
      );
    }
  }

  const slack = valid('approval') ? c.approval.slack : undefined;
  if (valid('approval') && c.approval.ambiguousPolicy === 'ask' && (!slack || slack.approvers.length === 0)) {
    add('approval.slack.approvers', 'needs at least one approver when approval.ambiguousPolicy is "ask"');
  }
  if (slack?.twoPerson && new Set(slack.approvers).size < 2) {
    add(
      'approval.slack.approvers',
      'needs at least 2 distinct approvers when approval.slack.twoPerson is true',
    );
  }
  if (!valid('primary', 'standby')) return issues;
  if (valid('traffic') && c.traffic && (!c.primary.setIdentifier || !c.standby.setIdentifier)) {
    if (!c.primary.setIdentifier) add('primary.setIdentifier', 'is required when traffic is configured');
    if (!c.standby.setIdentifier) add('standby.setIdentifier', 'is required when traffic is configured');
  }
  if (valid('database') && c.database) {
    if (!c.primary.databaseId) add('primary.databaseId', 'is required when database is configured');
    if (!c.standby.databaseId) add('standby.databaseId', 'is required when database is configured');
    if (c.database.engine === 'aurora' && !c.database.globalClusterId) {
      add('database.globalClusterId', 'is required when database.engine is "aurora"');
    }
  }
  return issues;
}

function duplicates(xs: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const x of xs) (seen.has(x) ? dup : seen).add(x);
  return [...dup];
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

export type ParseResult = { ok: true; config: CutoverConfig } | { ok: false; issues: ConfigIssue[] };

/** Validates a parsed JSON value; every problem is reported at once, each with the field it concerns. */
export function parseConfig(input: unknown): ParseResult {
  const shape = configShape.safeParse(input);
  if (shape.success) {
    const issues = crossFieldIssues(shape.data);
    return issues.length ? { ok: false, issues } : { ok: true, config: shape.data };
  }
  const issues = shape.error.issues.flatMap((i) => shapeIssues(i, input));
  // All errors at once: the cross-field rules still run on the sections that parsed on their own.
  if (isRecord(input)) {
    const sections: Record<string, unknown> = {};
    const valid = new Set<string>();
    for (const [key, schema] of Object.entries(configShape.shape)) {
      const section = (schema as z.ZodType).safeParse(input[key]);
      if (section.success) {
        sections[key] = section.data;
        valid.add(key);
      }
    }
    issues.push(...crossFieldIssues(sections as CutoverConfig, (...keys) => keys.every((k) => valid.has(k))));
  }
  return { ok: false, issues };
}

/** A zod issue as the operator reads it; an unknown key is named itself, with the keys that would be valid. */
function shapeIssues(issue: z.core.$ZodIssue, input: unknown): ConfigIssue[] {
  if (issue.code !== 'unrecognized_keys') return [{ field: fieldName(issue.path), message: issue.message }];
  const known = knownKeys(configShape, issue.path, input);
  const hint = known.length ? `; valid fields here: ${known.join(', ')}` : '';
  return issue.keys.map((key) => ({
    field: fieldName([...issue.path, key]),
    message: `is not a known field${hint}`,
  }));
}

/** The keys the schema accepts at `path`, following the input to pick a discriminated union's branch. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let s: unknown = schema;
  let value = input;
  for (let i = 0; ; i++) {
    s = unwrap(s, value);
    if (i === path.length) break;
    const part = path[i];
    if (s instanceof z.ZodObject && typeof part === 'string') s = s.shape[part];
    else if (s instanceof z.ZodArray) s = s.element;
    else return [];
    value =
      isRecord(value) || Array.isArray(value)
        ? (value as Record<PropertyKey, unknown>)[part as PropertyKey]
        : undefined;
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function unwrap(s: unknown, value: unknown): unknown {
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault)
    s = s.unwrap();
  if (!(s instanceof z.ZodDiscriminatedUnion)) return s;
  const key = s.def.discriminator;
  const tag = isRecord(value) ? value[key] : undefined;
  return s.options.find((o) => {
    const literal = o instanceof z.ZodObject ? o.shape[key] : undefined;
    return literal instanceof z.ZodLiteral && literal.values.has(tag as z.core.util.Literal);
  });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function loadConfig(input: unknown): CutoverConfig {
  const result = parseConfig(input);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}

/** Parses configuration text (JSON); a syntax error is reported like any other issue. */
export function parseConfigText(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      issues: [{ field: '(file)', message: `is not valid JSON: ${(err as Error).message}` }],
    };
  }
  return parseConfig(json);
}
