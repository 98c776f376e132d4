import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The two read-only routes the guard package mounts (the holder check and the health contract) answer the same way:
 * GET or HEAD only, a JSON body never cached, no body for HEAD.
 */

/** Answers 405 to anything but GET or HEAD; true when it did (the request is handled). */
export function refuseUnlessRead(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET');
  return true;
}

/** Writes `answer` as JSON with Cache-Control: no-store (headers only for HEAD). */
export function sendJsonAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  answer: { statusCode: number; body: unknown },
): void {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.statusCode, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
