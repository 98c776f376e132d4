import { readFileSync } from 'node:fs';
import { type App, type Stack, Tags } from 'aws-cdk-lib';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import { CutoverDashboard } from './constructs/dashboard.js';
import { ApplicationStack } from './stacks/application-stack.js';
import { ControlStack } from './stacks/control-stack.js';
import { HolderCheckStack } from './stacks/holder-check-stack.js';
import { ControlTableStack, VotesTableStack } from './stacks/tables.js';
import { TrafficStack } from './stacks/traffic-stack.js';
import { WatcherStack } from './stacks/watcher-stack.js';
import { type Topology, topology as topologyOf } from './topology.js';

export const DEFAULT_CONFIG = 'examples/cutover.example.json';

export interface CutoverStacks {
  topology: Topology;
  votesTable: VotesTableStack;
  controlTable: ControlTableStack;
  control: ControlStack[];
  watchers: WatcherStack[];
  applications: ApplicationStack[];
  /** The holder-check function URL in each lease-authority region (traffic.holderCheck function only). */
  holderChecks: HolderCheckStack[];
  /** The global traffic layer; absent without a traffic section. */
  traffic?: TrafficStack;
  all: Stack[];
}

/** Reads and validates a configuration file with the same loader the functions and the CLI use. */
export function readConfig(file: string): CutoverConfig {
  return loadConfig(JSON.parse(readFileSync(file, 'utf8')), { file: true });
}

/**
 * One stack per region and role. Stack names carry the application, the role and the region, so several
 * applications can share an account. Deploy order is tables → holder checks → control → application → watchers →
 * traffic: each stack depends only on the tables (by name, never by export, since exports cannot cross regions),
 * and the stacks that poll the holder-check function look its URL up at deploy time, after it exists.
 */
export function buildCutover(app: App, config: CutoverConfig, account?: string): CutoverStacks {
  const topology = topologyOf(config);
  const prefix = `cutover-${config.application}`;
  const env = (region: string) => ({ region, ...(account ? { account } : {}) });
  const common = { config, topology };

  const votesTable = new VotesTableStack(app, `${prefix}-votes-table`, {
    topology,
    env: env(topology.votes.home),
    description: `Cutover ${config.application}: the votes global table (MREC) and its replicas`,
  });
  const controlTable = new ControlTableStack(app, `${prefix}-control-table`, {
    topology,
    env: env(topology.control.home),
    description: `Cutover ${config.application}: the control table (${topology.control.mode === 'mrsc' ? 'MRSC' : 'arbiter'}) with the lease`,
  });
  const tables = [votesTable, controlTable];

  const holderChecks = (topology.traffic?.holderFunctionRegions ?? []).map(
    (region) =>
      new HolderCheckStack(app, `${prefix}-holder-check-${region}`, {
        ...common,
        env: env(region),
        description: `Cutover ${config.application}: holder-check function URL in lease-authority region ${region}`,
      }),
  );

  const control = topology.controlRegions.map(
    (region) =>
      new ControlStack(app, `${prefix}-control-${region}`, {
        ...common,
        env: env(region),
        description: `Cutover ${config.application}: control region ${region} (aggregator, state machines, bus)`,
      }),
  );
  const applications = [config.primary, config.standby].map(
    (r) =>
      new ApplicationStack(app, `${prefix}-app-${r.region}`, {
        ...common,
        healthUrl: r.healthUrl,
        env: env(r.region),
        description: `Cutover ${config.application}: application region ${r.region} (lease heartbeat)`,
      }),
  );
  const watchers = topology.watchers.map(
    (region) =>
      new WatcherStack(app, `${prefix}-watcher-${region}`, {
        ...common,
        env: env(region),
        description: `Cutover ${config.application}: watcher ${region} (prober)`,
      }),
  );
  const traffic = topology.traffic
    ? new TrafficStack(app, `${prefix}-traffic`, {
        ...common,
        env: env(topology.traffic.stackRegion),
        description: `Cutover ${config.application}: the global traffic layer (${topology.traffic.mode}) on the holder checks`,
      })
    : undefined;
  for (const stack of [
    ...holderChecks,
    ...control,
    ...applications,
    ...watchers,
    ...(traffic ? [traffic] : []),
  ]) {
    for (const t of tables) stack.addStackDependency(t, 'tables are referenced by name');
  }
  for (const stack of [...control, ...(traffic ? [traffic] : [])]) {
    for (const h of holderChecks)
      stack.addStackDependency(h, 'the holder-check function URL is looked up by name');
  }
  new CutoverDashboard(control[0]!, 'dashboard', common);

  const all: Stack[] = [
    ...tables,
    ...holderChecks,
    ...control,
    ...applications,
    ...watchers,
    ...(traffic ? [traffic] : []),
  ];
  for (const stack of all) Tags.of(stack).add('cutover:application', config.application);
  return {
    topology,
    votesTable,
    controlTable,
    control,
    watchers,
    applications,
    holderChecks,
    ...(traffic ? { traffic } : {}),
    all,
  };
}
