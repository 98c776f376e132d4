import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CutoverConfig } from '#core/config.js';
import type { RebuildMark } from '#core/eligibility.js';
import type { Incident } from '#core/incident.js';
import type { Lease } from '#core/lease.js';
import { type NextStep, nextStep, type Stopped, whereItStopped } from '#core/next-step.js';
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
  UsageError,
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

export interface StatusCommandDeps extends ControlCommandDeps {
  /** Ends `--watch` (the CLI's is the first SIGINT or SIGTERM); a test aborts it after a few redraws. */
  signal?: AbortSignal;
}

/** `cutover status`: one snapshot, or with --watch [SECONDS] one every SECONDS (default 5) until Ctrl-C. */
export function statusCommand(argv: string[], deps: StatusCommandDeps = {}): Promise<number> {
  let every: number | null = null;
  return run(
    USAGE.status,
    deps,
    () => {
      const w = watchOption(argv);
      every = w.every;
      return flags(w.rest, {
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        ...tableFlags,
      });
    },
    async (ctx, values) => {
      const show = async () => {
        const status = await readStatus(ctx.config.application, ctx, ctx.clock.now());
        const screen = statusScreen(status, ctx.config, ctx.table, commandFlags(values));
        return values.json ? `${JSON.stringify(screen)}\n` : formatStatus(screen);
      };
      if (every === null) {
        ctx.io.out(await show());
        return;
      }
      const signal = deps.signal ?? untilSignal();
      // A redraw clears a terminal; into a pipe or a file each snapshot follows the last, with a blank line.
      const clear = !values.json && process.stdout.isTTY && !deps.io ? '\x1b[2J\x1b[H' : '';
      let first = true;
      while (!signal.aborted) {
        let text: string;
        try {
          text = await show();
        } catch (err) {
          // A failed read is shown and retried at the next refresh: the screen must outlive a blip.
          text = tableError(ctx.table, err);
        }
        ctx.io.out(`${clear || first || values.json ? clear : '\n'}${text}`);
        if (!values.json) ctx.io.out(`  (refreshing every ${every} s; Ctrl-C stops)\n`);
        first = false;
        await sleep(every * 1000, signal);
      }
    },
  );
}

/** `--watch`, `--watch SECONDS` or `--watch=SECONDS`, taken out before the strict flags are parsed. */
function watchOption(argv: string[]): { every: number | null; rest: string[] } {
  const i = argv.findIndex((a) => a === '--watch' || a.startsWith('--watch='));
  if (i < 0) return { every: null, rest: argv };
  const arg = argv[i]!;
  const inline = arg.startsWith('--watch=') ? arg.slice('--watch='.length) : undefined;
  const next = argv[i + 1];
  const given = inline ?? (next !== undefined && /^\d/.test(next) ? next : undefined);
  const every = given === undefined ? 5 : Number(given);
  if (!Number.isFinite(every) || every < 0.1 || every > 3600) {
    throw new UsageError(
      `--watch takes the seconds between refreshes, from 0.1 to 3600 (default 5), got ${JSON.stringify(given)}`,
    );
  }
  const rest = argv.filter(
    (_, j) => j !== i && !(j === i + 1 && inline === undefined && given !== undefined),
  );
  return { every, rest };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

function untilSignal(): AbortSignal {
  const ac = new AbortController();
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    ac.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}

/** The flags that named the configuration and the table, repeated in every command the screen suggests. */
function commandFlags(values: {
  config?: string | undefined;
  table?: string | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
}): string {
  const shell = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`);
  return [
    ['--config', values.config],
    ['--table', values.table],
    ['--region', values.region],
    ['--endpoint', values.endpoint],
  ]
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => `${k} ${shell(v)}`)
    .join(' ');
}

export type StatusScreen = ControlStatus & { table: { name: string; region: string }; next: NextStep };

/** The snapshot with what to type next, as both the screen and --json show it. */
export function statusScreen(
  status: ControlStatus,
  config: CutoverConfig,
  table: ControlTable,
  commandLine: string,
): StatusScreen {
  const next = nextStep({
    application: config.application,
    primary: config.primary.region,
    standby: config.standby.region,
    flags: commandLine,
    engine: config.database?.engine ?? null,
    databaseIds: {
      [config.primary.region]: config.primary.databaseId,
      [config.standby.region]: config.standby.databaseId,
    },
    lease: status.lease,
    pause: status.pause,
    open: status.openIncident,
    stopped: status.lastStopped,
    rebuilds: status.rebuilds,
  });
  return { ...status, table: { name: table.name, region: table.region }, next };
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
  /**
   * The last failover or failback that failed or aborted, when it is newer than the last completed one: where it
   * stopped, why, and how far it got.
   */
  lastStopped: Stopped | null;
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
  const [lease, pauseRecord, verdict, open, lastFailover, rebuilds, unfinished] = await Promise.all([
    stores.leases.read(application),
    stores.control.getPause(application),
    stores.control.getVerdict(application),
    stores.control.openIncident(application, 0, LAST_EPOCH),
    stores.control.lastCompletedFailover(application),
    stores.control.listRebuilds(application),
    stores.control.lastClosedIncident(application, ['failed', 'aborted']),
  ]);
  // A failure that a later failover or failback put right is history (`cutover audit` still has it).
  const stale =
    unfinished !== null && lastFailover !== null && (lastFailover.closedAt ?? 0) > (unfinished.closedAt ?? 0);
  const lastStopped =
    unfinished && !stale
      ? whereItStopped(unfinished, await stores.control.listAudit(application, unfinished.id), lease)
      : null;
  return {
    application,
    at: now,
    lease: lease ? leaseStatus(lease, now) : null,
    pause: pauseRecord,
    verdict,
    openIncident: open,
    lastCompletedFailover: lastFailover,
    lastStopped,
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

export function formatStatus(s: StatusScreen): string {
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
    ...(s.lastStopped
      ? describeStopped(s.lastStopped)
      : [['last failed or aborted', 'none'] as [string, string]]),
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
  rows.push(['next', `${s.next.reason} (${s.next.code})`]);
  if (s.next.command) rows.push(['  type', s.next.command]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

function describeStopped(s: Stopped): [string, string][] {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const p = s.progress;
  return [
    [`last ${s.incident.status}`, describeIncident(s.incident)],
    ['  stopped at', `${s.step}: ${s.error}: ${s.cause}`],
    [
      '  how far',
      `fenced ${yes(p.fenced)}, promoted ${yes(p.promoted)}, lease granted ${yes(p.leaseGranted)}, traffic moved ${yes(p.trafficMoved)}`,
    ],
  ];
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
