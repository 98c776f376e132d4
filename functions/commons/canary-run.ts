import {
  type CanaryEnd,
  type CanaryJudgement,
  type CanaryOptions,
  canaryVerdict,
  judgeCanary,
  type Probe,
  type ProbeStats,
  stats,
} from '#core/canary.js';
import type { TrafficRouter } from '#core/failover-ports.js';
import type { Clock } from '#core/ports.js';

export interface CanaryDeps {
  router: TrafficRouter;
  probe(region: string): Promise<Probe>;
  clock: Clock;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Aborted on Ctrl-C: the canary rolls back and reports. */
  signal: AbortSignal;
  timeline(event: Record<string, unknown>): void;
}

export interface CanaryReport {
  kind: 'canary';
  verdict: 'pass' | 'fail';
  reasons: string[];
  end: CanaryEnd;
  primary: string;
  standby: string;
  percent: number;
  duration_ms: number;
  /** From the share's change to its rollback. */
  ran_ms: number;
  probes: { primary: ProbeStats; standby: ProbeStats; method: string };
  traffic: { to_standby: string | null; rollback: string | null };
  last_judgement: CanaryJudgement | null;
}

/**
 * Sends the share to the standby, probes both regions every interval, judges, and always rolls back: on a breach,
 * at the end of the duration, on Ctrl-C, or when a probe throws. The rollback routes 100 % to the primary.
 */
export async function runCanary(
  deps: CanaryDeps,
  regions: { primary: string; standby: string },
  o: CanaryOptions,
): Promise<CanaryReport> {
  const { primary, standby } = regions;
  const probes: Record<string, Probe[]> = { [primary]: [], [standby]: [] };
  let end: CanaryEnd = { code: 'COMPLETED', reason: `ran ${o.durationMs} ms within thresholds` };
  let judgement: CanaryJudgement | null = null;
  let toStandby: string | null = null;
  const started = deps.clock.now();
  try {
    const change = await deps.router.routeTo(standby, o.percent);
    toStandby = change.detail;
    deps.timeline({
      at: deps.clock.now(),
      type: 'canary_started',
      region: standby,
      percent: o.percent,
      detail: change.detail,
    });
    while (deps.clock.now() - started < o.durationMs) {
      if (deps.signal.aborted) {
        end = { code: 'INTERRUPTED', reason: 'interrupted (Ctrl-C) before the end of the duration' };
        break;
      }
      const round = await Promise.all([deps.probe(primary), deps.probe(standby)]);
      for (const p of round) {
        probes[p.region]!.push(p);
        deps.timeline({
          at: p.at,
          type: 'probe',
          region: p.region,
          ok: p.ok,
          latency_ms: p.latencyMs,
          detail: p.detail,
        });
      }
      judgement = judgeCanary(stats(probes[primary]!), stats(probes[standby]!), o);
      if (judgement.action === 'rollback') {
        end = { code: judgement.code, reason: judgement.reason };
        deps.timeline({
          at: deps.clock.now(),
          type: 'canary_breach',
          code: judgement.code,
          reason: judgement.reason,
        });
        break;
      }
      await deps.sleep(o.intervalMs, deps.signal);
    }
  } catch (err) {
    end = { code: 'TRAFFIC_CHANGE_FAILED', reason: (err as Error).message };
  }
  let rollback: string | null = null;
  if (toStandby !== null) {
    try {
      // afterWeightedSteps: the share goes back through the same weights or dials it went out by, not the holder checks.
      rollback = (await deps.router.routeTo(primary, 100, { afterWeightedSteps: true })).detail;
      deps.timeline({
        at: deps.clock.now(),
        type: 'canary_rolled_back',
        region: primary,
        detail: rollback,
        code: end.code,
      });
    } catch (err) {
      deps.timeline({ at: deps.clock.now(), type: 'canary_rollback_failed', detail: (err as Error).message });
    }
  }
  const { verdict, reasons } = canaryVerdict(end, toStandby === null || rollback !== null);
  return {
    kind: 'canary',
    verdict,
    reasons,
    end,
    primary,
    standby,
    percent: o.percent,
    duration_ms: o.durationMs,
    ran_ms: deps.clock.now() - started,
    probes: {
      primary: stats(probes[primary]!),
      standby: stats(probes[standby]!),
      method: "HTTP GET of each region's own endpoint, both every interval",
    },
    traffic: { to_standby: toStandby, rollback },
    last_judgement: judgement,
  };
}
