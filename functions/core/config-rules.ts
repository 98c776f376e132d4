import type { ConfigIssue, CutoverConfig } from './config-schema.js';
import { healthIssues } from './config-schema.js';
import { hookIssues } from './hooks.js';

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

/** EventBridge Scheduler's finest rate: the probers and the Lambda heartbeat start once a minute. */
export const SCHEDULE_PERIOD_MS = 60_000;
/** Lambda's hard limit on one invocation (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const LAMBDA_MAX_RUN_MS = 900_000;
/** The recovery target that Cutover is built for: failover within a minute (the brief, "Who uses it"). */
export const RTO_TARGET_MS = 60_000;
/**
 * The lease's TTL is the fence's wait in every failover: the old primary may have renewed the instant before it
 * failed, and nothing may be promoted until that lease, plus the skew, is over on the taker's clock. Detection
 * (the debounce) runs alongside that wait, but the promotion, the traffic move and the first write all come after
 * it. 45 s leaves 15 s of the 60 s target for them (the drill measures about 1.5 s; an RDS promotion alone can
 * take longer), where the old 120 s bound let the wait alone take twice the target.
 */
export const MAX_LEASE_TTL_MS = 45_000;
/** The cool-down spans at least this many detection windows. */
export const MIN_COOLDOWN_WINDOWS = 10;

/** Whether these top-level sections parsed; a rule that reads a broken section is skipped. */
/**
 * The most bytes the configuration may take as JSON: the CDK app puts it whole into each function's
 * CUTOVER_CONFIG environment variable, and Lambda allows 4 KB for all of a function's environment variables
 * together (Lambda quotas, "Environment variables: 4 KB"); the rest of the 4 KB is for the other variables.
 */
export const MAX_CONFIG_ENV_BYTES = 3_500;

/** The configuration's size as CUTOVER_CONFIG holds it: UTF-8 bytes of its JSON (what Lambda counts). */
export function configEnvironmentBytes(config: unknown): number {
  return new TextEncoder().encode(JSON.stringify(config)).length;
}

/** Refused by `config validate` rather than only at `cdk synth`: the configuration must fit CUTOVER_CONFIG. */
export function configSizeIssues(config: unknown): ConfigIssue[] {
  const bytes = configEnvironmentBytes(config);
  if (bytes <= MAX_CONFIG_ENV_BYTES) return [];
  return [
    {
      field: '(root)',
      message: `is ${bytes} bytes as JSON (with defaults filled in), over the ${MAX_CONFIG_ENV_BYTES} bytes that fit the functions' CUTOVER_CONFIG environment variable (Lambda allows 4 KB for all of a function's variables): shorten hook and health check names, URLs and descriptions, or remove hooks, health checks or payloads, by at least ${bytes - MAX_CONFIG_ENV_BYTES} bytes`,
    },
  ];
}

export type ValidSections = (...sections: (keyof CutoverConfig)[]) => boolean;

/**
 * The rules that span fields. The timing rules are invariant I6 of the brief: a lease must survive two
 * failed renewals, the debounce must span at least two probes, and the holder must stop before a taker may start.
 */
