/** Errors of the Slack approval path. The request-approval function's errors reach the state machine's Catch. */

/** Slack refused or did not answer a Web API call (posting the approval message, for instance). */
export class SlackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackError';
  }
}

/**
 * The execution did not take the answer: its task already timed out, or the token is unknown. The approval is
 * decided in the store all the same; the execution follows its timeout path.
 */
export class TaskCallbackError extends Error {
  constructor(
    message: string,
    readonly code: 'TASK_GONE' | 'CALLBACK_FAILED',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TaskCallbackError';
  }
}
