import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it, vi } from 'vitest';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:cutover/slack-signing-secret-AbCdEf';

afterAll(() => {
  sm.restore();
  vi.unstubAllEnvs();
});

describe('Slack secrets from Secrets Manager', () => {
  it('reads the secret by the ARN in the environment, once per container, and retries after a failure', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-2');
    vi.stubEnv('SLACK_SIGNING_SECRET_ARN', ARN);
    const { secretByArnEnv } = await import('#commons/slack-secrets.js');
    sm.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'sekrit\n' });
    await expect(secretByArnEnv('SLACK_SIGNING_SECRET_ARN')).rejects.toThrow('throttled');
    expect(await secretByArnEnv('SLACK_SIGNING_SECRET_ARN')).toBe('sekrit');
    expect(await secretByArnEnv('SLACK_SIGNING_SECRET_ARN')).toBe('sekrit');
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([ARN, ARN]);
  });

  it('refuses to start without the ARN variable', async () => {
    const { secretByArnEnv } = await import('#commons/slack-secrets.js');
    vi.stubEnv('SLACK_BOT_TOKEN_SECRET_ARN', '');
    expect(() => secretByArnEnv('SLACK_BOT_TOKEN_SECRET_ARN')).toThrow(
      'SLACK_BOT_TOKEN_SECRET_ARN is not set',
    );
  });
});