export function crossFieldIssues(
  c: CutoverConfig,
  valid: ValidSections = () => true,
  setByUser: (field: string) => boolean = () => true,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (field: string, message: string): void => {
    issues.push({ field, message });
  };
  // A rule between fields is filed under the first field named, unless the file left that one to its default and
  // set another: the error then belongs to the value the operator wrote (a 25 s probe interval against the default
  // debounce is the interval's problem).
  const blame = (first: string, ...others: string[]): string =>
    setByUser(first) ? first : (others.find(setByUser) ?? first);

  // On a file with invalid sections only the valid ones are measured: an overflow then is already certain.
  issues.push(...configSizeIssues(c));
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
      add(
        'quorum',
        `must be a majority of the ${n} watchers: between ${majority} and ${n}, got ${c.quorum}; set quorum to ${majority} or change the watchers`,
      );
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
  } else if (
    valid('controlRegions', 'primary', 'standby') &&
    c.controlRegions.every((r) => r === c.primary.region || r === c.standby.region)
  ) {
    // With every control region inside an application region, the failure that a failover answers takes one
    // of them down, and an impaired standby region the other: nobody is left to decide, or even to ask.
    add(
      'controlRegions',
      `needs at least one region outside the application regions (${c.primary.region}, ${c.standby.region}), so that a control region outlives a failure of either`,
    );
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
    // A replica in an application region earns a local read and write; a witness holds no data and serves nobody
    // there. It only ties one of the authority's three votes to the region whose failure a failover answers, so
    // that one more fault (a replica's trouble, a partition) leaves no majority to revoke or grant the lease.
    const appRegions = [
      ...(valid('primary') ? [c.primary.region] : []),
      ...(valid('standby') ? [c.standby.region] : []),
    ];
    if (la.witnessRegion && appRegions.includes(la.witnessRegion)) {
      add(
        'leaseAuthority.witnessRegion',
        `must not be an application region (${appRegions.join(', ')}): a witness there falls with the region a failover answers; got ${la.witnessRegion}`,
      );
    }
    const outsideSet = mrscRegionSetIssue(la);
    if (outsideSet) issues.push(outsideSet);
  } else if (la?.mode === 'arbiter' && valid('primary') && la.region === c.primary.region) {
    add(
      'leaseAuthority.region',
      `the arbiter must not be the primary region (${c.primary.region}); it must outlive it`,
    );
  } else if (la?.mode === 'arbiter' && valid('standby') && la.region === c.standby.region) {
    add(
      'leaseAuthority.region',
      `the arbiter must not be the standby region (${c.standby.region}): when that region fails, the healthy primary can no longer renew its lease and stops writing, with nowhere to fail over to`,
    );
  }

  const p = c.probe;
  if (valid('probe')) {
    if (p.connectTimeoutMs > p.responseTimeoutMs) {
      add(
        blame('probe.connectTimeoutMs', 'probe.responseTimeoutMs'),
        `probe.connectTimeoutMs (${p.connectTimeoutMs}) must be at most probe.responseTimeoutMs (${p.responseTimeoutMs}): lower the first or raise the second`,
      );
    }
    if (p.responseTimeoutMs >= p.intervalMs) {
      add(
        blame('probe.responseTimeoutMs', 'probe.intervalMs'),
        `probe.responseTimeoutMs (${p.responseTimeoutMs}) must be less than probe.intervalMs (${p.intervalMs}) so probes do not overlap: lower the timeout or lengthen the interval`,
      );
    }
  }
  if (valid('probe', 'debounceMs') && c.debounceMs < 2 * p.intervalMs) {
    add(
      blame('debounceMs', 'probe.intervalMs'),
      `debounceMs must be at least 2 × probe.intervalMs = ${2 * p.intervalMs}, got ${c.debounceMs}: one lost probe must not decide a failover; raise debounceMs or shorten probe.intervalMs`,
    );
  }
  // The prober and the Lambda heartbeat are started once a minute (EventBridge Scheduler's finest rate,
  // docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html) and loop inside their minute: an
  // interval over a minute would silently run every minute instead.
  if (valid('probe') && p.intervalMs > SCHEDULE_PERIOD_MS) {
    add(
      'probe.intervalMs',
      `must be at most ${SCHEDULE_PERIOD_MS} (probers start once a minute), got ${p.intervalMs}; use ${SCHEDULE_PERIOD_MS} or less`,
    );
  }
  if (valid('reopenAfterMs', 'debounceMs') && c.reopenAfterMs < c.debounceMs) {
    add(
      blame('reopenAfterMs', 'debounceMs'),
      `reopenAfterMs must be at least debounceMs (${c.debounceMs}): an aborted or failed incident would be requested again before a new detection window could pass, paging in a loop; got ${c.reopenAfterMs}`,
    );
  }
  const minCooldown = MIN_COOLDOWN_WINDOWS * c.debounceMs;
  if (valid('cooldownMs', 'debounceMs') && c.cooldownMs < minCooldown) {
    add(
      blame('cooldownMs', 'debounceMs'),
      `cooldownMs must be at least ${MIN_COOLDOWN_WINDOWS} × debounceMs = ${minCooldown}: a shorter cool-down lets two flapping regions pass the lease back and forth without a person; got ${c.cooldownMs}`,
    );
  }
  const minStaleness = valid('probe') ? p.intervalMs + p.responseTimeoutMs : 0;
  if (valid('probe', 'voteStalenessMs') && c.voteStalenessMs < minStaleness) {
    add(
      blame('voteStalenessMs', 'probe.intervalMs', 'probe.responseTimeoutMs'),
      `voteStalenessMs must be at least probe.intervalMs + probe.responseTimeoutMs = ${minStaleness}, got ${c.voteStalenessMs}, or healthy voters go stale between probes; raise voteStalenessMs or shorten the probe`,
    );
  }

  const l = c.lease;
  if (valid('lease', 'probe')) {
    // The holder stops writing maxSkew + safetyMargin before its lease ends (functions/core/lease.ts): that is
    // the time its renewals have. Two failed renewals cost a renew interval and two retry timeouts, and the third
    // attempt needs its own timeout to land before writes stop. Counting only the third attempt's start (renew +
    // 2 × retry) is not enough: at that boundary the lease simulation (test/unit/lease-simulation.test.ts) finds a
    // healthy holder refusing writes in about 1 schedule in 10, for up to 1.4 s, as the issue's ttl 14 s / renew
    // 10 s / retry 2 s did for 1.56 s.
    // The first failed attempt also waits for the local health check, which may take the watchers' response
    // timeout (the keeper uses their criteria, and an endpoint answering just under it is healthy to them); the
    // retries reuse that verdict (functions/guard/lease-keeper.ts, LeaseRenewer.tick), so it counts once.
    const usable = l.ttlMs - l.maxSkewMs - l.safetyMarginMs;
    const renewBudget = minimumLeaseTtlMs(l, c.probe) - l.maxSkewMs - l.safetyMarginMs;
    if (usable < renewBudget) {
      add(
        blame(
          'lease.ttlMs',
          'lease.renewIntervalMs',
          'lease.retryTimeoutMs',
          'lease.maxSkewMs',
          'lease.safetyMarginMs',
          'probe.responseTimeoutMs',
        ),
        `lease.ttlMs − lease.maxSkewMs − lease.safetyMarginMs (${usable}) must be at least lease.renewIntervalMs + probe.responseTimeoutMs + 3 × lease.retryTimeoutMs = ${renewBudget}, so that the holder rides out a health check as slow as the watchers allow and two failed renewals, and the third lands before writes stop; raise lease.ttlMs to ${minimumLeaseTtlMs(l, c.probe)} or shorten the renewal timings`,
      );
    }
    if (l.ttlMs > MAX_LEASE_TTL_MS) {
      add(
        'lease.ttlMs',
        `must be at most ${MAX_LEASE_TTL_MS}: every failover waits out the old lease (ttl + maxSkew after the last renewal) before it may promote, and the promotion and the traffic move need the rest of the ${RTO_TARGET_MS / 1000} s recovery target; got ${l.ttlMs}`,
      );
    }
    if (l.renewIntervalMs > SCHEDULE_PERIOD_MS) {
      add(
        'lease.renewIntervalMs',
        `must be at most ${SCHEDULE_PERIOD_MS} (a scheduled heartbeat starts once a minute), got ${l.renewIntervalMs}`,
      );
    }
    if (l.maxSkewMs <= 0) {
      add(
        'lease.maxSkewMs',
        'must be above 0: no two clocks agree exactly, and the fence waits out the skew',
      );
    }
    if (l.safetyMarginMs <= 0) {
      add(
        'lease.safetyMarginMs',
        'must be above 0: a write checked just before the deadline needs time to land before the lease ends',
      );
    }
    // A Lambda heartbeat run starts once a minute and renews for scheduledRunMs, so runs overlap. When one start
    // is missed (throttled, or an async invoke dropped), the run before it must still be renewing when the start
    // after it comes, one renew interval into that run's first cycle: 2 periods + one interval.
    const minRun = 2 * SCHEDULE_PERIOD_MS + l.renewIntervalMs;
    if (l.keeper === 'scheduled' && l.scheduledRunMs < minRun) {
      add(
        blame('lease.scheduledRunMs', 'lease.renewIntervalMs', 'lease.keeper'),
        `lease.scheduledRunMs must be at least 2 × ${SCHEDULE_PERIOD_MS} + lease.renewIntervalMs = ${minRun} with lease.keeper "scheduled", so that one missed start leaves no renewal gap; got ${l.scheduledRunMs}`,
      );
    }
    if (l.keeper === 'scheduled' && l.scheduledRunMs >= LAMBDA_MAX_RUN_MS) {
      add(
        'lease.scheduledRunMs',
        `must be below ${LAMBDA_MAX_RUN_MS}, Lambda's limit on one invocation (the heartbeat's timeout is set above the run); got ${l.scheduledRunMs}`,
      );
    }
  }

  // The health contract's rules live beside its section (config-schema.ts), self-contained.
  if (valid('health', 'probe')) issues.push(...healthIssues(c));
  if (valid('lease', 'takeoverAfterMs')) {
    const fenceWait = l.ttlMs + l.maxSkewMs;
    if (c.takeoverAfterMs <= fenceWait) {
      add(
        blame('takeoverAfterMs', 'lease.ttlMs', 'lease.maxSkewMs'),
        `takeoverAfterMs must exceed lease.ttlMs + lease.maxSkewMs = ${fenceWait}, the fence's wait, or a failover waiting out the old lease looks stalled; got ${c.takeoverAfterMs}`,
      );
    }
  }

  const slack = valid('approval') ? c.approval.slack : undefined;
  if (valid('approval') && c.approval.ambiguousPolicy === 'ask' && (!slack || slack.approvers.length === 0)) {
    add('approval.slack.approvers', 'needs at least one approver when approval.ambiguousPolicy is "ask"');
  }
  // A failed afterTraffic hook with onFailure ask waits for a person's answer in Slack (docs/hooks.md); with
  // nobody to ask, every such failure would wait out approval.timeoutSeconds and then fail the run.
  if (valid('approval', 'hooks') && (!slack || slack.approvers.length === 0)) {
    c.hooks?.afterTraffic.forEach((hook, i) => {
      if (hook.onFailure !== 'ask') return;
      add(
        `hooks.afterTraffic[${i}].onFailure`,
        `is "ask", which asks approval.slack's approvers to continue or fail when the hook fails, but approval.slack ${slack ? 'has no approvers' : 'is not configured'}: configure approval.slack (channel, approvers), or use "continue" or "abort"`,
      );
    });
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
  // One record, database or endpoint for both regions would make a failover a no-op, or probe one region twice.
  for (const key of ['healthUrl', 'setIdentifier', 'databaseId'] as const) {
    const value = c.primary[key];
    if (value !== undefined && value === c.standby[key]) {
      add(`standby.${key}`, `must differ from primary.${key} (${value}): each region needs its own`);
    }
  }
  if (valid('traffic') && c.traffic) issues.push(...trafficIssues(c));
  if (valid('database') && c.database) issues.push(...databaseIssues(c.database, c.primary, c.standby));
  if (valid('hooks') && c.hooks) issues.push(...hookIssues(c));
  return issues;
}

