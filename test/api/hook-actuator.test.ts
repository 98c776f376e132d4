import {
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  LambdaClient,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsHookActuator } from '#adapters/aws/hook-actuator.js';
import { TransientError } from '#core/errors.js';
import { type Hook, HookError } from '#core/hooks.js';

// moto serves neither provisioned concurrency nor, without Docker, Invoke: these are the API's exact commands.
const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

const regions: string[] = [];
const hooks = new AwsHookActuator({
  ecsFor: () => {
    throw new Error('no ECS here');
  },
  autoScalingFor: () => {
    throw new Error('no Auto Scaling here');
  },
  lambdaFor: (region) => {
    regions.push(region);
    return new LambdaClient({ region });
  },
});

const warm: Hook = {
  kind: 'lambda-provisioned-concurrency',
  name: 'warm-api',
  region: 'target',
  timeoutMs: 300_000,
  onFailure: 'abort',
  functionName: 'orders-api',
  qualifier: 'live',
  count: 50,
};

const purge: Hook = {
  kind: 'lambda',
  name: 'purge-cache',
  region: 'target',
  timeoutMs: 5_000,
  onFailure: 'continue',
  function: 'purge',
  payload: { paths: ['/*'] },
};

const notFound = (name: string) => Object.assign(new Error('not found'), { name, $fault: 'client' });

describe('AwsHookActuator: Lambda provisioned concurrency', () => {
  it('puts the configured count on the alias, in the hook region', async () => {
    lambda.on(PutProvisionedConcurrencyConfigCommand).resolves({ Status: 'IN_PROGRESS' });
    expect(await hooks.apply(warm, 'us-west-2')).toEqual({
      detail: 'orders-api:live provisioned concurrency 50',
    });
    expect(lambda.commandCalls(PutProvisionedConcurrencyConfigCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: 'orders-api', Qualifier: 'live', ProvisionedConcurrentExecutions: 50 },
    ]);
    expect(regions.at(-1)).toBe('us-west-2');
  });

  it('reads IN_PROGRESS as pending, READY as ready, FAILED as failed, and no configuration as nothing requested', async () => {
    lambda
      .on(GetProvisionedConcurrencyConfigCommand)
      .resolvesOnce({
        Status: 'IN_PROGRESS',
        RequestedProvisionedConcurrentExecutions: 50,
        AllocatedProvisionedConcurrentExecutions: 10,
      })
      .resolvesOnce({
        Status: 'READY',
        RequestedProvisionedConcurrentExecutions: 50,
        AllocatedProvisionedConcurrentExecutions: 50,
      })
      .resolvesOnce({
        Status: 'FAILED',
        StatusReason: 'account concurrency limit',
        RequestedProvisionedConcurrentExecutions: 50,
      })
      .rejectsOnce(notFound('ProvisionedConcurrencyConfigNotFoundException'));
    expect(await hooks.read(warm, 'us-west-2')).toEqual({
      desired: 50,
      ready: 10,
      status: 'pending',
      detail: 'IN_PROGRESS: 10 allocated of 50',
    });
    expect((await hooks.read(warm, 'us-west-2')).status).toBe('ready');
    expect(await hooks.read(warm, 'us-west-2')).toMatchObject({
      status: 'failed',
      detail: 'FAILED (account concurrency limit): 0 allocated of 50',
    });
    expect(await hooks.read(warm, 'us-west-2')).toEqual({
      desired: 0,
      ready: 0,
      status: 'pending',
      detail: 'no provisioned concurrency configured',
    });
    expect(lambda.commandCalls(GetProvisionedConcurrencyConfigCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'orders-api',
      Qualifier: 'live',
    });
  });

  it('maps a missing function to HookError and throttling to TransientError', async () => {
    lambda
      .on(PutProvisionedConcurrencyConfigCommand)
      .rejectsOnce(notFound('ResourceNotFoundException'))
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' }));
    await expect(hooks.apply(warm, 'us-west-2')).rejects.toBeInstanceOf(HookError);
    await expect(hooks.apply(warm, 'us-west-2')).rejects.toBeInstanceOf(TransientError);
  });
});

describe('AwsHookActuator: a lambda hook', () => {
  it('invokes the function synchronously with its payload and the cutover context', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"purged":3}') as never });
    const event = {
      paths: ['/*'],
      cutover: { incidentId: 'orders:3:1', idempotencyKey: 'orders:3:1#afterTraffic#purge-cache' },
    };
    expect(await hooks.invoke(purge, 'us-west-2', event)).toEqual({ ok: true, detail: '{"purged":3}' });
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('purge');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual(event);
  });

  it("a function's own error (200 with FunctionError) is a failed hook, with the function's answer", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode('{"errorMessage":"CDN refused"}') as never,
    });
    expect(await hooks.invoke(purge, 'us-west-2', {})).toEqual({
      ok: false,
      detail: 'Unhandled: {"errorMessage":"CDN refused"}',
    });
  });

  it('refuses to invoke a capacity hook or to scale a lambda hook', async () => {
    await expect(hooks.invoke(warm, 'us-west-2', {})).rejects.toThrow(
      'warm-api is a lambda-provisioned-concurrency hook: it is scaled, not invoked',
    );
    await expect(hooks.apply(purge, 'us-west-2')).rejects.toThrow(
      'purge-cache is a lambda hook: it is invoked, not scaled',
    );
    expect(lambda.calls()).toEqual([]);
  });
});
