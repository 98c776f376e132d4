import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DEPLOYED, type FunctionKind } from '#core/cost.js';
import { pendingHandler } from '../../infra/constructs/cutover-function.js';
import { readConfig } from '../../infra/cutover-app.js';
import { normalizedRecordName } from '../../infra/iam.js';
import { topology } from '../../infra/topology.js';
import { placeholders, readAsl, STEPS } from '../../infra/workflows.js';
import { actionsOf, CONFIGS, functionStatements, GENERATED, statements, synth } from './support.js';

const example = () => synth(CONFIGS.example);

describe('tables', () => {
  it('votes: MREC global table in every watcher and control region, stream NEW_IMAGE, TTL on expiresAt', () => {
    const { stacks, template } = example();
    const t = template(stacks.votesTable);
    const regions = [...stacks.topology.controlRegions, ...stacks.topology.watchers].sort();
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'cutover-orders-votes',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      MultiRegionConsistency: Match.absent(),
    });
    const table = Object.values(t.findResources('AWS::DynamoDB::GlobalTable'))[0] as {
      Properties: { Replicas: Array<{ Region: string }> };
    };
    expect(table.Properties.Replicas.map((r) => r.Region).sort()).toEqual(regions);
    expect(stacks.votesTable.region).toBe('us-east-2');
  });

  it('control: MRSC across the 3 lease regions, no TTL, PITR and deletion protection', () => {
    const { stacks, template } = example();
    const t = template(stacks.controlTable);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'cutover-orders-control',
      MultiRegionConsistency: 'STRONG',
      TimeToLiveSpecification: Match.absent(),
      GlobalTableWitnesses: Match.absent(),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'us-east-2',
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]),
    });
    const table = Object.values(t.findResources('AWS::DynamoDB::GlobalTable'))[0] as {
      Properties: { Replicas: Array<{ Region: string }> };
    };
    expect(table.Properties.Replicas.map((r) => r.Region).sort()).toEqual([
      'us-east-1',
      'us-east-2',
      'us-west-2',
    ]);
  });

  it('control: 2 replicas + witness for the witness config', () => {
    const { stacks, template } = synth(CONFIGS.witness);
    const t = template(stacks.controlTable);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      MultiRegionConsistency: 'STRONG',
      GlobalTableWitnesses: [{ Region: 'us-east-2' }],
    });
    const table = Object.values(t.findResources('AWS::DynamoDB::GlobalTable'))[0] as {
      Properties: { Replicas: Array<{ Region: string }> };
    };
    expect(table.Properties.Replicas.map((r) => r.Region).sort()).toEqual(['us-east-1', 'us-west-2']);
  });

  it('control: one single-region table in the arbiter region for the arbiter config', () => {
    const { stacks, template } = synth(CONFIGS.arbiter);
    expect(stacks.controlTable.region).toBe('us-east-2');
    const t = template(stacks.controlTable);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      MultiRegionConsistency: Match.absent(),
      Replicas: [Match.objectLike({ Region: 'us-east-2' })],
    });
    // Every function and keeper that uses the lease reaches it in the arbiter region, and there only.
    for (const stack of stacks.applications) {
      const policy = JSON.stringify(template(stack).findResources('AWS::IAM::ManagedPolicy'));
      expect(new Set(policy.match(/:dynamodb:[a-z0-9-]+:/g))).toEqual(new Set([':dynamodb:us-east-2:']));
    }
    for (const stack of stacks.control) {
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            LEASE_TABLE_REGION: 'us-east-2',
            CONTROL_TABLE: 'cutover-payments-control',
          }),
        },
      });
    }
  });
});