/**
 * The database section against the regions' database ids. RDS and Aurora promote one database per region, named
 * by databaseId; DynamoDB global tables carry the same table names in every region and promote nothing, so they
 * are named once, in database.tables, and a databaseId would be a setting that nothing reads.
 */
export function databaseIssues(
  db: NonNullable<CutoverConfig['database']>,
  primary: Pick<CutoverConfig['primary'], 'databaseId'>,
  standby: Pick<CutoverConfig['standby'], 'databaseId'>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (field: string, message: string): void => {
    issues.push({ field, message });
  };
  if (db.engine === 'dynamodb') {
    if (!db.tables)
      add('database.tables', 'is required when database.engine is "dynamodb": name the global tables');
    for (const t of duplicates(db.tables ?? [])) add('database.tables', `lists ${t} twice`);
    for (const [key, r] of [
      ['primary', primary],
      ['standby', standby],
    ] as const) {
      if (r.databaseId !== undefined) {
        add(
          `${key}.databaseId`,
          'must be omitted when database.engine is "dynamodb": global tables have the same names in every region (database.tables)',
        );
      }
    }
    if (db.globalClusterId !== undefined) {
      add('database.globalClusterId', 'is for engine "aurora" only');
    }
    return issues;
  }
  if (!primary.databaseId) add('primary.databaseId', 'is required when database is configured');
  if (!standby.databaseId) add('standby.databaseId', 'is required when database is configured');
  if (db.engine === 'aurora' && !db.globalClusterId) {
    add('database.globalClusterId', 'is required when database.engine is "aurora"');
  }
  if (db.tables !== undefined) add('database.tables', 'is for engine "dynamodb" only');
  return issues;
}

