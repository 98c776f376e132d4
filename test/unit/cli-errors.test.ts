import { describe, expect, it } from 'vitest';
import { describeAwsError, tableError } from '../../bin/options.js';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('AWS errors as an operator reads them', () => {
  it('missing credentials: one sentence that says what to set, not the SDK provider chain', () => {
    const text = tableError(
      { name: 'cutover-orders-control', region: 'us-east-2' },
      named('CredentialsProviderError', 'Could not load credentials from any providers'),
    );
    expect(text).toBe(
      'control table cutover-orders-control (us-east-2): no AWS credentials were found: set AWS_PROFILE (after `aws sso login` if it is an SSO profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the account that runs Cutover, or pass --endpoint URL to talk to a DynamoDB Local instead (`cutover local up` starts one with the tables)\n',
    );
  });

  it('refused or expired credentials keep AWS’s own error beside the hint', () => {
    const text = describeAwsError(
      named('ExpiredTokenException', 'The security token included in the request is expired'),
    );
    expect(text).toMatch(
      /^AWS refused the credentials \(ExpiredTokenException: The security token .* expired\): set AWS_PROFILE/,
    );
  });

  it('any other error: its name, message and cause, unchanged', () => {
    const err = Object.assign(named('ResourceNotFoundException', 'Requested resource not found'), {
      cause: named('Inner', 'why'),
    });
    expect(describeAwsError(err)).toBe('ResourceNotFoundException: Requested resource not found: Inner: why');
  });
});
