import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { motoClient, unique } from '../support/moto-clients.js';

const REGION = 'us-east-2';

// Powertools' SecretsProvider builds its own SecretsManagerClient; the SDK's standard environment variables
// point it at moto, so the module under test runs unchanged (no injected client).
beforeAll(() => {
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', inject('motoEndpoint'));
});
afterAll(() => vi.unstubAllEnvs());

async function secret(value: string | Uint8Array) {
  const sm = motoClient(SecretsManagerClient, REGION);
  const res = await sm.send(
    new CreateSecretCommand({
      Name: unique('cutover/slack'),
      ...(typeof value === 'string' ? { SecretString: value } : { SecretBinary: value }),
    }),
  );
  return { sm, arn: res.ARN! };
}

describe('Slack secrets through Powertools from moto Secrets Manager', () => {
  it('reads the secret by the ARN in the environment, trimmed, and a forced re-read sees a rotation', async () => {
    const { sm, arn } = await secret('xoxb-first\n');
    vi.stubEnv('SLACK_BOT_TOKEN_SECRET_ARN', arn);
    const { secretSourceByArnEnv } = await import('#commons/slack-secrets.js');
    const source = secretSourceByArnEnv('SLACK_BOT_TOKEN_SECRET_ARN');
    expect(await source.current()).toBe('xoxb-first');
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'xoxb-rotated' }));
    // Still the cached value until it is older than maxAgeMs or a refresh is asked for.
    expect(await source.current()).toBe('xoxb-first');
    expect(await source.refreshed()).toBe('xoxb-rotated');
    expect(await source.current()).toBe('xoxb-rotated');
  });

  it("a secret that does not exist is moto's ResourceNotFoundException; a binary secret is refused", async () => {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    const missing = `arn:aws:secretsmanager:${REGION}:123456789012:secret:${unique('gone')}`;
    const err = await getSecret(missing, { forceFetch: true }).catch((e: unknown) => e);
    expect(String((err as Error).cause ?? err)).toMatch(/ResourceNotFoundException/);
    const { arn } = await secret(new Uint8Array([1, 2, 3]));
    vi.stubEnv('SLACK_SIGNING_SECRET_ARN', arn);
    const { secretByArnEnv } = await import('#commons/slack-secrets.js');
    await expect(secretByArnEnv('SLACK_SIGNING_SECRET_ARN')).rejects.toThrow(
      `secret ${arn} is empty or binary`,
    );
  });
});
