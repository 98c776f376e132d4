import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';

/**
 * Runs a state machine from statemachines/*.asl.json in process with aws-local-stepfunctions, its Task
 * states bound to local handlers.
 *
 * How the binding works: the library keys `taskResourceLocalHandlers` by *state name* and calls the handler
 * with the state's effective input (after InputPath and Parameters), whatever the Resource says. So this
 * runner maps each Task to a handler by the placeholder that names its function: `"Resource":
 * "${FenceFunctionArn}"` binds to `handlers.FenceFunctionArn`; an integration resource
 * (`arn:aws:states:::lambda:invoke[.waitForTaskToken]`) binds by its `Parameters.FunctionName` placeholder.
 *
 * `.waitForTaskToken`: the library has no callback support and does not need the definition rewritten: it
 * runs the task like any other, calls the local handler with the evaluated Parameters ({FunctionName,
 * Payload}), and uses the handler's result as the task result, which is what SendTaskSuccess's output is on
 * AWS. A thrown error with a name is what SendTaskFailure's error is. The task's TimeoutSeconds(Path) still
 * applies (States.Timeout), after the one rewrite below (localTimeoutPath); HeartbeatSeconds(Path) is
 * ignored. `$$.Task.Token` is supplied through the context object as a fixed local token.
 */

/** One execution event of the library (it does not export the type). */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

// biome-ignore lint/suspicious/noExplicitAny: the library's JSONValue in and out
export type LocalTaskHandler = (input: any) => Promise<any>;

/** The fence's Wait states: they stay real time unless a test names them, since shortening them is a choice. */
export const FENCE_WAIT_STATES = ['WaitOutOldLease', 'WaitOutCurrentLease'];

export interface RunOptions {
  /**
   * Milliseconds for Wait states instead of their Seconds: a number for every Wait state except the fence's
   * (FENCE_WAIT_STATES), or a map by state name (which may name the fence's).
   */
  waitMs?: number | Record<string, number>;
  /** Milliseconds between retries of every Retry field instead of IntervalSeconds and backoff. */
  retryIntervalMs?: number;
  executionName?: string;
  region?: string;
  account?: string;
  /** Called with every execution event as it happens (state entered, exited, retried, caught...). */
  onEvent?: (event: EventLog) => void;
  /**
   * Stops the execution as StopExecution would (a dead control region's Step Functions). The library ends
   * the run at once; a Task handler already in flight finishes on its own and its result is dropped, like
   * a Lambda invocation whose caller is gone.
   */
  signal?: AbortSignal;
}

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  executionArn: string;
  // biome-ignore lint/suspicious/noExplicitAny: the final state is whatever the machine made it
  output: any;
  error?: { Error: string; Cause: string };
  events: EventLog[];
  /** State names in the order they were entered. */
  path: string[];
}

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; [key: string]: unknown };
  Retry?: unknown[];
  TimeoutSecondsPath?: string;
}

/** Where in Parameters a reference path is copied: `$.Payload.timeoutSeconds` for `"timeoutSeconds.$": path`. */
function pathInParameters(params: unknown, path: string, at = '$'): string | null {
  if (!params || typeof params !== 'object') return null;
  for (const [k, v] of Object.entries(params)) {
    if (k.endsWith('.$') && v === path) return `${at}.${k.slice(0, -2)}`;
    const inner = pathInParameters(v, path, `${at}.${k}`);
    if (inner) return inner;
  }
  return null;
}

/**
 * The one rewrite the library forces: it resolves TimeoutSecondsPath against the effective input (after
 * Parameters) where Step Functions resolves it against the state input (Task state reference: "from the
 * state input"). A Task whose Parameters copy the same value gets its path pointed at that copy; the
 * timeout is then the same number on both.
 */
function localTimeoutPath(name: string, state: AslState): void {
  const path = state.TimeoutSecondsPath;
  if (!path || !state.Parameters) return;
  const local = pathInParameters(state.Parameters, path);
  if (!local) {
    throw new Error(
      `state ${name}: TimeoutSecondsPath ${path} must also be passed in Parameters to run locally`,
    );
  }
  state.TimeoutSecondsPath = local;
}

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

export function localArn(name: string, region = 'us-east-1', account = '000000000000'): string {
  return `arn:aws:lambda:${region}:${account}:function:cutover-local-${name}`;
}

/** Loads an ASL file and substitutes every ${Placeholder} with a local Lambda ARN. */
export function loadDefinition(
  definitionPath: string,
  region = 'us-east-1',
  account = '000000000000',
): { definition: { StartAt: string; States: Record<string, AslState> }; placeholders: string[] } {
  return parseDefinition(readFileSync(definitionPath, 'utf8'), region, account);
}

