import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import { configEnvironmentBytes, MAX_CONFIG_ENV_BYTES } from '#core/config-rules.js';
import type { Names } from '../topology.js';

/** The repository root: entries are given relative to it, as they appear in functions/. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const repoPath = (relative: string): string =>
  fileURLToPath(new URL(relative, new URL(REPO_ROOT, 'file:')));

/**
 * Lambda runtime for every Cutover function (the brief fixes nodejs24.x; aws-cdk-lib has NODEJS_24_X since
 * the runtime's launch, AWS Lambda runtimes reference).
 */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface CutoverFunctionProps {
  /** Handler source relative to the repository root, e.g. `functions/prober.ts`. */
  entry: string;
  /** Short role name; it names the function, its log group and its Powertools service. */
  role: string;
  names: Names;
  description: string;
  timeout: Duration;
  /** The validated configuration, handed over as JSON in CUTOVER_CONFIG (functions/commons/env-config.ts). */
  config: CutoverConfig;
  /** MB; DEFAULT_MEMORY_MB unless the function is a mostly sleeping loop (LOOP_MEMORY_MB). */
  memorySize?: number;
  /** Active X-Ray tracing; on unless the stack turns it off (see traceEveryFunction). */
  tracing?: boolean;
  environment?: Record<string, string>;
  /** Caps the function's concurrency (and reserves it), so that a flood of its callers cannot starve the rest. */
  reservedConcurrency?: number;
}

/** The aggregator and the failover and failback steps: they do their work in the invocation, not asleep. */
export const DEFAULT_MEMORY_MB = 256;

/**
 * The prober and the heartbeat sleep through most of their minute and only wait on HTTP and DynamoDB; billed
 * duration is memory × wall time, so they get Lambda's smallest size (a bundle loaded and looping peaks near
 * 90 MB RSS on Node 24). Running out of memory fails the invocation, which the prober-errors and
 * heartbeat-errors alarms report.
 */
export const LOOP_MEMORY_MB = 128;

/**
 * Whether the functions that run every few seconds (the prober, the heartbeat and the stream-triggered
 * aggregator) get active X-Ray tracing: off unless `-c traceEveryFunction=true`. At the default vote rate
 * their traces cost more than any other line of the bill, and their logs already carry every decision with
 * its code and reason. The state machines and their steps, which run only during a failover or failback,
 * are always traced.
 */
export function traceEveryFunction(scope: Construct): boolean {
  const flag: unknown = scope.node.tryGetContext('traceEveryFunction');
  return flag === true || flag === 'true';
}

/**
 * The house Lambda function: nodejs24.x on arm64, bundled by esbuild as ESM, Powertools settings, X-Ray
 * tracing unless turned off, and its own log group with a retention, so that no function logs forever into an
 * unnamed group.
 */
export class CutoverFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: CutoverFunctionProps) {
    const entry = repoPath(props.entry);
    if (!existsSync(entry)) throw new MissingHandlerError(props.entry);
    const logGroup = new logs.LogGroup(scope, `${id}-logs`, {
      logGroupName: props.names.logGroup(props.role),
      retention: logs.RetentionDays.ONE_MONTH,
      // Logs are the audit trail's second copy; an accidental stack deletion must not take them with it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = functionRole(scope, id, logGroup);
    // The same limit `config validate` applies (configSizeIssues), so a validated file never fails here.
    const configJson = JSON.stringify(props.config);
    const configBytes = configEnvironmentBytes(props.config);
    if (configBytes > MAX_CONFIG_ENV_BYTES) {
      throw new Error(
        `the Cutover configuration is ${configBytes} bytes as JSON, over ${MAX_CONFIG_ENV_BYTES}; CUTOVER_CONFIG must fit Lambda's 4 KB environment (cutover config validate says what to shorten)`,
      );
    }
    super(scope, id, {
      entry,
      handler: 'handler',
      functionName: props.names.function(props.role),
      description: props.description,
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      tracing: props.tracing === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
      logGroup,
      role,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: REPO_ROOT,
      depsLockFilePath: repoPath('package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // Some dependencies still call require(); ESM output has none unless it is made (Powertools docs, bundling).
        banner: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
      },
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      environment: {
        CUTOVER_CONFIG: configJson,
        POWERTOOLS_SERVICE_NAME: `cutover-${props.role}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Cutover',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
    });
  }
}

export class MissingHandlerError extends Error {
  constructor(readonly entry: string) {
    super(`${entry} does not exist: the CDK app cannot bundle a handler that is not written yet`);
    this.name = 'MissingHandlerError';
  }
}

/** Whether a handler file is present; used to wire handlers that other work is still writing. */
export const handlerExists = (entry: string): boolean => existsSync(repoPath(entry));

/**
 * Stands in for a handler whose file does not exist yet, so the rest of the control plane still synthesizes.
 * It fails every invocation with a named error (which the state machines' Catch turns into the failure path),
 * and synth prints a warning naming the missing file.
 */
export function pendingHandler(
  scope: Construct,
  id: string,
  entry: string,
  names: Names,
  role: string,
): lambda.Function {
  Annotations.of(scope).addWarningV2(
    `cutover:pending-handler:${role}`,
    `${entry} does not exist yet: ${names.function(role)} is a stand-in that fails with HandlerNotDeployedError`,
  );
  const logGroup = new logs.LogGroup(scope, `${id}-logs`, {
    logGroupName: names.logGroup(role),
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  return new lambda.Function(scope, id, {
    role: functionRole(scope, id, logGroup),
    functionName: names.function(role),
    description: `Stand-in: ${entry} was missing at synth`,
    runtime: RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    timeout: Duration.seconds(5),
    logGroup,
    tracing: lambda.Tracing.ACTIVE,
    code: lambda.Code.fromInline(
      `exports.handler = async () => { const e = new Error(${JSON.stringify(`${entry} was not deployed`)}); e.name = 'HandlerNotDeployedError'; throw e; };`,
    ),
  });
}

/**
 * The function's role, instead of the AWSLambdaBasicExecutionRole managed policy (logs on every group):
 * it may write to its own log group only.
 */
function functionRole(scope: Construct, id: string, logGroup: logs.LogGroup): iam.Role {
  const role = new iam.Role(scope, `${id}-role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  logGroup.grantWrite(role);
  return role;
}

/** Invoke permission on exactly this function, not its versions (`arn:*`): the ASL and schedules call it unqualified. */
export function grantInvokeExact(fn: lambda.IFunction, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
  );
}

export type TableAccess = 'read' | 'readWrite';

/** Sets the variable that names the table and grants exactly that access, in one call. */
export function bindTable(fn: lambda.Function, variable: string, table: ITableV2, access: TableAccess): void {
  fn.addEnvironment(variable, table.tableName);
  if (access === 'read') table.grantReadData(fn);
  else table.grantReadWriteData(fn);
}

/** EVENT_BUS_NAME and events:PutEvents on that bus only. */
export function bindEventBus(fn: lambda.Function, variable: string, bus: IEventBus): void {
  fn.addEnvironment(variable, bus.eventBusName);
  bus.grantPutEventsTo(fn);
}

/**
 * Passes a secret by ARN (never its value) and grants reading it; the handler reads it once at cold start
 * (Powertools parameters or the Secrets Manager client).
 */
export function bindSecret(fn: lambda.Function, variable: string, secret: ISecret): void {
  fn.addEnvironment(variable, secret.secretArn);
  secret.grantRead(fn);
}
