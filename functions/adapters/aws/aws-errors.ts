import { TransientError } from '#core/errors.js';

/** Error names AWS services use for throttling and for "try again later" (Route 53, RDS, CloudWatch, Lambda). */
const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServiceError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Throttling, 5xx and network failures: worth a retry by the state machine. */
export function isTransient(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    TRANSIENT_NAMES.has(e.name ?? '') ||
    e.$fault === 'server' ||
    status >= 500 ||
    e.$retryable !== undefined ||
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(
      (err as { code?: string })?.code ?? '',
    )
  );
}

/** Maps an SDK error to TransientError or to the adapter's own typed error, keeping the cause. */
export function mapAwsError(
  err: unknown,
  what: string,
  typed: new (message: string, options?: { cause?: unknown }) => Error,
): Error {
  const e = (err ?? {}) as SdkErrorShape;
  const message = `could not ${what}: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  return isTransient(err) ? new TransientError(message, { cause: err }) : new typed(message, { cause: err });
}
