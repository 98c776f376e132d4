import { createHash } from 'node:crypto';
import type { CutoverConfig } from '#core/config.js';
import { HEALTH_CHECKER_REGIONS, mrscRegionSetIssue, trafficIssues } from '#core/config-rules.js';
import { holderCheckUrlOf } from '#core/holder.js';

/**
 * Where each piece of Cutover lives, derived from the configuration alone so that every stack (and every test)
 * agrees on regions and physical names without cross-region references, which CloudFormation cannot resolve.
 */
export interface Topology {
  application: string;
  applicationRegions: string[];
  watchers: string[];
  controlRegions: string[];
  votes: { home: string; regions: string[] };
  control:
    | { mode: 'mrsc'; home: string; regions: string[]; witnessRegion?: string }
    | { mode: 'arbiter'; home: string; regions: string[] };
  names: Names;
  /** Where the global traffic layer and the holder checks live; null without a traffic section. */
  traffic: TrafficPlacement | null;
  /** The region whose control table a function in `region` reads and writes. */
  controlTableRegionFor(region: string): string;
}

/** What a data-plane health check polls for one application region. */
export type HolderCheckTarget =
  /** A URL known at synth: `/cutover/holder` on the application's origin, or the region's holderCheckUrl. */
  | { served: 'application' | 'configured'; url: string }
  /** Cutover's holder-check function URL in a lease-authority region, with `?region=`; known only once deployed. */
  | { served: 'function'; authorityRegion: string };

export interface TrafficPlacement {
  mode: NonNullable<CutoverConfig['traffic']>['mode'];
  /**
   * The one stack of the global traffic resources (Route 53 health checks and records, or the accelerator).
   * Route 53 resources can be managed from a stack in any region: it goes to the first control region, beside the
   * dashboard, so Cutover adds no region and its deploy does not hang on the primary region's CloudFormation. Global
   * Accelerator resources only from us-west-2, its API's one region (Global Accelerator API Reference,
   * CreateAccelerator: "you must specify the US West (Oregon) Region to create, update, or otherwise work with
   * accelerators").
   */
  stackRegion: string;
  holderChecks: Record<string, HolderCheckTarget>;
  /** The lease-authority regions that run the holder-check function (empty unless traffic.holderCheck is function). */
  holderFunctionRegions: string[];
}

export { HEALTH_CHECKER_REGIONS };
export const ACCELERATOR_API_REGION = 'us-west-2';

/** The roles a region's stack plays; one region may host several. */
export type StackRole = 'control' | 'app' | 'watcher' | 'holder-check' | 'traffic';

export interface Names {
  votesTable: string;
  controlTable: string;
  /** Per role: a control region may also be an application or watcher region, and each stack owns its own. */
  eventBus(role: StackRole): string;
  alarmTopic(role: StackRole): string;
  dashboard: string;
  function(role: string): string;
  stateMachine(kind: 'failover' | 'failback'): string;
  logGroup(role: string): string;
  secret(kind: 'slack-bot-token' | 'slack-signing-secret'): string;
}

export class TopologyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'TopologyError';
  }
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

/** Lambda and Step Functions names take at most 64 and 80 characters; a long application name is shortened with a hash. */
function bounded(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - 9)}-${hash}`;
}

export function topology(config: CutoverConfig): Topology {
  const app = config.application;
  const applicationRegions = [config.primary.region, config.standby.region];
  const la = config.leaseAuthority;

  if (la.mode === 'mrsc') {
    // A configuration built in code skips `config validate`; the synth must still refuse what AWS would.
    const issue = mrscRegionSetIssue(la);
    if (issue) throw new TopologyError(issue.field, issue.message);
  }

  // Every region that reads or writes votes holds a replica: watchers write, control regions read the stream.
  const votesRegions = unique([...config.controlRegions, ...config.watchers]);
  const control: Topology['control'] =
    la.mode === 'mrsc'
      ? {
          mode: 'mrsc',
          home: la.regions[0]!,
          regions: [...la.regions],
          ...(la.witnessRegion ? { witnessRegion: la.witnessRegion } : {}),
        }
      : { mode: 'arbiter', home: la.region, regions: [la.region] };

  const prefix = `cutover-${app}`;
  const names: Names = {
    votesTable: `${prefix}-votes`,
    controlTable: `${prefix}-control`,
    // The control bus keeps the plain name: it is the Cutover event bus that rules and operators subscribe to.
    eventBus: (role) => (role === 'control' ? prefix : `${prefix}-${role}`),
    alarmTopic: (role) => `${prefix}-${role}-alarms`,
    dashboard: bounded(prefix, 255),
    function: (role) => bounded(`${prefix}-${role}`, 64),
    stateMachine: (kind) => bounded(`${prefix}-${kind}`, 80),
    logGroup: (role) => `/cutover/${app}/${role}`,
    secret: (kind) => `cutover/${app}/${kind}`,
  };

  const controlTableRegionFor = (region: string): string => {
    if (control.regions.includes(region)) return region;
    // A replica on the same continent (same first name part, as in us-*, eu-*) is the nearest guess.
    const continent = region.split('-')[0];
    return control.regions.find((r) => r.split('-')[0] === continent) ?? control.home;
  };

  return {
    application: app,
    applicationRegions,
    watchers: unique(config.watchers),
    controlRegions: unique(config.controlRegions),
    votes: { home: config.controlRegions[0]!, regions: votesRegions },
    control,
    names,
    traffic: trafficPlacement(config, control.regions, controlTableRegionFor),
    controlTableRegionFor,
  };
}

/**
 * Where the traffic layer goes and what each region's health check polls. Refuses, naming the field, what the
 * CDK could only deploy half-working: a configuration built in code skips `config validate`.
 */
function trafficPlacement(
  config: CutoverConfig,
  authorityRegions: readonly string[],
  controlTableRegionFor: (region: string) => string,
): TrafficPlacement | null {
  const traffic = config.traffic;
  if (!traffic) return null;
  const regions = [config.primary, config.standby];
  const function_ = traffic.holderCheck === 'function';

  // The same rules `config validate` applies (functions/core/config-rules.ts): a configuration built in code
  // skips it, and the CDK must not deploy a traffic layer that could only half work.
  const issue = trafficIssues(config)[0];
  if (issue) throw new TopologyError(issue.field, issue.message);
  if (traffic.createRecords) {
    for (const [role, r] of [
      ['primary', config.primary],
      ['standby', config.standby],
    ] as const) {
      if (!r.setIdentifier) {
        throw new TopologyError(`${role}.setIdentifier`, 'createRecords names each record by it');
      }
    }
  }

  const holderChecks: Record<string, HolderCheckTarget> = {};
  for (const r of regions) {
    holderChecks[r.region] = r.holderCheckUrl
      ? { served: 'configured', url: r.holderCheckUrl }
      : function_
        ? { served: 'function', authorityRegion: controlTableRegionFor(r.region) }
        : { served: 'application', url: holderCheckUrlOf(r) };
  }
  return {
    mode: traffic.mode,
    stackRegion: traffic.mode === 'accelerator' ? ACCELERATOR_API_REGION : config.controlRegions[0]!,
    holderChecks,
    // Every replica serves it, so an operator can point a check at another authority region by holderCheckUrl.
    holderFunctionRegions: function_ ? [...authorityRegions] : [],
  };
}
