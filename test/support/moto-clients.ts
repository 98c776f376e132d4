import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
import { inject } from 'vitest';

/** Dummy credentials: moto accepts any, and nothing here may reach AWS. */
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

interface ClientConfig {
  region: string;
  endpoint: string;
  credentials: typeof credentials;
  maxAttempts: number;
}

/**
 * A real SDK client pointed at the tier's moto_server. One attempt: a retry would only hide an answer that
 * moto gave (and slow the tier down when moto answers 500 for an API it does not serve).
 */
export function motoClient<C>(Ctor: new (config: ClientConfig) => C, region: string): C {
  return new Ctor({ region, endpoint: inject('motoEndpoint'), credentials, maxAttempts: 1 });
}

// biome-ignore lint/suspicious/noExplicitAny: any SDK client's stack; the hooks below see plain objects
type Stack = MiddlewareStack<any, any>;

/** The names of the commands a client sends, in order (e.g. PromoteReadReplicaCommand), added to `sent`. */
export function recordCommands(client: { middlewareStack: Stack }, sent: string[] = []): string[] {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return sent;
}

/**
 * Edits what moto answered to `commandName` before the adapter sees it, for a state that AWS reports and moto
 * does not model (an instance "modifying", a global cluster's FailoverState). Everything else stays moto's.
 */
export function overlayOutput<O extends MetadataBearer>(
  client: { middlewareStack: Stack },
  commandName: string,
  edit: (output: O) => O,
): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const res = await next(args);
      if (context.commandName !== commandName) return res;
      return { ...res, output: edit(res.output as O) };
    },
    { step: 'initialize', name: `overlay-${commandName}`, priority: 'low' },
  );
}

/**
 * Answers `commandName` with AWS's error instead of sending it, `times` times, for an error that moto does not
 * return (moto does not serve the API, or accepts what AWS refuses). `before` runs first, e.g. the concurrent
 * call that the error is the consequence of, against moto.
 */
export function refuseWith(
  client: { middlewareStack: Stack },
  commandName: string,
  error: { name: string; message: string },
  opts: { times?: number; before?: () => Promise<void> } = {},
): void {
  let left = opts.times ?? 1;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== commandName || left <= 0) return next(args);
      left--;
      await opts.before?.();
      throw Object.assign(new Error(error.message), {
        name: error.name,
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    },
    { step: 'initialize', name: `refuse-${commandName}`, priority: 'low' },
  );
}

/** A unique name for a resource, so that test files can share one moto_server. */
export const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * One call of a query-protocol API (SQS, IAM) that this project has no SDK client for, to set up or inspect
 * what an adapter's API reaches. moto picks the service from the credential scope and checks no signature.
 */
export async function motoQuery(
  service: string,
  region: string,
  params: Record<string, string>,
): Promise<string> {
  const res = await fetch(inject('motoEndpoint'), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${service} ${params.Action} failed: ${res.status} ${text.slice(0, 500)}`);
  return text;
}

/** The text of the first `<tag>…</tag>` in a query-protocol answer, XML entities decoded. */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1];
  return m
    ?.replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