describe('control stacks', () => {
  it('one per control region, with the aggregator on the votes stream (bisect, bounded retries, item failures, SQS on failure)', () => {
    const { stacks, template } = example();
    expect(stacks.control.map((s) => s.region)).toEqual(['us-east-2', 'eu-central-1']);
    for (const stack of stacks.control) {
      const t = template(stack);
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        StartingPosition: 'LATEST',
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^aggregatorfailures'), 'Arn'] },
          },
        },
        EventSourceArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^votesstreamarn'), 'Table.LatestStreamArn'],
        },
      });
      // The stream ARN of this region's replica, read with DescribeTable at deploy time.
      t.hasResourceProperties('Custom::AWS', {
        Create: Match.stringLikeRegexp('"action":"describeTable".*cutover-orders-votes'),
      });
    }
  });

  it('the rule starts failover on source cutover / Failover Requested with the detail as input', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    t.hasResourceProperties('AWS::Events::EventBus', { Name: 'cutover-orders' });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^eventbus') },
      EventPattern: { source: ['cutover'], 'detail-type': ['Failover Requested'] },
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^failoverstatemachine') },
          InputPath: '$.detail',
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it('state machines: definitions from the ASL files with every placeholder substituted', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    const machines = t.findResources('AWS::StepFunctions::StateMachine');
    expect(Object.keys(machines)).toHaveLength(2);
    for (const kind of ['failover', 'failback'] as const) {
      const [, sm] = Object.entries(machines).find(([id]) => id.startsWith(`${kind}statemachine`))!;
      const props = (sm as { Properties: Record<string, unknown> }).Properties;
      expect(props.StateMachineName).toBe(`cutover-orders-${kind}`);
      expect(props.TracingConfiguration).toEqual({ Enabled: true });
      expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
      const subs = props.DefinitionSubstitutions as Record<string, unknown>;
      expect(Object.keys(subs).sort()).toEqual(placeholders(readAsl(kind)).sort());
      // The definition CloudFormation will resolve: substitutions are the only `${…}` left, and each is a function.
      const body = JSON.stringify(props.DefinitionString);
      for (const name of Object.keys(subs)) {
        expect(JSON.stringify(subs[name])).toMatch(name.endsWith('FunctionName') ? /"Ref"/ : /"Arn"/);
      }
      const resolved = body.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => (name in subs ? 'FN' : m));
      expect(resolved).not.toMatch(/\$\{/);
    }
  });

  it('every ASL placeholder has a step Lambda, and every step Lambda is in use', () => {
    const used = new Set([...placeholders(readAsl('failover')), ...placeholders(readAsl('failback'))]);
    expect([...used].filter((p) => !STEPS.some((s) => s.placeholder === p))).toEqual([]);
    expect(STEPS.filter((s) => !used.has(s.placeholder)).map((s) => s.placeholder)).toEqual([]);
  });

  it('the state machine role may invoke exactly its step functions, unqualified', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    const policies = t.findResources('AWS::IAM::Policy');
    const [, failover] = Object.entries(policies).find(([id]) =>
      id.startsWith('failoverstatemachineRoleDefaultPolicy'),
    )!;
    const invoke = (
      failover as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }
    ).Properties.PolicyDocument.Statement.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invoke.length).toBe(placeholders(readAsl('failover')).length);
    for (const s of invoke) expect(JSON.stringify(s.Resource)).not.toMatch(/:\*/);
  });

  it('functions: nodejs24.x on arm64, own log group, config in CUTOVER_CONFIG, Powertools service name', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cutover-orders-aggregator',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      TracingConfig: Match.absent(),
      Timeout: 30,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^aggregatorlogs') } },
      Environment: {
        Variables: Match.objectLike({
          CUTOVER_CONFIG: Match.stringLikeRegexp('"application":"orders"'),
          POWERTOOLS_SERVICE_NAME: 'cutover-aggregator',
          VOTES_TABLE: 'cutover-orders-votes',
          CONTROL_TABLE: 'cutover-orders-control',
          EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('^eventbus') },
          LEASE_TABLE_REGION: 'us-east-2',
        }),
      },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/cutover/orders/aggregator',
      RetentionInDays: 30,
    });
    // A step's timeout is its shortest Task TimeoutSeconds in the ASL (Promote: 120 s) less 15 s for scheduling,
    // the invoke and a cold start (step-timeouts.test.ts checks every step).
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cutover-orders-promote',
      Timeout: 105,
    });
    // The control region outside the lease regions reaches the nearest replica (eu-central-1 → us-east-2).
    template(stacks.control[1]!).hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cutover-orders-aggregator',
      Environment: { Variables: Match.objectLike({ LEASE_TABLE_REGION: 'us-east-2' }) },
    });
  });

  it('Slack secrets are in Secrets Manager and functions get only their ARNs', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    t.resourceCountIs('AWS::SecretsManager::Secret', 2);
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'cutover/orders/slack-bot-token' });
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'cutover/orders/slack-signing-secret' });
    const fns = Object.values(t.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Environment?: { Variables?: Record<string, unknown> } };
    }>;
    for (const fn of fns) {
      for (const [name, value] of Object.entries(fn.Properties.Environment?.Variables ?? {})) {
        if (/SLACK|SECRET|TOKEN/.test(name)) {
          expect(name).toMatch(/_SECRET_ARN$/);
          expect(JSON.stringify(value)).toMatch(/"Ref":"slack/);
        }
      }
    }
    // The steps that notify post to Slack with the bot token.
    for (const role of ['notify', 'abort', 'report-failure']) {
      t.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `cutover-orders-${role}`,
        Environment: {
          Variables: Match.objectLike({
            SLACK_BOT_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('^slackbottoken') },
          }),
        },
      });
    }
  });
});

