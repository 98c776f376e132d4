import { LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaFenceActions } from '#adapters/aws/lambda-fence-actions.js';

const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

describe('LambdaFenceActions', () => {
  it('sets reserved concurrency 0 on each listed function in the old region, and reports each result', async () => {
    lambda
      .on(PutFunctionConcurrencyCommand, { FunctionName: 'orders-api-writer' })
      .resolves({ ReservedConcurrentExecutions: 0 })
      .on(PutFunctionConcurrencyCommand, { FunctionName: 'orders-worker' })
      .rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
    const regions: string[] = [];
    const fence = new LambdaFenceActions(
      (region) => {
        regions.push(region);
        return new LambdaClient({ region });
      },
      ['orders-api-writer', 'orders-worker'],
    );
    const results = await fence.fence('us-east-1');
    expect(regions).toEqual(['us-east-1']);
    expect(lambda.commandCalls(PutFunctionConcurrencyCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: 'orders-api-writer', ReservedConcurrentExecutions: 0 },
      { FunctionName: 'orders-worker', ReservedConcurrentExecutions: 0 },
    ]);
    expect(results).toEqual([
      { target: 'us-east-1:orders-api-writer', ok: true, detail: 'reserved concurrency 0' },
      { target: 'us-east-1:orders-worker', ok: false, detail: expect.stringContaining('ETIMEDOUT') },
    ]);
  });
});
