import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CutoverConfig } from '#core/config.js';
import type { RebuildMark } from '#core/eligibility.js';
import type { Incident } from '#core/incident.js';
import type { Lease } from '#core/lease.js';
import {
  type Clock,
  type ControlStore,
  type LeaseStore,
  type PauseRecord,
  systemClock,
  type VerdictRecord,
} from '#core/ports.js';
import { loadConfig } from './config-file.js';
import {
  type ControlTable,
  flags,
  type Io,
  iso,
  openControlTable,
  processIo,
  required,
  tableError,
  tableFlags,
  whoami,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

export const USAGE = {
  status: usageOf('status'),
  pause: usageOf('pause'),
  resume: usageOf('resume'),
};

export interface ControlCommandDeps {
  io?: Io;
  clock?: Clock;
  /** Who is pausing when --by is not given. */
  whoami?: () => string;
  client?: (table: ControlTable) => DynamoDBDocumentClient;
}

interface Context {
  io: Io;
  clock: Clock;
  config: CutoverConfig;
  table: ControlTable;
  control: ControlStore;
  leases: LeaseStore;
}

/**
 * The shared edge of status, pause and resume: flags, configuration, control table. Exit codes: 0 done,
 * 1 a refused configuration or a failed call to the table, 2 a usage problem (nothing read or written).
 */
async function run<
  V extends {
    config?: string | undefined;
    table?: string | undefined;
    region?: string | undefined;
    endpoint?: string | undefined;
  },
>(
  usage: string,
  deps: ControlCommandDeps,
  parse: () => V,
  act: (ctx: Context, values: V) => Promise<void>,
): Promise<number> {
  const io = deps.io ?? processIo;
  const clock = deps.clock ?? systemClock;
  return withUsage(io, usage, async () => {
    const values = parse();
    const file = required(values.config, '--config');
    const config = loadConfig(file, io);
    if (!config) return 1;
    const ctx: Context = { io, clock, config, ...openControlTable(config, values, clock, deps.client) };
    try {
      await act(ctx, values);
      return 0;
    } catch (err) {
      io.err(tableError(ctx.table, err));
      return 1;
    }
  });
}

export function statusCommand(argv: string[], deps: ControlCommandDeps = {}): Promise<number> {
  return run(
    USAGE.status,
    deps,
    () =>
      flags(argv, { config: { type: 'string' }, json: { type: 'boolean', default: false }, ...tableFlags }),
    async (ctx, values) => {
      const status = await readStatus(ctx.config.application, ctx, ctx.clock.now());
      const shown = { ...status, table: { name: ctx.table.name, region: ctx.table.region } };
      ctx.io.out(values.json ? `${JSON.stringify(shown)}\n` : formatStatus(shown));
    },
  );
}

export function pauseCommand(argv: string[], deps: ControlCommandDeps = {}): Promise<number> {
  return run(
    USAGE.pause,
    deps,
    () => {
      const values = flags(argv, {
        config: { type: 'string' },
        reason: { type: 'string' },
        by: { type: 'string' },
        ...tableFlags,
      });
      // Checked before the configuration is read: a pause without a reason is refused outright.
      required(values.reason, '--reason');
      if (values.by !== undefined) required(values.by, '--by');
      return values;
    },
    async (ctx, values) => {
      const record: PauseRecord = {
        pausedBy: values.by ?? (deps.whoami ?? whoami)(),
        pausedAt: ctx.clock.now(),
        reason: values.reason!,
      };
      const change = await pause(ctx.control, ctx.config.application, record);
      ctx.io.out(`${change.sentence}\n`);
    },
  );
}

export function resumeCommand(argv: string[], deps: ControlCommandDeps = {}): Promise<number> {
  return run(
    USAGE.resume,
    deps,
    () => flags(argv, { config: { type: 'string' }, ...tableFlags }),
    async (ctx) => {
      const change = await resume(ctx.control, ctx.config.application);
      ctx.io.out(`${change.sentence}\n`);
    },
  );
}

export interface ControlStatus {
  application: string;
  at: number;
  lease: {
    holder: string | null;
    epoch: number;
    expiresAt: number;
    valid: boolean;
    /** Held by a region and expired: that region refuses writes, and no failover revoked its lease. */
    selfFenced: boolean;
  } | null;
  pause: PauseRecord | null;
  verdict: VerdictRecord | null;
  openIncident: Incident | null;
  lastCompletedFailover: Incident | null;
  /** Regions a failover or failback left, not yet shown to replicate from the primary again. */
  rebuilds: RebuildMark[];
}

// The incident sort key pads the epoch to 12 digits, so this bounds "any epoch".
const LAST_EPOCH = 999_999_999_999;

/** One snapshot of what the control plane holds for an application. Reads only. */
export async function readStatus(
  application: string,
  stores: { control: ControlStore; leases: LeaseStore },
  now: number,
): Promise<ControlStatus> {
  const [lease, pauseRecord, verdict, open, lastFailover, rebuilds] = await Promise.all([
    stores.leases.read(application),
    stores.control.getPause(application),
    stores.control.getVerdict(application),
    stores.control.openIncident(application, 0, LAST_EPOCH),
    stores.control.lastCompletedFailover(application),
    stores.control.listRebuilds(application),
  ]);
  return {
    application,
    at: now,
    lease: lease ? leaseStatus(lease, now) : null,
    pause: pauseRecord,
    verdict,
    openIncident: open,
    lastCompletedFailover: lastFailover,
    rebuilds,
  };
}

/**
 * Valid on this machine's clock: held and not yet expired. The holder itself stops writing maxSkew + margin
 * earlier, and a taker waits maxSkew longer, so an operator's clock only approximates either view.
 */
function leaseStatus(lease: Lease, now: number): NonNullable<ControlStatus['lease']> {
  return {
    holder: lease.holder,
    epoch: lease.epoch,
    expiresAt: lease.expiresAt,
    valid: lease.holder !== null && now < lease.expiresAt,
    selfFenced: lease.holder !== null && now >= lease.expiresAt,
  };
}

const ago = (ms: number) => `${(Math.abs(ms) / 1000).toFixed(1)} s`;

export function formatStatus(s: ControlStatus & { table: { name: string; region: string } }): string {
  const l = s.lease;
  const lease = !l
    ? 'none: no lease has ever been granted'
    : l.holder === null
      ? `revoked at epoch ${l.epoch}: no holder, writes are fenced (old lease expires ${iso(l.expiresAt)})`
      : l.valid
        ? `${l.holder} at epoch ${l.epoch}, valid until ${iso(l.expiresAt)} (in ${ago(l.expiresAt - s.at)})`
        : `SELF-FENCED: ${l.holder} at epoch ${l.epoch}, NOT valid: expired ${iso(l.expiresAt)} (${ago(s.at - l.expiresAt)} ago, not renewed); ${l.holder} refuses writes and no failover revoked its lease${s.openIncident ? ` (incident ${s.openIncident.id} is open: a failover may be fencing it)` : ': see its Primary Self-Fenced page (docs/lease-keeper.md)'}`;
  const rows: [string, string][] = [
    ['application', s.application],
    ['control table', `${s.table.name} (${s.table.region}), read ${iso(s.at)}`],
    ['lease', lease],
    [
      'pause',
      s.pause
        ? `PAUSED by ${s.pause.pausedBy} at ${iso(s.pause.pausedAt)}: ${s.pause.reason} (no new incidents)`
        : 'not paused',
    ],
    [
      'verdict',
      s.verdict ? `${s.verdict.kind} (${s.verdict.code}) since ${iso(s.verdict.since)}` : 'none recorded',
    ],
    ['open incident', s.openIncident ? describeIncident(s.openIncident) : 'none'],
    ['last completed failover', s.lastCompletedFailover ? describeIncident(s.lastCompletedFailover) : 'none'],
    [
      'needs rebuild',
      s.rebuilds.length
        ? s.rebuilds
            .map(
              (m) =>
                `${m.region} since ${iso(m.since)} (${m.reason}): not a replica of the primary until shown replicating; a failover to it loses data`,
            )
            .join('; ')
        : 'none',
    ],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

function describeIncident(i: Incident): string {
  const parts = [
    `${i.id} ${i.kind} ${i.from} → ${i.to}, ${i.status}`,
    `requested by ${i.requestedBy} at ${iso(i.requestedAt)}`,
  ];
  if (i.executionArn) parts.push(`execution ${i.executionArn}`);
  if (i.progressStep && i.status === 'running')
    parts.push(`step ${i.progressStep} since ${iso(i.progressAt ?? 0)}`);
  if (i.closedAt !== undefined)
    parts.push(`closed ${iso(i.closedAt)}${i.closeReason ? `: ${i.closeReason}` : ''}`);
  return parts.join('; ');
}

export interface PauseChange {
  previous: PauseRecord | null;
  current: PauseRecord | null;
  /** What changed, in one sentence: the command's output and the tests' oracle. */
  sentence: string;
}

const describePause = (p: PauseRecord) => `by ${p.pausedBy} at ${iso(p.pausedAt)}: ${p.reason}`;

/**
 * Sets the pause record. An operator's override, so the last one written stands; the previous record is read
 * first only to say what it replaced.
 */
export async function pause(
  control: ControlStore,
  application: string,
  record: PauseRecord,
): Promise<PauseChange> {
  const previous = await control.getPause(application);
  await control.setPause(application, record);
  const sentence =
    `paused ${application} ${describePause(record)}` +
    (previous ? ` (replaces the pause ${describePause(previous)})` : '') +
    '. New incidents are held; an execution already running goes on.';
  return { previous, current: record, sentence };
}

export async function resume(control: ControlStore, application: string): Promise<PauseChange> {
  const previous = await control.getPause(application);
  if (!previous) {
    return { previous, current: null, sentence: `${application} was not paused; nothing changed.` };
  }
  await control.clearPause(application);
  return {
    previous,
    current: null,
    sentence: `resumed ${application}: cleared the pause ${describePause(previous)}.`,
  };
}
