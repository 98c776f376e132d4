import { type DeepHealthProbe, fetchHealthDocument } from '#adapters/http/deep-health-probe.js';
import type { HealthProbe } from '#adapters/http/health-probe.js';
import type { CutoverConfig } from '#core/config.js';
import { isFailed, recordedChecks, voteDetail, voteHealthy } from '#core/health.js';
import type { Clock, VoteStore } from '#core/ports.js';
import { nextVote, type Vote } from '#core/vote.js';

export interface ProberDeps {
  config: CutoverConfig;
  voter: string;
  votes: VoteStore;
  probe: HealthProbe;
  /** Reads the health contract's document (issue 15) when `config.health` is set; defaults to HTTP. */
  deepProbe?: DeepHealthProbe;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** Milliseconds left in this invocation; the loop stops before a probe could outlive it. */
  remainingMs: () => number;
  /** Region → health URL to probe; defaults to the configured primary and standby. */
  targets?: { region: string; url: string }[];
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * How much later than the regular interval to start the next round, so that an unhealthy streak's next
 * observation lands just past the debounce window instead of just short of it. With a debounce that is a whole
 * number of intervals (the default: 30 s and 10 s) the observation that completes the window lands on its
 * boundary, and jitter of a few milliseconds decides whether the failover is requested then or one whole
 * interval later. The shift is small and bounded: at most a tenth of an interval, and at most a quarter of the
 * room voteStalenessMs leaves beyond an interval and a probe timeout, so this voter's other votes (the standby's)
 * keep most of their margin against going stale; with no room, nothing shifts.
 */
export function debounceAlignmentMs(
  streaks: readonly { healthy: boolean; streakSince: number; observedAt: number }[],
  roundStartedAt: number,
  nextStartAt: number,
  config: Pick<CutoverConfig, 'debounceMs' | 'voteStalenessMs' | 'probe'>,
): number {
  const { intervalMs, responseTimeoutMs } = config.probe;
  // Every vote of this voter ages by the shift before its next one: take at most a quarter of the room the
  // staleness window leaves beyond an interval and a probe timeout, and at most a tenth of an interval.
  const cap = Math.min(intervalMs / 10, (config.voteStalenessMs - intervalMs - responseTimeoutMs) / 4);
  if (cap <= 0) return 0;
  // Lands past the boundary by a little, so that jitter in the probe's own duration does not undo it.
  const margin = intervalMs / 20;
  let shift = 0;
  for (const v of streaks) {
    if (v.healthy) continue;
    const due = v.streakSince + config.debounceMs;
    const lands = nextStartAt + (v.observedAt - roundStartedAt);
    const short = due - lands;
    if (short >= 0 && short + margin <= cap) shift = Math.max(shift, short + margin);
  }
  return Math.ceil(shift);
}

export interface ProberRound {
  at: number;
  votes: {
    target: string;
    healthy: boolean;
    detail: string;
    write: 'written' | 'superseded';
    /** The deep checks that failed, by name, when the health contract is configured. */
    failedChecks?: string[];
  }[];
}

/** Votes live a little longer than they can matter, then DynamoDB's TTL removes them. */
export const VOTE_TTL_SECONDS = 3600;

/**
 * A watcher's invocation: probe every application region every probe interval, write one vote per target each
 * time, and carry the streak from the previous vote (read once per target, then remembered).
 */
export async function runProber(deps: ProberDeps): Promise<ProberRound[]> {
  const { config, voter, votes, clock } = deps;
  const targets = deps.targets ?? [
    { region: config.primary.region, url: config.primary.healthUrl },
    { region: config.standby.region, url: config.standby.healthUrl },
  ];
  const previous = new Map<string, Vote | undefined>();
  const rounds: ProberRound[] = [];
  // With the health contract, the deep probe's answer timeout starts once connected: allow for connecting too.
  const budget = config.probe.responseTimeoutMs + (config.health ? config.probe.connectTimeoutMs : 0) + 1_000;
  while (deps.remainingMs() > budget) {
    const started = clock.now();
    const round: ProberRound = { at: started, votes: [] };
    const streaks: Vote[] = [];
    await Promise.all(
      targets.map(async ({ region, url }) => {
        if (!previous.has(region)) previous.set(region, await votes.get(config.application, region, voter));
        const result = await probeRegion(deps, url);
        const vote = nextVote(
          previous.get(region),
          { ...result, observedAt: clock.now() },
          { application: config.application, target: region, voter },
          VOTE_TTL_SECONDS,
          // A streak that was interrupted for longer than a vote stays fresh does not carry over (I3).
          config.voteStalenessMs,
        );
        const write = await votes.put(vote);
        streaks.push(vote);
        // Superseded means another invocation of this voter wrote a newer vote: adopt it on the next round.
        previous.set(region, write === 'written' ? vote : await votes.get(config.application, region, voter));
        const failed = vote.checks?.filter(isFailed).map((c) => c.name);
        round.votes.push({
          target: region,
          healthy: vote.healthy,
          detail: vote.detail,
          write,
          ...(failed ? { failedChecks: failed } : {}),
        });
      }),
    );
    rounds.push(round);
    deps.log?.('probe round', { voter, votes: round.votes });
    const wait =
      config.probe.intervalMs -
      (clock.now() - started) +
      debounceAlignmentMs(streaks, started, started + config.probe.intervalMs, config);
    if (deps.remainingMs() - Math.max(wait, 0) <= budget) break;
    if (wait > 0) await deps.sleep(wait);
  }
  return rounds;
}

/**
 * The plain probe of the region's health URL and, when the health contract is configured, its deep checks read at
 * the same time from the same origin: the vote is unhealthy when either the plain probe or a check weighted
 * `unhealthy` fails, and carries every check's result for decide() to weigh.
 */
async function probeRegion(deps: ProberDeps, url: string) {
  const { config } = deps;
  const health = config.health;
  if (!health) return deps.probe(url, config.probe);
  const deepUrl = new URL(health.path, url).toString();
  const deepStarted = performance.now();
  const [plain, answer] = await Promise.all([
    deps.probe(url, config.probe),
    (deps.deepProbe ?? fetchHealthDocument)(
      deepUrl,
      config.probe.responseTimeoutMs,
      config.probe.connectTimeoutMs,
    ),
  ]);
  const checks = recordedChecks(health, answer, performance.now() - deepStarted);
  return {
    ...plain,
    healthy: voteHealthy(plain.healthy, checks, health),
    detail: voteDetail(plain.detail, checks, health),
    checks,
    plainHealthy: plain.healthy,
  };
}
