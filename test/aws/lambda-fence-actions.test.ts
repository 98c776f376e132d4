import { CreateFunctionCommand, GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { LambdaFenceActions } from '#adapters/aws/lambda-fence-actions.js';
import { motoClient, motoQuery, unique } from '../support/moto-clients.js';

const E1 = 'us-east-1';

/** A Lambda function in moto (its code never runs: only its configuration matters to the fence). */
async function lambdaFunction(client: LambdaClient): Promise<string> {
  const role = unique('role');
  await motoQuery('iam', 'us-east-1', {
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: role,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    }),
  });
  const name = unique('orders-writer');
  await client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: `arn:aws:iam::123456789012:role/${role}`,
      Handler: 'index.handler',
      Code: { ZipFile: new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]) },
    }),
  );
  return name;
}

describe('LambdaFenceActions on moto', () => {
  it('sets reserved concurrency 0 on every listed function, and reports the one that does not exist', async () => {
    const client = motoClient(LambdaClient, E1);
    const writer = await lambdaFunction(client);
    const missing = unique('gone');
    const results = await new LambdaFenceActions(() => client, [writer, missing]).fence(E1);
    const concurrency = await client.send(new GetFunctionConcurrencyCommand({ FunctionName: writer }));
    expect(concurrency.ReservedConcurrentExecutions).toBe(0);
    expect(results[0]).toEqual({ target: `${E1}:${writer}`, ok: true, detail: 'reserved concurrency 0' });
    expect(results[1]).toMatchObject({ target: `${E1}:${missing}`, ok: false });
    expect(results[1]?.detail).toMatch(
      /^could not set reserved concurrency 0 on gone-\w+: ResourceNotFoundException/,
    );
  });
});