function parseDefinition(
  text: string,
  region: string,
  account: string,
): { definition: { StartAt: string; States: Record<string, AslState> }; placeholders: string[] } {
  const placeholders = [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
  const definition = JSON.parse(
    text.replace(PLACEHOLDER, (_m, name: string) => localArn(name, region, account)),
  );
  return { definition, placeholders };
}

interface PreparedMachine {
  definition: { StartAt: string; States: Record<string, AslState> };
  machine: StateMachine;
}

/** Machines by region, account and definition text: a changed file is validated again. */
const prepared = new Map<string, PreparedMachine>();
/** Definition texts already validated: another region's copy differs only in the ARNs' region. */
const validated = new Set<string>();

/**
 * Parses and validates a definition once and keeps it. Step Functions validates a definition when the machine
 * is created or updated (CreateStateMachine: "InvalidDefinition"), not at every StartExecution; validating
 * here on every run cost the local StartExecution 0.3 to 1.6 s of CPU (asl-validator compiling its schemas),
 * which the drill counted as control-plane time. Call it before the clock matters (the drill does, at start).
 */
export function prepareStateMachine(
  definitionPath: string,
  region = 'us-east-1',
  account = '000000000000',
): PreparedMachine {
  const text = readFileSync(definitionPath, 'utf8');
  const key = `${region}\n${account}\n${text}`;
  const known = prepared.get(key);
  if (known) return known;
  const { definition } = parseDefinition(text, region, account);
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') localTimeoutPath(name, state);
  }
  const machine = new StateMachine(definition as never, {
    validationOptions: validated.has(text) ? { noValidate: true } : { checkArn: true, checkPaths: true },
  });
  validated.add(text);
  const entry = { definition, machine };
  prepared.set(key, entry);
  return entry;
}

function bindingKey(state: AslState, region: string, account: string): string | null {
  const prefix = localArn('', region, account);
  const arn = state.Resource?.startsWith('arn:aws:states:::lambda:invoke')
    ? state.Parameters?.FunctionName
    : state.Resource;
  return arn?.startsWith(prefix) ? arn.slice(prefix.length) : null;
}

export async function runStateMachine(
  definitionPath: string,
  input: unknown,
  handlers: Record<string, LocalTaskHandler>,
  options: RunOptions = {},
): Promise<RunResult> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const { definition, machine } = prepareStateMachine(definitionPath, region, account);
  const machineName = definitionPath.replace(/^.*\//, '').replace(/\.asl\.json$/, '');

  const taskResourceLocalHandlers: Record<string, LocalTaskHandler> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') {
      const key = bindingKey(state, region, account);
      const handler = key ? handlers[key] : undefined;
      if (!key || !handler) {
        throw new Error(`state ${name} (${state.Resource}) has no local handler${key ? ` for ${key}` : ''}`);
      }
      taskResourceLocalHandlers[name] = handler;
    }
    if (state.Type === 'Wait') {
      const w = options.waitMs;
      if (typeof w === 'number' && !FENCE_WAIT_STATES.includes(name)) waitTimeOverrides[name] = w;
      else if (w && typeof w === 'object' && w[name] !== undefined) waitTimeOverrides[name] = w[name];
    }
    if (state.Retry && options.retryIntervalMs !== undefined)
      retryIntervalOverrides[name] = options.retryIntervalMs;
  }

  const executionName = options.executionName ?? randomUUID();
  const executionArn = `arn:aws:states:${region}:${account}:execution:cutover-${machineName}:${executionName}`;
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: { Id: executionArn, Name: executionName },
      StateMachine: {
        Id: `arn:aws:states:${region}:${account}:stateMachine:cutover-${machineName}`,
        Name: machineName,
      },
      Task: { Token: `local-task-token:${executionName}` },
    },
  });

  const signal = options.signal;
  const onAbort = () => execution.abort();
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  const events: EventLog[] = [];
  const path: string[] = [];
  const drained = (async () => {
    for await (const e of execution.eventLogs) {
      events.push(e);
      if (e.type === 'StateEntered') path.push(e.state.name);
      options.onEvent?.(e);
    }
  })();

  let result: RunResult;
  try {
    const output = await execution.result;
    result = { status: 'SUCCEEDED', executionArn, output, events, path };
  } catch (err) {
    if (err instanceof ExecutionAbortedError) {
      result = { status: 'ABORTED', executionArn, output: null, events, path };
    } else if (err instanceof ExecutionError) {
      result = { status: 'FAILED', executionArn, output: null, events, path };
    } else {
      throw err;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  await drained;
  const failed = events.find((e) => e.type === 'ExecutionFailed');
  if (failed && 'Error' in failed) {
    result.error = { Error: String(failed.Error), Cause: String(failed.Cause) };
  }
  return result;
}
