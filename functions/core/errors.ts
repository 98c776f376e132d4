/**
 * Error names are part of the contract: the state machines' Retry and Catch match them in ErrorEquals.
 */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export class ValidationError extends Error {
  readonly issues: { field: string; message: string }[];
  constructor(message: string, issues: { field: string; message: string }[] = []) {
    super(issues.length ? `${message}: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}` : message);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** A conditional write lost: someone else moved the state first. Stop and re-read; never fix up blindly. */
export class LostRaceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LostRaceError';
  }
}

/**
 * The store refused a request that a retry will not fix (access denied, no such table, a bad expression):
 * unlike StoreError, the state machines do not retry it.
 */
export class StoreRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreRefusedError';
  }
}

/** A stored item does not have the shape its reader expects: named by its key and the fields at fault. */
export class MalformedItemError extends Error {
  readonly key: Record<string, unknown>;
  readonly issues: { field: string; message: string }[];
  constructor(what: string, key: Record<string, unknown>, issues: { field: string; message: string }[]) {
    super(
      `malformed ${what} item ${JSON.stringify(key)}: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
    );
    this.name = 'MalformedItemError';
    this.key = key;
    this.issues = issues;
  }
}

/**
 * An error as one log or audit sentence: its name and message, and its cause when the message does not already
 * say it (a StoreError wraps the SDK's error).
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause =
    err.cause instanceof Error && !err.message.includes(err.cause.message)
      ? ` (${err.cause.name}: ${err.cause.message})`
      : '';
  return `${err.name}: ${err.message}${cause}`;
}
