import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { requiredEnv } from './env-config.js';

/**
 * The Slack bot token and signing secret, read from Secrets Manager by ARN (never plain environment variables),
 * once per container: the first invocation waits for them, later ones reuse them. A rotated secret reaches
 * the function with its next cold start.
 */
const tokens = new Map<string, Promise<string>>();

export function secretByArnEnv(
  name: 'SLACK_BOT_TOKEN_SECRET_ARN' | 'SLACK_SIGNING_SECRET_ARN',
): Promise<string> {
  let p = tokens.get(name);
  if (!p) {
    p = readSecret(requiredEnv(name));
    // A failed read is not cached: the next invocation tries again.
    p.catch(() => {
      if (tokens.get(name) === p) tokens.delete(name);
    });
    tokens.set(name, p);
  }
  return p;
}

async function readSecret(arn: string): Promise<string> {
  const value = await getSecret<string>(arn, { maxAge: 365 * 24 * 3600 });
  if (typeof value !== 'string' || value.length === 0) throw new Error(`secret ${arn} is empty or binary`);
  return value.trim();
}
