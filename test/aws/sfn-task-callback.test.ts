import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { SfnTaskCallback } from '#adapters/aws/sfn-task-callback.js';
import { TaskCallbackError } from '#core/approval-errors.js';
import type { ApprovalDecision } from '#core/failover-ports.js';
import { motoClient, motoQuery, unique, xmlText } from '../support/moto-clients.js';

/**
 * One region per execution: moto's interpreter deep-copies a state machine at StartExecution, and the copy reaches
 * the lock of an execution started before in the same region ("cannot pickle '_thread.RLock'", moto 5.2).
 */
const REGIONS = ['us-east-2', 'eu-west-1', 'ap-southeast-2'] as const;

/**
 * A running execution waiting in a `.waitForTaskToken` task, as the failover machine's approval does; moto's
 * Step Functions interpreter (execute_state_machine, set by the tier's setup) hands the token to an SQS queue.
 */
async function waitingExecution(region: string) {
  const sfn = motoClient(SFNClient, region);
  const queue = unique('approvals');
  const queueUrl = xmlText(
    await motoQuery('sqs', region, { Action: 'CreateQueue', QueueName: queue }),
    'QueueUrl',
  )!;
  const definition = {
    StartAt: 'AwaitApproval',
    States: {
      AwaitApproval: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        Parameters: { QueueUrl: queueUrl, MessageBody: { 'token.$': '$$.Task.Token' } },
        ResultPath: '$.approval',
        TimeoutSeconds: 60,
        End: true,
      },
    },
  };
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: unique('failover'),
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::123456789012:role/cutover-states',
    }),
  );
  const run = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: machine.stateMachineArn,
      input: JSON.stringify({ incidentId: 'i-7' }),
    }),
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    const xml = await motoQuery('sqs', region, { Action: 'ReceiveMessage', QueueUrl: queueUrl });
    const body = xmlText(xml, 'Body');
    if (body)
      return { sfn, executionArn: run.executionArn!, token: (JSON.parse(body) as { token: string }).token };
    if (Date.now() > deadline) throw new Error('the execution never asked for approval');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function settled(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (res.status !== 'RUNNING') return res;
    if (Date.now() > deadline) throw new Error(`${executionArn} is still running`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const decision = (approved: boolean): ApprovalDecision => ({
  approved,
  by: 'U123 (alice)',
  at: 1_800_000_000_000,
  reason: approved ? 'approved in Slack' : 'primary is back',
});

describe('SfnTaskCallback on moto (its Step Functions interpreter)', () => {
  it('approve: SendTaskSuccess resumes the execution with the decision as the task result', async () => {
    const region = REGIONS[0];
    const { sfn, executionArn, token } = await waitingExecution(region);
    await new SfnTaskCallback(() => sfn).approve({ token, region }, decision(true));
    const done = await settled(sfn, executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ incidentId: 'i-7', approval: decision(true) });
  });

  it('reject: SendTaskFailure fails the task with ApprovalRejectedError and the reason as its cause', async () => {
    const region = REGIONS[1];
    const { sfn, executionArn, token } = await waitingExecution(region);
    // moto drops SendTaskFailure's cause (it passes only the error on), so the cause is read off the request.
    const sent: unknown[] = [];
    sfn.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendTaskFailureCommand') sent.push(args.input);
        return next(args);
      },
      { step: 'initialize' },
    );
    await new SfnTaskCallback(() => sfn).reject({ token, region }, decision(false));
    const done = await settled(sfn, executionArn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ApprovalRejectedError');
    expect(sent).toEqual([
      {
        taskToken: token,
        error: 'ApprovalRejectedError',
        cause: 'U123 (alice) rejected the approval: primary is back',
      },
    ]);
  });

  it('a token that no execution waits on any more (answered already, or never issued) is TASK_GONE', async () => {
    const region = REGIONS[2];
    const { sfn, executionArn, token } = await waitingExecution(region);
    const callback = new SfnTaskCallback(() => sfn);
    await callback.approve({ token, region }, decision(true));
    await settled(sfn, executionArn);
    for (const stale of [token, 'not-a-token']) {
      const err = await callback.approve({ token: stale, region }, decision(true)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskCallbackError);
      expect(err).toMatchObject({
        code: 'TASK_GONE',
        message: 'the approval task no longer waits (InvalidToken)',
      });
    }
  });
});
