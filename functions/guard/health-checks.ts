import type { LagReading, ReplicationLagReader } from '#core/failover-ports.js';
import { type GamedayMarker, type GamedayMarkerReader, markerState } from '#core/gameday.js';
import { type QueueBacklogReader, thresholdResult } from '#core/health.js';
import type { DeepCheck } from './health.js';

/**
 * The deep checks of the health contract, each a small factory around what the application already has: its own
 * database client, a lag reader, a queue metric reader, a dependency's URL.
 */

/**
 * Kind `write`: the application writes a test row through its own database client and reads it back, e.g.
 * an upsert of `health_probe` for its region `RETURNING at`; on a replica (`pg_is_in_recovery()`), which takes no
 * writes, it reads the row instead (`decide()` ignores `write` checks in the standby's votes anyway). It must pass
 * `signal` on (or cancel its statement when it aborts); a database that refuses writes (read-only, revoked, full)
 * fails the check.
 */
export function writeCheck(writeTestRow: (signal: AbortSignal) => Promise<unknown>): DeepCheck {
  if (typeof writeTestRow !== 'function')
    throw new TypeError('writeCheck needs the write-a-test-row callback');
  return async (signal) => {
    await writeTestRow(signal);
    return { ok: true, detail: 'test row written and read back' };
  };
}

/**
 * Kind `replication-lag`: the standby's lag, from a callback (e.g. `pg_last_xact_replay_timestamp()` on the
 * replica) or the control plane's ReplicationLagReader port (CloudWatch ReplicaLag / AuroraGlobalDBRPOLag).
 */
export function replicationLagCheck(
  read: ((signal: AbortSignal) => Promise<number | null>) | { reader: ReplicationLagReader; region: string },
  maxLagMs: number,
): DeepCheck {
  if (!(maxLagMs >= 0)) throw new RangeError(`replicationLagCheck: maxLagMs must be ≥ 0, got ${maxLagMs}`);
  const lagOf =
    typeof read === 'function'
      ? read
      : async () => ((await read.reader.read(read.region)) as LagReading).lagMs;
  return async (signal) => thresholdResult('replication lag', await lagOf(signal), maxLagMs, 'ms');
}

/**
 * Kind `queue-backlog`: the age of the oldest message in the application's queue (SQS
 * ApproximateAgeOfOldestMessage, CloudWatch namespace AWS/SQS). An empty queue has nothing to age: it passes.
 */
export function queueBacklogCheck(
  reader: QueueBacklogReader,
  queue: string,
  maxAgeSeconds: number,
): DeepCheck {
  if (!(maxAgeSeconds > 0))
    throw new RangeError(`queueBacklogCheck: maxAgeSeconds must be > 0, got ${maxAgeSeconds}`);
  return async (signal) => {
    const age = await reader.oldestMessageAgeSeconds(queue, signal);
    if (age === null) return { ok: true, detail: `${queue}: no message waiting` };
    const r = thresholdResult('oldest message', age, maxAgeSeconds, 's');
    return { ok: r.ok, detail: `${queue}: ${r.detail}` };
  };
}

/** Kind `dependency`: a GET of `url` answers 2xx before the check's timeout. */
export function dependencyCheck(url: string, fetchImpl: typeof fetch = fetch): DeepCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`dependencyCheck: ${url} is not a URL`);
  }
  return async (signal) => {
    const res = await fetchImpl(parsed, {
      method: 'GET',
      signal,
      headers: { 'user-agent': 'cutover-health' },
    });
    await res.body?.cancel().catch(() => {});
    const ok = res.status >= 200 && res.status < 300;
    return { ok, detail: `${parsed.host} answered ${res.status}` };
  };
}

/**
 * Kind `gameday` (docs/gameday.md): fails while a game-day marker for `region` is live in the control table, so a
 * game day (`cutover gameday`) fails this region's health for real, as the watchers and the keeper see it. The
 * marker is read at most once per `cacheMs` (give it `probe.intervalMs`: at most one read per probe round, however
 * many watchers probe), and a cached marker stops failing at its `until` without another read: the fault ends by
 * itself. A read that fails passes the check (with the error as detail): an unreadable control table must never
 * fail a primary over; a game day then sees no failover and stops at its timeout.
 */
export function gamedayCheck(
  reader: GamedayMarkerReader,
  options: { application: string; region: string; cacheMs: number; now?: () => number },
): DeepCheck {
  if (typeof reader?.readMarker !== 'function') throw new TypeError('gamedayCheck needs a marker reader');
  if (!(options.cacheMs >= 0))
    throw new RangeError(`gamedayCheck: cacheMs must be ≥ 0, got ${options.cacheMs}`);
  const now = options.now ?? Date.now;
  let cached: { at: number; marker: GamedayMarker | null; error?: string } | null = null;
  let reading: Promise<void> | null = null;
  const refresh = (signal: AbortSignal) =>
    (reading ??= reader
      .readMarker(options.application, options.region, signal)
      .then(
        (marker) => {
          cached = { at: now(), marker };
        },
        (err: unknown) => {
          cached = { at: now(), marker: null, error: err instanceof Error ? err.message : String(err) };
        },
      )
      .finally(() => {
        reading = null;
      }));
  return async (signal) => {
    if (cached === null || now() - cached.at >= options.cacheMs) await refresh(signal);
    const c = cached!;
    if (c.error !== undefined)
      return {
        ok: true,
        detail: `game-day marker unreadable, no game day assumed: ${c.error}`.slice(0, 200),
      };
    const state = markerState(c.marker, options.region, now());
    return { ok: !state.live, detail: state.reason };
  };
}
