import { createHash } from 'node:crypto';
import type { CutoverConfig } from '#core/config.js';
import { mrscRegionSetIssue } from '#core/config-rules.js';

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
  /** The region whose control table a function in `region` reads and writes. */
  controlTableRegionFor(region: string): string;
}

/** The roles a region's stack plays; one region may host several. */
export type StackRole = 'control' | 'app' | 'watcher';

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

  return {
    application: app,
    applicationRegions,
    watchers: unique(config.watchers),
    controlRegions: unique(config.controlRegions),
    votes: { home: config.controlRegions[0]!, regions: votesRegions },
    control,
    names,
    controlTableRegionFor(region) {
      if (control.regions.includes(region)) return region;
      // A replica on the same continent (same first name part, as in us-*, eu-*) is the nearest guess.
      const continent = region.split('-')[0];
      return control.regions.find((r) => r.split('-')[0] === continent) ?? control.home;
    },
  };
}
