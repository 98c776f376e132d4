import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { ExecutionReader, ExecutionSummary, HistoryEvent } from '#core/gameday.js';

const ms = (d: Date | undefined) => (d ? d.getTime() : null);

/**
 * The failover machine's executions, read for a game day. ListExecutions returns the newest first and pages with
 * nextToken; GetExecutionHistory returns the oldest first by default and pages with nextToken (each token valid
 * 24 h), up to 1,000 events a page (Step Functions API reference, ListExecutions and GetExecutionHistory).
 */
export class SfnExecutionReader implements ExecutionReader {
  constructor(private readonly sfn: SFNClient) {}

  async startedSince(machineArn: string, since: number): Promise<ExecutionSummary[]> {
    const out: ExecutionSummary[] = [];
    let nextToken: string | undefined;
    do {
      const res = await this.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: machineArn, maxResults: 100, nextToken }),
      );
      const page = res.executions ?? [];
      for (const e of page) {
        const startedAt = ms(e.startDate);
        if (startedAt !== null && startedAt >= since && e.executionArn) {
          out.push({
            arn: e.executionArn,
            status: e.status ?? 'UNKNOWN',
            startedAt,
            stoppedAt: ms(e.stopDate),
          });
        }
      }
      // Newest first: once a page reaches executions older than the fault, the rest are older still.
      const oldest = page.at(-1)?.startDate;
      nextToken = oldest && oldest.getTime() < since ? undefined : res.nextToken;
    } while (nextToken);
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  async describe(executionArn: string): Promise<ExecutionSummary> {
    const res = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return {
      arn: executionArn,
      status: res.status ?? 'UNKNOWN',
      startedAt: ms(res.startDate) ?? 0,
      stoppedAt: ms(res.stopDate),
    };
  }

  async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const res = await this.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
      );
      events.push(...((res.events ?? []) as HistoryEvent[]));
      nextToken = res.nextToken;
    } while (nextToken);
    return events;
  }
}
