import { describe, expect, it } from 'vitest';
import { runDetectionDemo } from '../../infra/local/detection-demo.js';

interface EvidenceVote {
  voter: string;
  healthy: boolean;
  since: number;
  observedAt: number;
}

describe('detection path end to end (DynamoDB Local, 5 probers, 2 servers, 2 aggregators)', () => {
  it('2 of 5 watchers losing sight requests nothing; the primary going down requests exactly one failover', async () => {
    const result = await runDetectionDemo();
    const { debounceMs, quorum } = result.config;
    const intervalMs = result.config.probe.intervalMs;
    expect(result.partialOutage.failoverRequests).toBe(0);
    expect(result.regionOutage.failoverRequests).toBe(1);
    expect(result.timeline.ofType('failover_requested')).toHaveLength(1);

    // Lower bound (I3): detection can never beat the debounce window.
    const detectionMs = result.regionOutage.detectionMs;
    expect(detectionMs).toBeGreaterThanOrEqual(debounceMs);

    // Upper bound, in probe rounds, from the request's own evidence: every streak it counts began with the
    // kill, and the streak that completed the quorum is the first that could show the debounce over, so it
    // exceeds the debounce by less than one probe interval. Two more intervals allow for stream delivery and
    // for late timers on a shared machine; a detector that needed another round (or another window) fails.
    const evidence = result.regionOutage.request?.evidence as { fresh: EvidenceVote[] };
    const killedAt = result.regionOutage.killedAt;
    const streaks = evidence.fresh
      .filter((v) => !v.healthy)
      .map((v) => {
        expect(v.since, `${v.voter}'s streak began before the kill`).toBeGreaterThanOrEqual(killedAt);
        return v.observedAt - v.since;
      })
      .sort((a, b) => b - a);
    expect(streaks.length).toBeGreaterThanOrEqual(quorum);
    const quorate = streaks[quorum - 1]!;
    expect(quorate).toBeGreaterThanOrEqual(debounceMs);
    expect(quorate).toBeLessThan(debounceMs + 3 * intervalMs);

    // End to end, generously: the first failed probe comes within a round of the kill, then the debounce,
    // then the round above. A second debounce window (a streak counted from its second failure, a verdict
    // that waits for two sustained rounds) would cross this.
    expect(detectionMs).toBeLessThan(2 * debounceMs);
  });
});
