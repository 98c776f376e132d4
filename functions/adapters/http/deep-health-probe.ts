import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { healthDocumentSchema, type ReadHealthDocument } from '#core/health.js';

export type DeepHealthAnswer = { ok: true; document: ReadHealthDocument } | { ok: false; detail: string };

/**
 * `timeoutMs` bounds the answer from the moment the connection is made (TCP, and TLS for https);
 * `connectTimeoutMs` (default `timeoutMs`) bounds DNS, TCP and TLS before it.
 */
export type DeepHealthProbe = (
  url: string,
  timeoutMs: number,
  connectTimeoutMs?: number,
) => Promise<DeepHealthAnswer>;

/**
 * Room for a generous document (details longer than 200 characters are cut, not refused); anything larger is
 * not one.
 */
const MAX_BODY_BYTES = 65_536;

/**
 * Reads the application's health contract (`GET /cutover/health`): its JSON document whatever the status code (a
 * 503 carries the failed checks too). The answer's timeout starts when the connection is made, so that DNS, TCP
 * and TLS do not eat into the checks' own time (the configuration allows each check up to `timeoutMs` − 100 ms);
 * connecting has its own timeout. Like the plain probe, one fresh connection per probe (`connection: close`): a
 * kept-alive socket would measure the pool, not the region. Anything that is not a readable, bounded document is
 * an answer that never came, with its reason (the watcher records its checks as unknown).
 */
export const fetchHealthDocument: DeepHealthProbe = (url, timeoutMs, connectTimeoutMs = timeoutMs) =>
  new Promise<DeepHealthAnswer>((resolve) => {
    let settled = false;
    const finish = (answer: DeepHealthAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
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
    let answerTimer: NodeJS.Timeout | undefined;
    const connectTimer = setTimeout(
      () => finish({ ok: false, detail: `timeout: no connection after ${connectTimeoutMs} ms` }),
      connectTimeoutMs,
    );
    const connected = () => {
      if (settled || answerTimer) return;
      clearTimeout(connectTimer);
      answerTimer = setTimeout(
        () => finish({ ok: false, detail: `timeout after ${timeoutMs} ms` }),
        timeoutMs,
      );
    };
    req.on('socket', (socket) => {
      if (!socket.connecting) connected();
      else socket.once(parsed.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
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
