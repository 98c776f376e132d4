import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type HealthDocument, healthDocumentSchema } from '#core/health.js';

export type DeepHealthAnswer = { ok: true; document: HealthDocument } | { ok: false; detail: string };

export type DeepHealthProbe = (url: string, timeoutMs: number) => Promise<DeepHealthAnswer>;

/** Bigger than any valid document (8 checks of 200-character details); anything larger is not one. */
const MAX_BODY_BYTES = 16_384;

/**
 * Reads the application's health contract (`GET /cutover/health`): its JSON document whatever the status code (a
 * 503 carries the failed checks too), within `timeoutMs` for the whole exchange. Like the plain probe, one fresh
 * connection per probe (`connection: close`): a kept-alive socket would measure the pool, not the region. Anything
 * that is not a valid, bounded document is an answer that never came, with its reason.
 */
export const fetchHealthDocument: DeepHealthProbe = (url, timeoutMs) =>
  new Promise<DeepHealthAnswer>((resolve) => {
    let settled = false;
    const finish = (answer: DeepHealthAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      resolve({ ok: false, detail: `bad url ${url}` });
      return;
    }
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(parsed, {
      method: 'GET',
      headers: { 'user-agent': 'cutover-prober', accept: 'application/json', connection: 'close' },
    });
    const timer = setTimeout(() => finish({ ok: false, detail: `timeout after ${timeoutMs} ms` }), timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES)
          finish({ ok: false, detail: `status ${res.statusCode}: oversized answer` });
        else chunks.push(chunk);
      });
      res.on('end', () => finish(documentOf(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (err) => finish({ ok: false, detail: `health document unreachable: ${err.message}` }));
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: `health document unreachable: ${err.code ?? err.message}` }),
    );
    req.end();
  });

function documentOf(status: number, text: string): DeepHealthAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, detail: `status ${status}: not a health document (not JSON)` };
  }
  const parsed = healthDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      detail: `status ${status}: not a health document (${first?.path.join('.') || '(root)'}: ${first?.message})`,
    };
  }
  return { ok: true, document: parsed.data };
}
