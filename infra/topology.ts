import { createHash } from 'node:crypto';
import type { CutoverConfig } from '../functions/core/config.js';

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

export interface Names {
  votesTable: string;
  controlTable: string;
  eventBus: string;
  alarmTopic: string;
  dashboard: string;
  function(role: string): string;
  stateMachine(kind: 'failover' | 'failback'): string;
  logGroup(role: string): string;
  secret(kind: 'slack-bot-token' | 'slack-signing-secret'): string;
}

/**
 * MRSC replicas and witness must all sit in one of these region sets (AWS::DynamoDB::GlobalTable
 * GlobalTableWitness, CloudFormation reference); CDK's TableV2 checks the same sets.
 */
export const MRSC_REGION_SETS: Record<string, readonly string[]> = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
};

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
    const all = [...la.regions, ...(la.witnessRegion ? [la.witnessRegion] : [])];
    const set = Object.entries(MRSC_REGION_SETS).find(([, regions]) => regions.includes(all[0]!));
    const outside = all.filter((r) => !set?.[1].includes(r));
    if (!set || outside.length > 0) {
      throw new TopologyError(
        la.witnessRegion && outside.includes(la.witnessRegion) && set
          ? 'leaseAuthority.witnessRegion'
          : 'leaseAuthority.regions',
        `MRSC replicas and witness must all lie in one region set (${Object.entries(MRSC_REGION_SETS)
          .map(([k, v]) => `${k}: ${v.join(', ')}`)
          .join(
            '; ',
          )}); ${outside.join(', ') || all[0]} is outside ${set ? `the ${set[0]} set` : 'every set'}`,
      );
    }
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
    eventBus: prefix,
    alarmTopic: `${prefix}-alarms`,
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
