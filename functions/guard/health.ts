import type { IncomingMessage, ServerResponse } from 'node:http';
import middy from '@middy/core';
import {
  type CheckResult,
  type CheckSpec,
  DEEP_HEALTH_PATH,
  evaluateHealth,
  type HealthDocument,
} from '#core/health.js';
import { refuseUnlessRead, sendJsonAnswer } from './http-answer.js';

export { DEEP_HEALTH_PATH };

/** What one deep check finds; it must give up when `signal` aborts (its timeout), and may throw instead of failing. */
export type DeepCheck = (signal: AbortSignal) => Promise<{ ok: boolean; detail: string }>;

export interface HealthContractOptions {
  /** The configured checks (the configuration's `health.checks`): name, weight and timeout of each. */
  checks: readonly CheckSpec[];
  /** The application's implementation of every configured check, by name (see health-checks.ts). */
  run: Readonly<Record<string, DeepCheck>>;
  /** Milliseconds on a monotonic clock, for each check's `ms`. */
  now?: () => number;
}

export interface HealthAnswer {
  statusCode: 200 | 503;
  body: HealthDocument;
}

/** Why a check gave up: the AbortSignal's reason, so a check can tell its timeout from other aborts. */
export class DeepCheckTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`timeout after ${timeoutMs} ms`);
    this.name = 'DeepCheckTimeoutError';
  }
}

/**
 * The health contract's runner (issue 15, docs/health.md): every configured check at once, each under its own
 * timeout, so the answer comes within the slowest timeout whatever a check does. A check that ignores its abort
 * signal is answered as a timeout all the same and left to finish on its own; a check that throws is a failed check
 * with the error's message. Concurrent requests share one run.
 */
export function healthContract(options: HealthContractOptions): () => Promise<HealthAnswer> {
  const problems: string[] = [];
  if (!Array.isArray(options?.checks) || options.checks.length === 0) {
    problems.push('options.checks: needs the configured checks (health.checks)');
  }
  const run = options?.run ?? {};
  for (const c of options?.checks ?? []) {
    if (typeof run[c.name] !== 'function')
      problems.push(`options.run.${c.name}: no implementation for the configured check ${c.name}`);
  }
  for (const name of Object.keys(run)) {
    if (!options.checks?.some((c) => c.name === name))
      problems.push(
        `options.run.${name}: not a configured check (configured: ${(options.checks ?? []).map((c) => c.name).join(', ')})`,
      );
  }
  if (problems.length) throw new TypeError(`healthContract: ${problems.join('; ')}`);
  const now = options.now ?? (() => performance.now());
  const { checks } = options;
  // Requests that arrive while a run is in flight share it: every watcher probes each region at once, and the
  // application writes one test row per round rather than one per watcher (which would also queue the writes on
  // the test row's lock behind each other, past their timeouts).
  let inFlight: Promise<HealthAnswer> | null = null;
  const once = async () => {
    const results = await Promise.all(checks.map((spec) => runCheck(spec, run[spec.name]!, now)));
    return evaluateHealth(results, checks);
  };
  return () => {
    inFlight ??= once().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

async function runCheck(spec: CheckSpec, check: DeepCheck, now: () => number): Promise<CheckResult> {
  const started = now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<{ ok: boolean; detail: string }>((resolve) => {
    timer = setTimeout(() => {
      const reason = new DeepCheckTimeoutError(spec.timeoutMs);
      controller.abort(reason);
      resolve({ ok: false, detail: reason.message });
    }, spec.timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      Promise.resolve()
        .then(() => check(controller.signal))
        .catch((err: unknown) =>
          controller.signal.aborted
            ? { ok: false, detail: `timeout after ${spec.timeoutMs} ms` }
            : { ok: false, detail: `error: ${err instanceof Error ? err.message : String(err)}` },
        ),
      timedOut,
    ]);
    return {
      name: spec.name,
      ok: outcome.ok === true,
      ms: Math.round(now() - started),
      detail: outcome.detail,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A node:http (and Express/Connect-style) listener for `GET /cutover/health` (or the configured path). It returns
 * false for any other path so the application's own router can go on; it never caches.
 */
export function serveHealthContract(
  contract: () => Promise<HealthAnswer>,
  path: string = DEEP_HEALTH_PATH,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if ((req.url ?? '').split('?')[0] !== path) return false;
    if (refuseUnlessRead(req, res)) return true;
    void contract().then((answer) => {
      if (!res.destroyed) sendJsonAnswer(req, res, answer);
    });
    return true;
  };
}

/** The answer as a Lambda function URL or API Gateway (payload 2.0) response. */
export interface HealthHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The health contract as a Lambda handler with middy, for applications that are Lambda functions: mount it on the
 * health route of the function URL or API. Add the application's own middlewares with `.use()`.
 */
export function healthContractHandler(options: HealthContractOptions) {
  const contract = healthContract(options);
  return middy<unknown, HealthHttpResponse>().handler(async () => {
    const answer = await contract();
    return {
      statusCode: answer.statusCode,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(answer.body),
    };
  });
}
