import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackSignature } from '#core/slack-signature.js';

// The worked example of Slack's "Verifying requests from Slack"
// (https://api.slack.com/authentication/verifying-requests-from-slack).
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const DOC_NOW = Number(DOC_TIMESTAMP) * 1000;

const check = (over: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) =>
  verifySlackSignature({
    signingSecret: DOC_SECRET,
    timestamp: DOC_TIMESTAMP,
    signature: DOC_SIGNATURE,
    rawBody: DOC_BODY,
    nowMs: DOC_NOW,
    ...over,
  });

describe('Slack request signature v0', () => {
  it("reproduces Slack's documented example", () => {
    expect(slackSignature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(slackSignature(DOC_SECRET, DOC_TIMESTAMP, Buffer.from(DOC_BODY))).toBe(DOC_SIGNATURE);
    expect(check()).toEqual({ ok: true });
  });

  it('refuses a missing header, a wrong secret, a changed body and a non-numeric timestamp', () => {
    expect(check({ signature: undefined })).toMatchObject({ ok: false, code: 'SIGNATURE_MISSING' });
    expect(check({ timestamp: undefined })).toMatchObject({ ok: false, code: 'SIGNATURE_MISSING' });
    expect(check({ signingSecret: 'another-secret' })).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
    expect(check({ rawBody: `${DOC_BODY}&x=1` })).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    expect(check({ signature: 'v0=abc' })).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    expect(check({ signature: DOC_SIGNATURE.toUpperCase() })).toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(check({ timestamp: '1531420618.5' })).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
  });

  it('accepts a timestamp up to 5 minutes away and refuses one further (a replay), both ways', () => {
    expect(check({ nowMs: DOC_NOW + 300_000 })).toEqual({ ok: true });
    expect(check({ nowMs: DOC_NOW - 300_000 })).toEqual({ ok: true });
    expect(check({ nowMs: DOC_NOW + 301_000 })).toMatchObject({ ok: false, code: 'TIMESTAMP_STALE' });
    expect(check({ nowMs: DOC_NOW - 301_000 })).toMatchObject({ ok: false, code: 'TIMESTAMP_STALE' });
  });

  it('property: a body signed with the secret verifies; any other secret or a flipped byte does not', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.nat(),
        (secret, other, bytes, flip) => {
          const body = Buffer.from(bytes);
          const signature = slackSignature(secret, DOC_TIMESTAMP, body);
          const ok = (s: string, b: Buffer) =>
            verifySlackSignature({
              signingSecret: s,
              timestamp: DOC_TIMESTAMP,
              signature,
              rawBody: b,
              nowMs: DOC_NOW,
            }).ok;
          expect(ok(secret, body)).toBe(true);
          if (other !== secret) expect(ok(other, body)).toBe(false);
          const changed = Buffer.from(body);
          const i = flip % changed.length;
          changed[i] = (changed[i]! + 1) % 256;
          expect(ok(secret, changed)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
