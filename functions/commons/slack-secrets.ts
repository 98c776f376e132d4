import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { type Clock, systemClock } from '#core/ports.js';
import { requiredEnv } from './env-config.js';

/**
 * The Slack bot token and signing secret, read from Secrets Manager by ARN (never plain environment variables).
 * A value is kept for a bounded time, so a rotated secret reaches a warm container within `maxAgeMs`; a
 * signature that does not match may ask for one forced re-read, at most once per `minRefreshGapMs`, so that a
 * callback signed with a just-rotated secret is not refused while a flood of forged requests cannot turn into
 * a flood of Secrets Manager calls.
 */
export interface SecretSource {
  current(): Promise<string>;
  /** A fresh read, if one is allowed now; null when refused by the rate limit or when the value is unchanged. */
  refreshed(): Promise<string | null>;
}

export interface SecretCacheOptions {
  maxAgeMs: number;
  minRefreshGapMs: number;
}

export const SECRET_CACHE: SecretCacheOptions = { maxAgeMs: 300_000, minRefreshGapMs: 30_000 };

export class CachedSecret implements SecretSource {
  private value: string | undefined;
  private pending: Promise<string> | undefined;
  private readAt = Number.NEGATIVE_INFINITY;
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly fetch: () => Promise<string>,
    private readonly clock: Clock = systemClock,
    private readonly options: SecretCacheOptions = SECRET_CACHE,
  ) {}

  async current(): Promise<string> {
    if (this.value !== undefined && this.clock.now() - this.readAt < this.options.maxAgeMs) return this.value;
    try {
      return await this.load();
    } catch (err) {
      // Secrets Manager unreachable: the last value read is still the best one there is.
      if (this.value !== undefined) return this.value;
      throw err;
    }
  }

  async refreshed(): Promise<string | null> {
    const now = this.clock.now();
    if (now - this.refreshedAt < this.options.minRefreshGapMs) return null;
    this.refreshedAt = now;
    const before = this.value;
    const after = await this.load();
    return after !== before ? after : null;
  }

  private load(): Promise<string> {
    // Concurrent callers share one read; a failed read is not kept.
    this.pending ??= this.fetch()
      .then((v) => {
        this.value = v;
        this.readAt = this.clock.now();
        return v;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}

type SecretEnv = 'SLACK_BOT_TOKEN_SECRET_ARN' | 'SLACK_SIGNING_SECRET_ARN';
const sources = new Map<SecretEnv, CachedSecret>();

/** The secret named by the ARN in environment variable `name`, cached as described above. */
export function secretSourceByArnEnv(name: SecretEnv): SecretSource {
  let source = sources.get(name);
  if (!source) {
    const arn = requiredEnv(name);
    source = new CachedSecret(() => readSecret(arn));
    sources.set(name, source);
  }
  return source;
}

export function secretByArnEnv(name: SecretEnv): Promise<string> {
  return secretSourceByArnEnv(name).current();
}

async function readSecret(arn: string): Promise<string> {
  // This module keeps the value and decides when to re-read; Powertools' own cache would only delay rotation.
  const value = await getSecret<string>(arn, { forceFetch: true });
  if (typeof value !== 'string' || value.length === 0) throw new Error(`secret ${arn} is empty or binary`);
  return value.trim();
}