function duplicates(xs: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const x of xs) (seen.has(x) ? dup : seen).add(x);
  return [...dup];
}

/**
 * The shortest lease TTL the renewal rule accepts for these timings: renewInterval + one health check (the
 * watchers' response timeout) + 3 × retryTimeout before the holder's write deadline (ttl − maxSkew −
 * safetyMargin). `cutover rto` proposes no shorter one.
 */
export function minimumLeaseTtlMs(
  l: Pick<CutoverConfig['lease'], 'renewIntervalMs' | 'retryTimeoutMs' | 'maxSkewMs' | 'safetyMarginMs'>,
  probe: Pick<CutoverConfig['probe'], 'responseTimeoutMs'>,
): number {
  return l.renewIntervalMs + probe.responseTimeoutMs + 3 * l.retryTimeoutMs + l.maxSkewMs + l.safetyMarginMs;
}

/**
 * The regions from which Route 53 health checkers can check an endpoint (HealthCheckConfig.Regions, Route 53 API
 * Reference; at least three of them when the list is given).
 */
export const HEALTH_CHECKER_REGIONS = [
  'us-east-1',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'sa-east-1',
] as const;

/**
 * What each traffic mode needs to work at incident time, by field: `config validate` refuses it, and the CDK app
 * (infra/topology.ts) refuses the same for a configuration built in code.
 */
