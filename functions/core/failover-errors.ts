/**
 * Errors of the failover and failback steps. Their names are matched by the state machines' Retry and Catch
 * (ErrorEquals); TransientError (core/errors.ts) is the only one retried as such.
 */
class NamedError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/** Route 53 refused a change or a read for a reason that a retry will not fix. */
export class TrafficError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TrafficError', message, options);
  }
}

/** RDS refused to promote or describe, for a reason that a retry will not fix. */
export class DatabaseError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DatabaseError', message, options);
  }
}

/** CloudWatch refused the metric query. */
export class MetricsError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MetricsError', message, options);
  }
}

/** The lease moved under us (another execution or the heartbeat changed the epoch): stop, never fix up. */
export class LeaseLostError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LeaseLostError', message, options);
  }
}

/**
 * The revoked lease is not over yet on this clock (expiresAt + maxSkew). The state machine retries it with
 * backoff: the Wait state normally makes this impossible, and the retry covers a clock that lags the writer's.
 */
export class LeaseNotSafeYetError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LeaseNotSafeYetError', message, options);
  }
}

/** The state a step needs is missing or wrong: a bug or a hand-edited input, never retried. */
export class StepInputError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('StepInputError', message, options);
  }
}

/** Sent by the approval callback as SendTaskFailure's error; the local stand-in throws it too. */
export class ApprovalRejectedError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ApprovalRejectedError', message, options);
  }
}

/**
 * The target's database is not a replica of the current primary (a standalone database, or one marked for
 * rebuild) and nobody approved the data loss: never retried.
 */
export class TargetNotEligibleError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TargetNotEligibleError', message, options);
  }
}