describe('IAM scoping', () => {
  const traffic = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'orders.example.com' };

  it('Route 53: changes only the configured records (UPSERT, type) in the configured zone', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    for (const role of ['stop-traffic', 'route-traffic']) {
      const change = functionStatements(t, role).find((s) =>
        actionsOf(s).includes('route53:ChangeResourceRecordSets'),
      )!;
      expect(JSON.stringify(change.Resource)).toContain(`:route53:::hostedzone/${traffic.hostedZoneId}`);
      expect(change.Condition).toEqual({
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [normalizedRecordName(traffic.recordName)],
          'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      });
    }
    expect(
      functionStatements(t, 'traffic-status').some(
        (s) =>
          actionsOf(s).includes('route53:GetChange') &&
          JSON.stringify(s.Resource).includes(':route53:::change/*'),
      ),
    ).toBe(true);
    // No other function may touch Route 53.
    const others = ['aggregator', 'claim-incident', 'fence', 'promote', 'grant-lease', 'verify', 'notify'];
    for (const role of others) {
      expect(
        functionStatements(t, role)
          .flatMap(actionsOf)
          .filter((a) => a.startsWith('route53:')),
      ).toEqual([]);
    }
  });

  it('RDS: only the configured instances; Aurora: only the global cluster and its member clusters', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    const promote = functionStatements(t, 'promote').find((s) =>
      actionsOf(s).includes('rds:PromoteReadReplica'),
    )!;
    const resources = JSON.stringify(promote.Resource);
    expect(resources).toContain(':rds:us-east-1:');
    expect(resources).toContain(':db:orders-db-use1');
    expect(resources).toContain(':db:orders-db-usw2');
    expect(
      statements(t).filter((s) => actionsOf(s).some((a) => a.startsWith('rds:')) && s.Resource === '*'),
    ).toEqual([]);

    const aurora = synth(CONFIGS.arbiter);
    const a = aurora.template(aurora.stacks.control[0]!);
    const failover = functionStatements(a, 'promote').find((s) =>
      actionsOf(s).includes('rds:FailoverGlobalCluster'),
    )!;
    expect(JSON.stringify(failover.Resource)).toContain(':global-cluster:payments-global');
    expect(failover.Resource).toEqual(
      expect.arrayContaining(['arn:aws:rds:us-east-1:123456789012:cluster:payments-use1']),
    );
    // The promoter reads the target cluster before it promotes and while it waits.
    for (const fn of ['promote', 'promote-status']) {
      const describe = functionStatements(a, fn).find((s) => actionsOf(s).includes('rds:DescribeDBClusters'));
      expect(describe?.Resource, fn).toEqual(
        expect.arrayContaining([expect.stringMatching(/:cluster:payments-/)]),
      );
    }
  });

  it('DynamoDB global tables: no RDS action at all, and the RPO guard may read the replication latency', () => {
    const dynamo = synth(GENERATED['database engine dynamodb']);
    const t = dynamo.template(dynamo.stacks.control[0]!);
    expect(
      statements(t)
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('rds:')),
    ).toEqual([]);
    expect(functionStatements(t, 'rpo-guard').flatMap(actionsOf)).toContain('cloudwatch:GetMetricData');
  });

  it('Lambda fence: PutFunctionConcurrency only on the configured functions in the application regions', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    const fence = functionStatements(t, 'fence').find((s) =>
      actionsOf(s).includes('lambda:PutFunctionConcurrency'),
    )!;
    const r = JSON.stringify(fence.Resource);
    expect(r).toContain(':lambda:us-east-1:');
    expect(r).toContain(':lambda:us-west-2:');
    expect(r).toContain(':function:orders-api-writer');
    expect(r).not.toContain('*');
    const holders = ['aggregator', 'promote', 'stop-traffic', 'notify'].filter((role) =>
      functionStatements(t, role).some((s) => actionsOf(s).includes('lambda:PutFunctionConcurrency')),
    );
    expect(holders).toEqual([]);
  });

  it('events:PutEvents only on the Cutover bus; the votes table read-only outside the prober', () => {
    const { stacks, template } = example();
    for (const stack of [...stacks.control, ...stacks.applications, ...stacks.watchers]) {
      for (const s of statements(template(stack)).filter((x) => actionsOf(x).includes('events:PutEvents'))) {
        expect(JSON.stringify(s.Resource)).toMatch(/eventbus/);
      }
    }
    const t = template(stacks.control[0]!);
    const votesWrites = functionStatements(t, 'aggregator').filter(
      (s) =>
        actionsOf(s).includes('dynamodb:PutItem') &&
        JSON.stringify(s.Resource).includes('cutover-orders-votes'),
    );
    expect(votesWrites).toEqual([]);
  });
});

