import { Annotations, Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import {
  bindEventBus,
  bindSecret,
  bindTable,
  CutoverFunction,
  grantInvokeExact,
  handlerExists,
  pendingHandler,
  traceEveryFunction,
} from '../constructs/cutover-function.js';
import { withHolderFunctionUrls } from '../constructs/holder-check.js';
import { acknowledgeTracing, ControlPlaneAlarms, ONE_MINUTE } from '../constructs/operations.js';
import { ReadinessEvaluation } from '../constructs/readiness.js';
import { acknowledgeHookFindings, hookGroups } from '../hook-iam.js';
import { capabilityStatements } from '../iam.js';
import {
  type Capability,
  placeholders,
  readAsl,
  STEPS,
  type StepSpec,
  stepFunctionTimeouts,
  WORKFLOWS,
  type WorkflowKind,
} from '../workflows.js';
import { controlTableFor, type RegionStackProps, votesReplica } from './shared.js';

export const SLACK_CALLBACK_ENTRY = 'functions/slack-callback.ts';
export const SLACK_CALLBACK_CONCURRENCY = 5;
const APPROVAL_FUNCTION_TIMEOUT_SECONDS = 30;

/**
 * A control region: the aggregator on the votes stream, the Cutover event bus and the rule that starts a
 * failover, the failover and failback state machines with their step functions, and the Slack callback.
 * Control regions race for an incident; the conditional incident write lets exactly one win.
 */
export class ControlStack extends Stack {
  readonly aggregator: CutoverFunction;
  readonly bus: events.EventBus;
  readonly stateMachines: Record<WorkflowKind, sfn.StateMachine>;
  readonly steps = new Map<string, lambda.Function>();
  readonly alarms: ControlPlaneAlarms;
  /** Handler files that did not exist at synth; each got a stand-in or was left out (see the warnings). */
  readonly pending: string[] = [];
  readonly slackCallbackUrl?: lambda.FunctionUrl;
  private readonly application: string;
  private readonly trafficMode: string | undefined;
  private readonly config: CutoverConfig;
  private readonly hasAutoScalingHooks: boolean;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    super(scope, id, props);
    const { config, topology } = props;
    const { names } = topology;
    this.application = config.application;
    this.trafficMode = config.traffic?.mode;
    this.config = config;
    this.hasAutoScalingHooks = hookGroups(config).length > 0;
    const votes = votesReplica(this, topology);
    const control = controlTableFor(this, topology);
    // Every function here that touches the control table reaches it in this region (see Topology).
    const tableRegion = { LEASE_TABLE_REGION: control.region };

    this.bus = new events.EventBus(this, 'event-bus', { eventBusName: names.eventBus('control') });

    const slackSecrets = {
      botToken: new secretsmanager.Secret(this, 'slack-bot-token', {
        secretName: names.secret('slack-bot-token'),
        description:
          'Slack bot token (xoxb-…) for approval messages; set it with put-secret-value after deploy',
      }),
      signingSecret: new secretsmanager.Secret(this, 'slack-signing-secret', {
        secretName: names.secret('slack-signing-secret'),
        description: 'Slack app signing secret, checked on every interaction request; set it after deploy',
      }),
    };
    for (const secret of Object.values(slackSecrets)) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Slack issues these credentials; they are rotated in the Slack app settings and written here with put-secret-value, so a rotation Lambda has nothing to rotate.',
      });
    }

    // ---- aggregator on the votes stream
    // It runs on every vote write in every control region (about once a second at the default probe
    // interval), so tracing it is most of the X-Ray bill; its decision log carries the verdict's code and
    // reason, and the failover it starts is traced in the state machine (see traceEveryFunction).
    this.aggregator = new CutoverFunction(this, 'aggregator', {
      entry: 'functions/aggregator.ts',
      role: 'aggregator',
      names,
      config,
      description: 'Reads the votes on each stream batch, decides, and requests one failover per incident',
      timeout: Duration.seconds(30),
      tracing: traceEveryFunction(this),
      environment: tableRegion,
    });
    bindTable(this.aggregator, 'VOTES_TABLE', votes, 'read');
    bindTable(this.aggregator, 'CONTROL_TABLE', control.table, 'readWrite');
    bindEventBus(this.aggregator, 'EVENT_BUS_NAME', this.bus);

    const aggregatorDlq = this.queue('aggregator-failures', 'stream batches the aggregator gave up on');
    this.aggregator.addEventSource(
      new DynamoEventSource(this.votesWithStream(topology.names.votesTable, votes), {
        startingPosition: lambda.StartingPosition.LATEST,
        // One decision per batch whatever its size, so the batch size is the aggregator's throughput under a
        // burst: 100 (Lambda's default) sustained ~800 votes/s on one core against DynamoDB Local, 1000 over
        // 2,000 (npm run bench:aggregator). With no batching window a quiet stream is still invoked at once.
        // Lambda allows up to 10,000 for DynamoDB streams ("Lambda parameters for Amazon DynamoDB event source
        // mappings"); GetRecords returns at most 1,000 (DynamoDB Streams API reference).
        batchSize: 1000,
        // Decisions are time-sensitive: no batching window, and a record older than a few windows is history.
        maxBatchingWindow: Duration.seconds(0),
        maxRecordAge: Duration.minutes(10),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 5,
        onFailure: new SqsDlq(aggregatorDlq),
      }),
    );

    // ---- step functions, one Lambda per ASL placeholder
    const asl = { failover: readAsl('failover'), failback: readAsl('failback') };
    const timeouts = stepFunctionTimeouts(Object.values(asl));
    const used = new Set(Object.values(asl).flatMap(placeholders));
    // The traffic steps read the holder checks the data plane polls, the function URL's too (deploy-time token).
    const stepProps = { ...props, config: withHolderFunctionUrls(this, config, topology) };
    for (const spec of STEPS.filter((s) => used.has(s.placeholder))) {
      const fn = this.stepFunction(spec, stepProps, timeouts.get(spec.placeholder), tableRegion);
      bindTable(fn, 'CONTROL_TABLE', control.table, 'readWrite');
      bindTable(fn, 'VOTES_TABLE', votes, 'read');
      bindEventBus(fn, 'EVENT_BUS_NAME', this.bus);
      for (const capability of spec.capabilities) this.grantCapability(fn, capability, props, slackSecrets);
      this.steps.set(spec.placeholder, fn);
    }

    const workflowLogs = (kind: WorkflowKind) =>
      new logs.LogGroup(this, `${kind}-execution-logs`, {
        // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small (Step Functions logging docs).
        logGroupName: `/aws/vendedlogs/states/${names.stateMachine(kind)}`,
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    const machine = (kind: WorkflowKind): sfn.StateMachine => {
      const substitutions: Record<string, string> = {};
      for (const name of placeholders(asl[kind])) {
        const fn = this.steps.get(name);
        if (!fn)
          throw new Error(
            `${WORKFLOWS[kind]} uses \${${name}}, which no step in infra/workflows.ts provides`,
          );
        substitutions[name] = name.endsWith('FunctionName') ? fn.functionName : fn.functionArn;
      }
      const sm = new sfn.StateMachine(this, `${kind}-state-machine`, {
        stateMachineName: names.stateMachine(kind),
        // Inline rather than an S3 asset: the template then shows the definition that will run.
        definitionBody: sfn.DefinitionBody.fromString(asl[kind]),
        definitionSubstitutions: substitutions,
        tracingEnabled: true,
        logs: { destination: workflowLogs(kind), level: sfn.LogLevel.ALL, includeExecutionData: true },
      });
      for (const name of placeholders(asl[kind])) grantInvokeExact(this.steps.get(name)!, sm);
      return sm;
    };
    this.stateMachines = { failover: machine('failover'), failback: machine('failback') };

    // ---- the rule that turns a Failover Requested event into an execution
    const startFailures = this.queue(
      'failover-start-failures',
      'Failover Requested events that could not start an execution',
    );
    new events.Rule(this, 'failover-requested-rule', {
      eventBus: this.bus,
      description:
        'Starts the failover state machine for each Failover Requested event (input: the event detail)',
      eventPattern: { source: ['cutover'], detailType: ['Failover Requested'] },
      targets: [
        new eventTargets.SfnStateMachine(this.stateMachines.failover, {
          input: events.RuleTargetInput.fromEventPath('$.detail'),
          retryAttempts: 8,
          maxEventAge: Duration.minutes(15),
          deadLetterQueue: startFailures,
        }),
      ],
    });

    // ---- Slack callback: a function URL, since Slack signs requests itself and cannot sign with SigV4
    if (handlerExists(SLACK_CALLBACK_ENTRY)) {
      const callback = new CutoverFunction(this, 'slack-callback', {
        entry: SLACK_CALLBACK_ENTRY,
        role: 'slack-callback',
        names,
        config,
        description:
          'Receives Slack approval clicks, verifies the signature and answers the waiting execution',
        // Slack wants an answer within 3 s (Slack interactivity docs); more time would only hide a hang.
        timeout: Duration.seconds(10),
        environment: tableRegion,
        // The URL is public (auth NONE): a flood of requests, each refused on its signature, must not use up the
        // region's Lambda concurrency that the failover steps need. Clicks come from a few people.
        reservedConcurrency: SLACK_CALLBACK_CONCURRENCY,
      });
      bindTable(callback, 'CONTROL_TABLE', control.table, 'readWrite');
      bindSecret(callback, 'SLACK_SIGNING_SECRET_ARN', slackSecrets.signingSecret);
      bindSecret(callback, 'SLACK_BOT_TOKEN_SECRET_ARN', slackSecrets.botToken);
      // Slack calls one URL, but the waiting execution may run in any control region (the approval record
      // names it), so the callback answers tasks of every control region's machines, and no other.
      callback.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: topology.controlRegions.flatMap((r) =>
            (['failover', 'failback'] as const).map(
              (kind) =>
                `arn:${Aws.PARTITION}:states:${r}:${this.account}:stateMachine:${names.stateMachine(kind)}`,
            ),
          ),
        }),
      );
      this.slackCallbackUrl = callback.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
      new CfnOutput(this, 'slack-callback-url', {
        description: 'Slack app → Interactivity & Shortcuts → Request URL',
        value: this.slackCallbackUrl.url,
      });
    } else {
      this.pending.push(SLACK_CALLBACK_ENTRY);
      Annotations.of(this).addWarningV2(
        'cutover:pending-handler:slack-callback',
        `${SLACK_CALLBACK_ENTRY} does not exist yet: no Slack callback URL in ${this.region}`,
      );
    }

    // ---- alarms
    this.alarms = new ControlPlaneAlarms(this, 'alarms', names, 'control');
    const sum = { period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM };
    this.alarms.add('aggregator-errors', {
      alarmName: `${names.function('aggregator')}-errors`,
      alarmDescription: `The aggregator in ${this.region} failed: stream batches are being retried and decisions delayed`,
      metric: this.aggregator.metricErrors(sum),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms.add('aggregator-behind', {
      alarmName: `${names.function('aggregator')}-behind`,
      alarmDescription: `The aggregator in ${this.region} is reading votes more than a minute old`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        dimensionsMap: { FunctionName: this.aggregator.functionName },
        period: ONE_MINUTE,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 60_000,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const [name, queue] of [
      ['aggregator-gave-up', aggregatorDlq],
      ['failover-not-started', startFailures],
    ] as const) {
      this.alarms.add(name, {
        alarmName: `cutover-${config.application}-${name}`,
        alarmDescription: `Messages in ${name}: look at the queue in ${this.region}`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: ONE_MINUTE,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const [kind, sm] of Object.entries(this.stateMachines)) {
      this.alarms.add(`${kind}-failed`, {
        alarmName: `${names.stateMachine(kind as WorkflowKind)}-failed`,
        alarmDescription: `A ${kind} execution in ${this.region} failed, timed out or was aborted: page the on-call`,
        metric: new cloudwatch.MathExpression({
          expression: 'failed + timedOut + aborted',
          usingMetrics: {
            failed: sm.metricFailed(sum),
            timedOut: sm.metricTimedOut(sum),
            aborted: sm.metricAborted(sum),
          },
          period: ONE_MINUTE,
          label: `${kind} executions failed, timed out or aborted`,
        }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    // The failure events themselves go to the pager topic at once: the alarm above says that an execution failed,
    // the event says where it stopped and how far it got (step, error, cause, fenced, promoted, leaseGranted,
    // trafficMoved), which is what docs/runbook.md asks for first. `Failback Failed` also comes from an aggregator
    // that abandoned a stalled failback, when no execution fails at all.
    for (const detailType of ['Failover Failed', 'Failback Failed'] as const) {
      new events.Rule(this, `${detailType.toLowerCase().replace(' ', '-')}-rule`, {
        eventBus: this.bus,
        description: `${detailType} events: where the execution stopped and how far it got, to the pager`,
        eventPattern: { source: ['cutover'], detailType: [detailType] },
        targets: [new eventTargets.SnsTopic(this.alarms.topic)],
      });
    }
    // An abort after the fence ends the execution in a Succeed state (`Aborted`), which no execution metric counts,
    // with traffic stopped and the lease revoked: no region writes until someone runs a manual failover. Its event
    // carries `fenced` (functions/steps/core/finish.ts, events/*-aborted.schema.json); a pattern matches a JSON
    // boolean by its literal (EventBridge user guide, "Creating event patterns": values are matched exactly as JSON,
    // true/false/null included, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html).
    // An abort before the fence changed nothing and does not page.
    new events.Rule(this, 'fenced-aborted-rule', {
      eventBus: this.bus,
      description: 'Failover/Failback Aborted after the fence (fenced: true): no region writes, to the pager',
      eventPattern: {
        source: ['cutover'],
        detailType: ['Failover Aborted', 'Failback Aborted'],
        detail: { fenced: [true] },
      },
      targets: [new eventTargets.SnsTopic(this.alarms.topic)],
    });
    const requestApproval = this.steps.get('RequestApprovalFunctionName');
    if (requestApproval) {
      // Each approval request invokes this function once; the alarm stays up for the approval's 5-minute window
      // so that a missed Slack message still reaches a person through the pager.
      this.alarms.add('approval-pending', {
        alarmName: `cutover-${config.application}-approval-pending`,
        alarmDescription: `A failover or failback in ${this.region} is waiting for approval in Slack (${config.approval.slack?.channel ?? 'no channel configured'})`,
        metric: requestApproval.metricInvocations({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.SUM,
        }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    new ReadinessEvaluation(this, 'readiness', {
      names,
      config: stepProps.config,
      controlTable: control.table,
      environment: tableRegion,
      steps: this.steps,
      stateMachines: this.stateMachines,
      slackBotToken: slackSecrets.botToken,
      alarms: this.alarms,
    });
    this.acknowledgeFindings();
  }

  /** An SQS queue for records and events that could not be processed; kept 14 days for a post-mortem. */
  private queue(id: string, description: string): sqs.Queue {
    const q = new sqs.Queue(this, id, {
      queueName: `cutover-${this.application}-${id}`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(q).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the dead-letter destination (${description}); an alarm watches its depth.`,
    });
    return q;
  }

  /**
   * The votes replica here with its stream ARN. CloudFormation returns the stream ARN of the home region's
   * replica only, so the other regions read it with DescribeTable (LatestStreamArn) at deploy time.
   */
  private votesWithStream(tableName: string, votes: dynamodb.ITableV2): dynamodb.ITableV2 {
    const describe = new cr.AwsCustomResource(this, 'votes-stream-arn', {
      onUpdate: {
        service: 'DynamoDB',
        action: 'describeTable',
        parameters: { TableName: tableName },
        physicalResourceId: cr.PhysicalResourceId.of(`${tableName}-stream-${this.region}`),
        outputPaths: ['Table.LatestStreamArn'],
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [votes.tableArn] }),
      installLatestAwsSdk: false,
    });
    const provider = this.node.tryFindChild(
      cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '').replace(/^/, 'AWS'),
    );
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The CDK AwsCustomResource provider runs once per deployment (DescribeTable); its role comes from the CDK.',
      });
    }
    return dynamodb.TableV2.fromTableAttributes(this, 'votes-table-stream', {
      tableArn: votes.tableArn,
      tableStreamArn: describe.getResponseField('Table.LatestStreamArn'),
    });
  }

  private stepFunction(
    spec: StepSpec,
    props: RegionStackProps,
    timeoutSeconds: number | undefined,
    environment: Record<string, string>,
  ): lambda.Function {
    const { names } = props.topology;
    if (!handlerExists(spec.entry)) {
      this.pending.push(spec.entry);
      return pendingHandler(this, spec.role, spec.entry, names, spec.role);
    }
    return new CutoverFunction(this, spec.role, {
      entry: spec.entry,
      role: spec.role,
      names,
      config: props.config,
      description: `Cutover step ${spec.placeholder.replace(/Function(Arn|Name)$/, '')}`,
      // Shorter than every state that calls it (stepFunctionTimeouts). The approval function, called only from
      // waitForTaskToken states whose timeout times the wait, stores the request and posts it: 30 s.
      timeout: Duration.seconds(timeoutSeconds ?? APPROVAL_FUNCTION_TIMEOUT_SECONDS),
      environment,
    });
  }

  private grantCapability(
    fn: lambda.Function,
    capability: Capability,
    props: RegionStackProps,
    slack: { botToken: secretsmanager.ISecret; signingSecret: secretsmanager.ISecret },
  ): void {
    if (capability === 'slack') {
      bindSecret(fn, 'SLACK_BOT_TOKEN_SECRET_ARN', slack.botToken);
      return;
    }
    for (const s of capabilityStatements(this, props.config, capability)) fn.addToRolePolicy(s);
  }

  /** cdk-nag findings that are choices, each with its reason; anything else fails the infra tests. */
  private acknowledgeFindings(): void {
    const ack = (id: string, reason: string) => Validations.of(this).acknowledge({ id, reason });
    acknowledgeTracing(
      this,
      `cloudwatch:GetMetricData (replication lag) has no resource-level permissions either${this.trafficMode === 'accelerator' ? ', nor has globalaccelerator:ListAccelerators' : ''}${this.hasAutoScalingHooks ? ', nor has autoscaling:DescribeAutoScalingGroups (the hook step reads its groups)' : ''}.`,
    );
    acknowledgeHookFindings(this, this.config);
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]',
      'route53:GetChange takes a change id that Route 53 generates for each change; it cannot be known in advance.',
    );
    if (this.trafficMode === 'accelerator') {
      const why =
        'The accelerator is created by the traffic stack in us-west-2 and its ids are generated, so the traffic steps find its endpoint groups by the configured endpoints (infra/iam.ts); the grant stays within this account.';
      for (const resource of [
        'accelerator/*',
        'accelerator/*/listener/*',
        'accelerator/*/listener/*/endpoint-group/*',
      ]) {
        ack(
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:globalaccelerator::<AWS::AccountId>:${resource}]`,
          why,
        );
      }
    }
  }
}
