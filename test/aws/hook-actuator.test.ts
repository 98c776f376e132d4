import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { AwsHookActuator } from '#adapters/aws/hook-actuator.js';
import { type Hook, HookError } from '#core/hooks.js';
import { motoClient, unique } from '../support/moto-clients.js';

const W2 = 'us-west-2';

function actuator() {
  const ecs = motoClient(ECSClient, W2);
  const autoScaling = motoClient(AutoScalingClient, W2);
  return {
    ecs,
    autoScaling,
    hooks: new AwsHookActuator({
      ecsFor: () => ecs,
      autoScalingFor: () => autoScaling,
      // No Lambda call here: moto serves no provisioned concurrency and runs Invoke only in Docker
      // (test/api/hook-actuator.test.ts covers both with aws-sdk-client-mock).
      lambdaFor: () => new LambdaClient({ region: W2 }),
    }),
  };
}

async function service(ecs: ECSClient, desiredCount: number) {
  const cluster = unique('orders');
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: unique('web'),
      containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128 }],
    }),
  );
  const name = unique('web');
  await ecs.send(
    new CreateServiceCommand({
      cluster,
      serviceName: name,
      taskDefinition: td.taskDefinition?.taskDefinitionArn,
      desiredCount,
    }),
  );
  return { cluster, name };
}

const ecsHook = (cluster: string, svc: string, desiredCount: number): Hook => ({
  kind: 'ecs',
  name: 'scale-standby',
  region: 'target',
  timeoutMs: 600_000,
  onFailure: 'abort',
  cluster,
  service: svc,
  desiredCount,
});

describe('AwsHookActuator on moto: ECS', () => {
  it('reads a service, sets its desiredCount (absolute, so again changes nothing), and reads it back', async () => {
    const { ecs, hooks } = actuator();
    const s = await service(ecs, 2);
    const hook = ecsHook(s.cluster, s.name, 6);
    // moto places no tasks: runningCount stays 0 (MOTO_ECS_SERVICE_RUNNING), which is a service not ready yet.
    expect(await hooks.read(hook, W2)).toEqual({
      desired: 2,
      ready: 0,
      detail: '0 running, 2 pending, 2 desired',
    });
    expect(await hooks.apply(hook, W2)).toEqual({ detail: `service ${s.cluster}/${s.name} desiredCount 6` });
    await hooks.apply(hook, W2);
    const described = await ecs.send(new DescribeServicesCommand({ cluster: s.cluster, services: [s.name] }));
    expect(described.services?.[0]?.desiredCount).toBe(6);
    expect((await hooks.read(hook, W2)).desired).toBe(6);
  });

  it('a service that does not exist is a HookError naming it (retrying cannot help)', async () => {
    const { ecs, hooks } = actuator();
    const cluster = unique('orders');
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const err = await hooks.read(ecsHook(cluster, 'gone', 6), W2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookError);
    expect((err as Error).message).toBe(`service ${cluster}/gone in ${W2}: MISSING`);
  });
});

describe('AwsHookActuator on moto: Auto Scaling', () => {
  async function group(autoScaling: AutoScalingClient, desired: number) {
    const lc = unique('lc');
    await autoScaling.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: lc,
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.micro',
      }),
    );
    const name = unique('orders-web');
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchConfigurationName: lc,
        MinSize: 1,
        MaxSize: 10,
        DesiredCapacity: desired,
        AvailabilityZones: [`${W2}a`],
      }),
    );
    return name;
  }
  const asgHook = (groupName: string, desiredCapacity: number, minSize?: number): Hook => ({
    kind: 'autoscaling',
    name: 'scale-group',
    region: 'target',
    timeoutMs: 600_000,
    onFailure: 'abort',
    groupName,
    desiredCapacity,
    ...(minSize === undefined ? {} : { minSize }),
  });

  it('sets the desired capacity and counts the InService instances', async () => {
    const { autoScaling, hooks } = actuator();
    const name = await group(autoScaling, 1);
    expect(await hooks.read(asgHook(name, 4), W2)).toEqual({
      desired: 1,
      ready: 1,
      detail: '1 InService of 1 desired',
    });
    expect(await hooks.apply(asgHook(name, 4), W2)).toEqual({ detail: `group ${name} DesiredCapacity 4` });
    // moto launches the instances at once, InService.
    expect(await hooks.read(asgHook(name, 4), W2)).toEqual({
      desired: 4,
      ready: 4,
      detail: '4 InService of 4 desired',
    });
  });

  it('with minSize: raises the minimum and the desired capacity in one UpdateAutoScalingGroup', async () => {
    const { autoScaling, hooks } = actuator();
    const name = await group(autoScaling, 1);
    await hooks.apply(asgHook(name, 3, 3), W2);
    const g = (
      await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
    ).AutoScalingGroups?.[0];
    expect([g?.MinSize, g?.DesiredCapacity]).toEqual([3, 3]);
  });

  it('a group that does not exist is a HookError', async () => {
    const { hooks } = actuator();
    await expect(hooks.read(asgHook('gone', 4), W2)).rejects.toThrow(
      new HookError(`Auto Scaling group gone not found in ${W2}`),
    );
  });
});
