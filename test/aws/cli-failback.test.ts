import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { failbackCommand } from '../../bin/failback-command.js';
import { captureIo } from '../support/capture-io.js';
import { FakeClock } from '../support/fake-clock.js';
import { motoClient } from '../support/moto-clients.js';

const CONFIG = 'examples/cutover.example.json';
const SAMPLE = 'events/failback-input.sample.json';
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
// A control region of the example configuration that no other test file starts executions in (see
// sfn-task-callback.test.ts for why moto wants that).
const REGION = 'eu-central-1';

const run = (arn: string) => {
  const io = captureIo();
  return failbackCommand(['--config', CONFIG, '--input', SAMPLE, '--state-machine-arn', arn], {
    io,
    clock: new FakeClock(T0),
    sfn: (region) => motoClient(SFNClient, region),
  }).then((code) => ({ code, io }));
};

describe('cutover failback against moto Step Functions', () => {
  it('starts an execution of the named machine with the validated input, under the deterministic name', async () => {
    const sfn = motoClient(SFNClient, REGION);
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: 'cutover-orders-failback',
        definition: JSON.stringify({
          StartAt: 'Preconditions',
          States: { Preconditions: { Type: 'Pass', End: true } },
        }),
        roleArn: 'arn:aws:iam::123456789012:role/cutover-states',
      }),
    );
    const { code, io } = await run(machine.stateMachineArn!);
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const executionArn = /execution (arn:\S+)/.exec(io.stdout())?.[1];
    expect(executionArn).toBe(
      `${machine.stateMachineArn!.replace(':stateMachine:', ':execution:')}:failback-orders-us-east-1-20260301T120000Z`,
    );
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution.name).toBe('failback-orders-us-east-1-20260301T120000Z');
    expect(JSON.parse(execution.input!)).toMatchObject({
      application: 'orders',
      from: 'us-west-2',
      to: 'us-east-1',
    });
  });

  it("a machine that does not exist is moto's StateMachineDoesNotExist: exit 1, nothing started", async () => {
    const { code, io } = await run(
      'arn:aws:states:us-east-2:123456789012:stateMachine:cutover-orders-failback',
    );
    expect(code).toBe(1);
    expect(io.stderr()).toMatch(/failed, nothing started: StateMachineDoesNotExist/);
  });
});