describe('watcher and application stacks', () => {
  it('a prober in each watcher region, started every minute by EventBridge Scheduler', () => {
    const { stacks, template } = example();
    expect(stacks.watchers.map((s) => s.region)).toEqual(stacks.topology.watchers);
    for (const stack of stacks.watchers) {
      const t = template(stack);
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 minute)',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^prober'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      });
      t.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'cutover-orders-prober',
        Timeout: 60,
        Environment: { Variables: Match.objectLike({ VOTES_TABLE: 'cutover-orders-votes' }) },
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Invocations',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 3,
        Period: 60,
        TreatMissingData: 'breaching',
      });
    }
  });

  it('lease.keeper process (the default): no heartbeat Lambda; a policy for the application role, and both pages', () => {
    const { stacks, template } = example();
    expect(stacks.applications.map((s) => s.region)).toEqual(['us-east-1', 'us-west-2']);
    for (const stack of stacks.applications) {
      const t = template(stack);
      t.resourceCountIs('AWS::Lambda::Function', 0);
      t.resourceCountIs('AWS::Scheduler::Schedule', 0);
      expect(stack.heartbeat).toBeUndefined();
      for (const detailType of ['Lease Renewal Failed', 'Primary Self-Fenced']) {
        t.hasResourceProperties('AWS::Events::Rule', {
          EventPattern: { source: ['cutover'], 'detail-type': [detailType] },
          Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^alarmstopic') } })],
        });
      }
      // Lease item of this application only, on every lease replica, this region's first.
      const policy = Object.values(t.findResources('AWS::IAM::ManagedPolicy'))[0] as {
        Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } };
      };
      const [lease, put] = policy.Properties.PolicyDocument.Statement;
      expect(lease?.Action).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(lease?.Condition).toEqual({
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['orders'] },
      });
      const regions = JSON.stringify(lease?.Resource).match(/:dynamodb:([a-z0-9-]+):/g);
      expect(regions?.[0]).toBe(`:dynamodb:${stack.region}:`);
      expect(new Set(regions)).toEqual(
        new Set(['us-east-2', 'us-east-1', 'us-west-2'].map((r) => `:dynamodb:${r}:`)),
      );
      expect(put?.Action).toBe('events:PutEvents');
    }
  });

  it('lease.keeper scheduled: an overlapping, reserved, never-retried heartbeat in each application region', () => {
    const { stacks, template } = synth(GENERATED['scheduled keeper']);
    const t = template(stacks.applications[0]!);
    t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 minute)' });
    // Runs of 130 s started every minute: up to 3 alive at once, one more in reserve; the timeout is above the run.
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cutover-orders-heartbeat',
      Timeout: 140,
      ReservedConcurrentExecutions: 4,
      Environment: {
        Variables: Match.objectLike({
          HEALTH_URL: 'https://orders-use1.example.com/health',
          CONTROL_TABLE: 'cutover-orders-control',
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
    const renew = functionStatements(t, 'heartbeat').find((s) =>
      actionsOf(s).includes('dynamodb:UpdateItem'),
    );
    expect(JSON.stringify(renew?.Resource)).toContain(':dynamodb:us-east-2:');
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['cutover'], 'detail-type': ['Primary Self-Fenced'] },
    });
  });
});

