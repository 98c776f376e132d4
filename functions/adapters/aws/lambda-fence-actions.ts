import { type LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import type { FenceActionResult, FenceActions } from '#core/failover-ports.js';
import { mapAwsError } from './aws-errors.js';

/**
 * The optional active fence: reserved concurrency 0 on the listed Lambda functions of the old primary region,
 * which stops new invocations (Lambda PutFunctionConcurrency). The region may be down, so every result is
 * reported and none is fatal: the lease is the fence that matters.
 */
export class LambdaFenceActions implements FenceActions {
  constructor(
    private readonly clientFor: (region: string) => LambdaClient,
    private readonly functionNames: readonly string[],
  ) {}

  async fence(region: string): Promise<FenceActionResult[]> {
    const client = this.clientFor(region);
    return Promise.all(
      this.functionNames.map(async (name): Promise<FenceActionResult> => {
        try {
          await client.send(
            new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 0 }),
          );
          return { target: `${region}:${name}`, ok: true, detail: 'reserved concurrency 0' };
        } catch (err) {
          const e = mapAwsError(err, `set reserved concurrency 0 on ${name}`, Error);
          return { target: `${region}:${name}`, ok: false, detail: e.message };
        }
      }),
    );
  }
}
