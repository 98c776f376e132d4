import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  type LambdaClient,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import {
  type Hook,
  type HookActuator,
  HookError,
  type HookInvocation,
  type HookReading,
} from '#core/hooks.js';
import { mapAwsError } from './aws-errors.js';

export interface HookClients {
  ecsFor: (region: string) => ECSClient;
  autoScalingFor: (region: string) => AutoScalingClient;
  lambdaFor: (region: string) => LambdaClient;
}

type Of<K extends Hook['kind']> = Extract<Hook, { kind: K }>;

/**
 * The hooks' AWS calls. Each sets an absolute target (ECS desiredCount, the group's DesiredCapacity, the
 * provisioned concurrency), never an increment, so calling it again changes nothing. Errors that a retry cannot
 * change (no such service, access denied) become HookError; throttling and 5xx become TransientError.
 */
export class AwsHookActuator implements HookActuator {
  constructor(private readonly clients: HookClients) {}

  async read(hook: Hook, region: string): Promise<HookReading> {
    switch (hook.kind) {
      case 'ecs':
        return this.readService(hook, region);
      case 'autoscaling':
        return this.readGroup(hook, region);
      case 'lambda-provisioned-concurrency':
        return this.readProvisioned(hook, region);
      case 'lambda':
        throw new HookError(`${hook.name} is a lambda hook: it is invoked, not read`);
    }
  }

  async apply(hook: Hook, region: string): Promise<{ detail: string }> {
    const what = `scale ${hook.name} in ${region}`;
    try {
      switch (hook.kind) {
        case 'ecs':
          // ECS API Reference, UpdateService: desiredCount is "the number of instantiations of the task to place and keep running".
          await this.clients.ecsFor(region).send(
            new UpdateServiceCommand({
              cluster: hook.cluster,
              service: hook.service,
              desiredCount: hook.desiredCount,
            }),
          );
          return { detail: `service ${hook.cluster}/${hook.service} desiredCount ${hook.desiredCount}` };
        case 'autoscaling':
          // SetDesiredCapacity refuses a value under the group's MinSize; UpdateAutoScalingGroup sets both at once.
          if (hook.minSize !== undefined) {
            await this.clients.autoScalingFor(region).send(
              new UpdateAutoScalingGroupCommand({
                AutoScalingGroupName: hook.groupName,
                MinSize: hook.minSize,
                DesiredCapacity: hook.desiredCapacity,
              }),
            );
            return {
              detail: `group ${hook.groupName} MinSize ${hook.minSize}, DesiredCapacity ${hook.desiredCapacity}`,
            };
          }
          await this.clients.autoScalingFor(region).send(
            // HonorCooldown false: a failover must not wait out a scaling cooldown.
            new SetDesiredCapacityCommand({
              AutoScalingGroupName: hook.groupName,
              DesiredCapacity: hook.desiredCapacity,
              HonorCooldown: false,
            }),
          );
          return { detail: `group ${hook.groupName} DesiredCapacity ${hook.desiredCapacity}` };
        case 'lambda-provisioned-concurrency':
          await this.clients.lambdaFor(region).send(
            new PutProvisionedConcurrencyConfigCommand({
              FunctionName: hook.functionName,
              Qualifier: hook.qualifier,
              ProvisionedConcurrentExecutions: hook.count,
            }),
          );
          return { detail: `${hook.functionName}:${hook.qualifier} provisioned concurrency ${hook.count}` };
        case 'lambda':
          throw new HookError(`${hook.name} is a lambda hook: it is invoked, not scaled`);
      }
    } catch (err) {
      throw err instanceof HookError ? err : mapAwsError(err, what, HookError);
    }
  }

  async invoke(hook: Hook, region: string, event: Record<string, unknown>): Promise<HookInvocation> {
    if (hook.kind !== 'lambda')
      throw new HookError(`${hook.name} is a ${hook.kind} hook: it is scaled, not invoked`);
    const res = await this.clients
      .lambdaFor(region)
      .send(
        new InvokeCommand({
          FunctionName: hook.function,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
        { abortSignal: AbortSignal.timeout(hook.timeoutMs) },
      )
      .catch((err: unknown) => {
        throw mapAwsError(err, `invoke ${hook.function} in ${region}`, HookError);
      });
    const body = res.Payload ? new TextDecoder().decode(res.Payload).slice(0, 500) : '';
    // Lambda API Reference, Invoke: a function's own error still answers 200, with X-Amz-Function-Error set.
    if (res.FunctionError) return { ok: false, detail: `${res.FunctionError}: ${body}` };
    return { ok: true, detail: body || `status ${res.StatusCode}` };
  }

  private async readService(hook: Of<'ecs'>, region: string): Promise<HookReading> {
    const res = await this.clients
      .ecsFor(region)
      .send(new DescribeServicesCommand({ cluster: hook.cluster, services: [hook.service] }))
      .catch((err: unknown) => {
        throw mapAwsError(err, `describe ${hook.cluster}/${hook.service} in ${region}`, HookError);
      });
    const service = res.services?.[0];
    if (!service) {
      const why = res.failures?.[0]?.reason ?? 'not found';
      throw new HookError(`service ${hook.cluster}/${hook.service} in ${region}: ${why}`);
    }
    const desired = service.desiredCount ?? 0;
    const ready = service.runningCount ?? 0;
    return {
      desired,
      ready,
      detail: `${ready} running, ${service.pendingCount ?? 0} pending, ${desired} desired`,
    };
  }

  private async readGroup(hook: Of<'autoscaling'>, region: string): Promise<HookReading> {
    const res = await this.clients
      .autoScalingFor(region)
      .send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [hook.groupName] }))
      .catch((err: unknown) => {
        throw mapAwsError(err, `describe group ${hook.groupName} in ${region}`, HookError);
      });
    const group = res.AutoScalingGroups?.[0];
    if (!group) throw new HookError(`Auto Scaling group ${hook.groupName} not found in ${region}`);
    const desired = group.DesiredCapacity ?? 0;
    const ready = (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length;
    return { desired, ready, detail: `${ready} InService of ${desired} desired` };
  }

  private async readProvisioned(
    hook: Of<'lambda-provisioned-concurrency'>,
    region: string,
  ): Promise<HookReading> {
    try {
      const res = await this.clients.lambdaFor(region).send(
        new GetProvisionedConcurrencyConfigCommand({
          FunctionName: hook.functionName,
          Qualifier: hook.qualifier,
        }),
      );
      // Lambda API Reference, GetProvisionedConcurrencyConfig: Status IN_PROGRESS | READY | FAILED.
      const status = res.Status === 'READY' ? 'ready' : res.Status === 'FAILED' ? 'failed' : 'pending';
      return {
        desired: res.RequestedProvisionedConcurrentExecutions ?? 0,
        ready: res.AllocatedProvisionedConcurrentExecutions ?? 0,
        status,
        detail: `${res.Status}${res.StatusReason ? ` (${res.StatusReason})` : ''}: ${res.AllocatedProvisionedConcurrentExecutions ?? 0} allocated of ${res.RequestedProvisionedConcurrentExecutions ?? 0}`,
      };
    } catch (err) {
      // No configuration yet: nothing requested, nothing allocated (the hook then puts one).
      if ((err as { name?: string }).name === 'ProvisionedConcurrencyConfigNotFoundException') {
        return { desired: 0, ready: 0, status: 'pending', detail: 'no provisioned concurrency configured' };
      }
      throw mapAwsError(
        err,
        `read provisioned concurrency of ${hook.functionName}:${hook.qualifier} in ${region}`,
        HookError,
      );
    }
  }
}