export function trafficIssues(c: Pick<CutoverConfig, 'traffic' | 'primary' | 'standby'>): ConfigIssue[] {
  const t = c.traffic;
  if (!t) return [];
  const issues: ConfigIssue[] = [];
  const add = (field: string, message: string) => issues.push({ field, message });
  const regions = [c.primary.region, c.standby.region];
  if (t.mode === 'accelerator') {
    if (!t.accelerator) add('traffic.accelerator', 'traffic mode accelerator needs it');
    else {
      for (const r of regions) {
        if (!t.accelerator.endpoints[r]) {
          add(
            `traffic.accelerator.endpoints.${r}`,
            'each application region needs its endpoint (load balancer ARN or Elastic IP allocation)',
          );
        }
      }
    }
    // Global Accelerator checks the endpoint itself (its IP), so the holder check must be served there.
    if (t.holderCheck === 'function') {
      add(
        'traffic.holderCheck',
        'mode accelerator health-checks each endpoint directly: the application must serve /cutover/holder itself',
      );
    }
    if (t.createRecords) add('traffic.createRecords', 'mode accelerator has no Route 53 records to create');
  }
  if (t.mode === 'arc') {
    if (!t.arc) add('traffic.arc', 'traffic mode arc needs it');
    else {
      for (const r of regions) {
        if (!t.arc.routingControls[r]) {
          add(
            `traffic.arc.routingControls.${r}`,
            'each application region needs the routing control that admits its traffic',
          );
        }
      }
      if (!t.arc.clusterEndpoints?.length) {
        add(
          'traffic.arc.clusterEndpoints',
          "needs the cluster's regional endpoints (DescribeCluster's ClusterEndpoints, copied once): the failover tries each in turn and must not call the us-west-2 control plane to find them",
        );
      }
    }
    if (t.failbackSteps.some((w) => w !== 100)) {
      add(
        'traffic.failbackSteps',
        `routing controls are on or off: mode arc moves all of the traffic at once, so the steps must be [100], got ${JSON.stringify(t.failbackSteps)}`,
      );
    }
  }
  const checkers = t.healthCheck.regions ?? [];
  const unknown = checkers.filter((r) => !(HEALTH_CHECKER_REGIONS as readonly string[]).includes(r));
  if (unknown.length > 0) {
    add(
      'traffic.healthCheck.regions',
      `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a region' : 'are not regions'} Route 53 checks from: use ${HEALTH_CHECKER_REGIONS.join(', ')}`,
    );
  }
  if (t.createRecords && t.recordType !== 'CNAME') {
    // The records point at each region's own host (its healthUrl's); only a CNAME can hold a host name.
    add(
      'traffic.recordType',
      `createRecords makes CNAME records to each region's healthUrl host; ${t.recordType} records need values Cutover does not have`,
    );
  }
  return issues;
}
