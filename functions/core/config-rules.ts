import type { ConfigIssue, CutoverConfig } from './config-schema.js';

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

/** Whether these top-level sections parsed; a rule that reads a broken section is skipped. */
export type ValidSections = (...sections: (keyof CutoverConfig)[]) => boolean;

/**
 * The rules that span fields. The timing rules are invariant I6 of the brief: a lease must survive two
 * failed renewals, the debounce must span at least two probes, and the holder must stop before a taker may start.
 */
export function crossFieldIssues(c: CutoverConfig, valid: ValidSections = () => true): ConfigIssue[] {
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
