import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { TaskCallbackError } from '#core/approval-errors.js';
import type { TaskCallback, TaskRef } from '#core/approval-ports.js';
import type { ApprovalDecision } from '#core/failover-ports.js';

/** The execution stopped waiting (timed out, ended) or the token is not one: a retry cannot help. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** SendTaskFailure's cause is at most 32768 characters; the ASL's Catch puts it in the abort reason. */
const CAUSE_MAX = 32_768;

/**
 * Answers the approval task: SendTaskSuccess with the decision as output (the ASL reads $.approval.approved), or
 * SendTaskFailure with error ApprovalRejectedError, which the ASL catches and turns into an abort.
 */
export class SfnTaskCallback implements TaskCallback {
  constructor(private readonly sfnFor: (region: string) => SFNClient) {}

  async approve(task: TaskRef, decision: ApprovalDecision): Promise<void> {
    await this.send(
      task,
      new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify(decision) }),
    );
  }

  async reject(task: TaskRef, decision: ApprovalDecision): Promise<void> {
    const cause = `${decision.by} rejected the approval: ${decision.reason}`.slice(0, CAUSE_MAX);
    await this.send(
      task,
      new SendTaskFailureCommand({ taskToken: task.token, error: 'ApprovalRejectedError', cause }),
    );
  }

  private async send(task: TaskRef, command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<void> {
    try {
      // The union of two commands does not narrow SFNClient.send's overloads; each is sent as itself.
      if (command instanceof SendTaskSuccessCommand) await this.sfnFor(task.region).send(command);
      else await this.sfnFor(task.region).send(command);
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (GONE.has(name)) {
        throw new TaskCallbackError(`the approval task no longer waits (${name})`, 'TASK_GONE', {
          cause: err,
        });
      }
      throw new TaskCallbackError(
        `Step Functions refused the answer: ${(err as Error).message}`,
        'CALLBACK_FAILED',
        {
          cause: err,
        },
      );
    }
  }
}