describe('what the cost model assumes (functions/core/cost.ts DEPLOYED)', () => {
  type Fn = { Properties: { FunctionName?: string; MemorySize?: number; TracingConfig?: { Mode: string } } };
  /** Every function of the deployment with its kind as the cost model counts it. */
  const functionsOf = ({ stacks, template }: ReturnType<typeof synth>) => {
    const of = (stack: Stack) =>
      Object.values(template(stack).findResources('AWS::Lambda::Function')) as Fn[];
    const stepNames = new Set(STEPS.map((s) => `cutover-orders-${s.role}`));
    const kinds: Array<[FunctionKind, Fn]> = [
      ...stacks.watchers.flatMap((s) => of(s).map((f): [FunctionKind, Fn] => ['prober', f])),
      ...stacks.applications.flatMap((s) => of(s).map((f): [FunctionKind, Fn] => ['heartbeat', f])),
      ...stacks.control.flatMap((s) =>
        of(s)
          .filter(
            (f) =>
              f.Properties.FunctionName === 'cutover-orders-aggregator' ||
              stepNames.has(f.Properties.FunctionName ?? ''),
          )
          .map((f): [FunctionKind, Fn] => [
            f.Properties.FunctionName === 'cutover-orders-aggregator' ? 'aggregator' : 'step',
            f,
          ]),
      ),
    ];
    return kinds;
  };

  it('deploys the memory size and tracing the cost model prices, for every function kind', () => {
    const fns = functionsOf(synth(GENERATED['scheduled keeper']));
    expect(new Set(fns.map(([k]) => k))).toEqual(new Set(['prober', 'heartbeat', 'aggregator', 'step']));
    for (const [kind, f] of fns) {
      const name = f.Properties.FunctionName;
      expect(f.Properties.MemorySize, `${name} memory`).toBe(DEPLOYED.memoryMb[kind]);
      expect(f.Properties.TracingConfig, `${name} tracing`).toEqual(
        DEPLOYED.traced[kind] ? { Mode: 'Active' } : undefined,
      );
    }
  });

  it('traces the prober, heartbeat and aggregator only with -c traceEveryFunction=true, and cdk-nag stays clean', () => {
    const traced = synth(GENERATED['scheduled keeper'], { traceEveryFunction: 'true' });
    for (const [, f] of functionsOf(traced)) {
      expect(f.Properties.TracingConfig, f.Properties.FunctionName).toEqual({ Mode: 'Active' });
    }
    const report = new AwsSolutionsChecks().validateScope(traced.app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.length}`)).toEqual([]);
    // Without tracing the loop stacks' roles carry no X-Ray statement at all.
    const { stacks, template } = example();
    for (const stack of [...stacks.watchers, ...stacks.applications]) {
      expect(statements(template(stack)).flatMap(actionsOf)).not.toContain('xray:PutTraceSegments');
    }
  });
});

describe('operations', () => {
  const alarmNames = (t: ReturnType<ReturnType<typeof example>['template']>) =>
    Object.values(t.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { AlarmName: string } }).Properties.AlarmName,
    );

  it('alarms for the control plane itself, each notifying the alarm topic', () => {
    const { stacks, template } = example();
    const control = template(stacks.control[0]!);
    expect(alarmNames(control)).toEqual(
      expect.arrayContaining([
        'cutover-orders-aggregator-errors',
        'cutover-orders-failover-failed',
        'cutover-orders-failback-failed',
        'cutover-orders-approval-pending',
        'cutover-orders-failover-not-started',
      ]),
    );
    control.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cutover-orders-failover-failed',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^alarmstopic') }],
    });
    expect(alarmNames(template(stacks.watchers[0]!))).toContain('cutover-orders-prober-silent');
    expect(alarmNames(template(stacks.applications[0]!))).toEqual([
      'cutover-orders-us-east-1-lease-not-renewed',
      'cutover-orders-us-east-1-primary-self-fenced',
    ]);
    const scheduled = synth(GENERATED['scheduled keeper']);
    expect(alarmNames(scheduled.template(scheduled.stacks.applications[0]!))).toEqual(
      expect.arrayContaining([
        'cutover-orders-heartbeat-us-east-1-errors',
        'cutover-orders-heartbeat-us-east-1-silent',
      ]),
    );
  });

  it('one dashboard, in the first control region', () => {
    const { stacks, template } = example();
    const dashboards = stacks.all.flatMap((s) =>
      Object.keys(template(s).findResources('AWS::CloudWatch::Dashboard')).map(() => s.region),
    );
    expect(dashboards).toEqual(['us-east-2']);
  });
});

describe('handlers written elsewhere', () => {
  it('the Slack callback has a function URL (auth NONE) and answers tasks of every control region’s machines', () => {
    const { stacks, template } = example();
    const t = template(stacks.control[0]!);
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    const respond = functionStatements(t, 'slack-callback').find((s) =>
      actionsOf(s).includes('states:SendTaskSuccess'),
    )!;
    const resources = JSON.stringify(respond.Resource);
    for (const region of stacks.topology.controlRegions) {
      expect(resources).toContain(`:states:${region}:`);
    }
    expect(resources).not.toContain('*');
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cutover-orders-slack-callback',
      // Public URL: a flood of refused requests must not take the concurrency the failover steps need.
      ReservedConcurrentExecutions: 5,
      Environment: {
        Variables: Match.objectLike({
          SLACK_SIGNING_SECRET_ARN: { Ref: Match.stringLikeRegexp('^slacksigningsecret') },
          SLACK_BOT_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('^slackbottoken') },
        }),
      },
    });
  });

  it('a missing handler becomes a stand-in that fails by name, with a synth warning', () => {
    const app = new App();
    const stack = new Stack(app, 'pending', { env: { region: 'us-east-2' } });
    const names = topology(readConfig(CONFIGS.example)).names;
    pendingHandler(
      stack,
      'request-approval',
      'functions/steps/not-written-yet.ts',
      names,
      'request-approval',
    );
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cutover-orders-request-approval',
      Code: { ZipFile: Match.stringLikeRegexp('HandlerNotDeployedError') },
    });
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('not-written-yet.ts does not exist yet'),
    );
  });
});
