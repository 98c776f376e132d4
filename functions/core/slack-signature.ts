import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signing, version v0 ("Verifying requests from Slack",
 * https://api.slack.com/authentication/verifying-requests-from-slack): the X-Slack-Signature header is `v0=` and
 * the hex HMAC-SHA256, keyed with the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`.
 * A timestamp more than five minutes from now is refused, so a captured request cannot be replayed later.
 */

export const SIGNATURE_VERSION = 'v0';
export const MAX_REQUEST_AGE_SECONDS = 5 * 60;

export type SignatureCheck =
  | { ok: true }
  | {
      ok: false;
      code: 'SIGNATURE_MISSING' | 'TIMESTAMP_INVALID' | 'TIMESTAMP_STALE' | 'SIGNATURE_INVALID';
      reason: string;
    };

/** The `v0=<hex>` signature of a raw body (the bytes as sent, before any decoding) at a timestamp in seconds. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`${SIGNATURE_VERSION}:${timestamp}:`);
  hmac.update(rawBody);
  return `${SIGNATURE_VERSION}=${hmac.digest('hex')}`;
}

export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer | string;
  nowMs: number;
}): SignatureCheck {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) {
    return {
      ok: false,
      code: 'SIGNATURE_MISSING',
      reason: 'the request has no x-slack-signature or x-slack-request-timestamp header',
    };
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return {
      ok: false,
      code: 'TIMESTAMP_INVALID',
      reason: 'x-slack-request-timestamp is not a number of seconds',
    };
  }
  const ageSeconds = Math.abs(Math.floor(input.nowMs / 1000) - Number(timestamp));
  if (ageSeconds > MAX_REQUEST_AGE_SECONDS) {
    return {
      ok: false,
      code: 'TIMESTAMP_STALE',
      reason: `x-slack-request-timestamp is ${ageSeconds} s away from now (at most ${MAX_REQUEST_AGE_SECONDS} s): a replay or a wrong clock`,
    };
  }
  const expected = Buffer.from(slackSignature(input.signingSecret, timestamp, input.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; the expected length is public (v0= and 64 hex digits), so checking it
  // first leaks nothing about the secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, code: 'SIGNATURE_INVALID', reason: 'x-slack-signature does not match the body' };
  }
  return { ok: true };
}
