import { parseArgs } from 'node:util';
import { runDetectionDemo } from '../infra/local/detection-demo.js';
import { SetupError } from '../infra/local/dynamodb-local.js';

/** Until the full drill lands, `cutover drill` runs the detection path end to end. */
export async function drillCommand(argv: string[]): Promise<number> {
  let values: { scenario?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        approve: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  try {
    const result = await runDetectionDemo({ live: !values.json });
    const ok = result.partialOutage.failoverRequests === 0 && result.regionOutage.failoverRequests === 1;
    const summary = {
      scenario: 'detection',
      verdict: ok ? 'pass' : 'fail',
      partial_outage_failover_requests: result.partialOutage.failoverRequests,
      region_outage_failover_requests: result.regionOutage.failoverRequests,
      detection_ms: result.regionOutage.detectionMs,
    };
    process.stdout.write(
      values.json ? `${JSON.stringify(summary)}\n` : `\n${JSON.stringify(summary, null, 2)}\n`,
    );
    return ok ? 0 : 1;
  } catch (err) {
    if (err instanceof SetupError) {
      process.stderr.write(`setup problem: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
