import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDrill } from '../../infra/local/drill/run.js';

interface Event {
  at: number;
  type: string;
  source: string;
  region?: string;
  hook?: string;
}

describe('warm-standby drill (issue 15: hooks behind the local actuator)', () => {
  it('scales the standby from 2 to 6 tasks once, before its lease, and times the hooks in the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cutover-warm-standby-'));
    const report = await runDrill({ scenario: 'warm-standby', seed: 7, out });
    expect(report.reasons).toEqual([]);
    // From the artifacts alone: the one scaling call reached the standby before the standby got its lease.
    const timeline = readFileSync(join(out, 'timeline.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Event);
    const standby = report.config.standby.region;
    const applied = timeline.filter((e) => e.type === 'hook_apply');
    expect(applied.map((e) => [e.source, e.hook])).toEqual([[`hooks@${standby}`, 'scale-standby']]);
    const granted = timeline.find((e) => e.type === 'lease_granted' && e.region === standby);
    expect(granted).toBeDefined();
    expect(applied[0]!.at).toBeLessThan(granted!.at);
    expect(timeline.filter((e) => e.type === 'hook_invoke').map((e) => e.hook)).toEqual(['purge-cache']);
    // Four tasks to place, one every 100 ms: the phase is at least that long, and part of promote.
    const steps = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).steps;
    expect(steps.hooks_ms).toBeGreaterThanOrEqual(400);
    expect(steps.promote_ms).toBeGreaterThanOrEqual(steps.hooks_ms);
  });
});
