import { describe, expect, it } from 'vitest';
import { runDetectionDemo } from '../../infra/local/detection-demo.js';

describe('detection path end to end (DynamoDB Local, 5 probers, 2 servers, 2 aggregators)', () => {
  it('2 of 5 watchers losing sight requests nothing; the primary going down requests exactly one failover', async () => {
    const result = await runDetectionDemo();
    expect(result.partialOutage.failoverRequests).toBe(0);
    expect(result.regionOutage.failoverRequests).toBe(1);
    // Detection can never beat the debounce window (I3), and stays within a few probe intervals of it.
    expect(result.regionOutage.detectionMs).toBeGreaterThanOrEqual(2_500);
    const requested = result.timeline.ofType('failover_requested');
    expect(requested).toHaveLength(1);
  });
});
