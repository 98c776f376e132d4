import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ProbeResult } from '#core/vote.js';

export interface ProbeTimeouts {
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

export type HealthProbe = (url: string, timeouts: ProbeTimeouts) => Promise<ProbeResult>;

/**
 * One HTTP health check: a 2xx within the response timeout is healthy; anything else is unhealthy with its
 * reason (timeout, refused, dns, status N). The connect timeout covers DNS + TCP (+ TLS); the response timeout
 * runs from the start and bounds the whole exchange.
 */
export const probeHealth: HealthProbe = (url, timeouts) => {
  const started = performance.now();
  const result = (healthy: boolean, detail: string): ProbeResult => ({
    healthy,
    detail,
    latencyMs: Math.round(performance.now() - started),
    observedAt: Date.now(),
  });
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(responseTimer);
      req.destroy();
      resolve(r);
    };
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      resolve(result(false, `bad url ${url}`));
      return;
    }
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(parsed, {
      method: 'GET',
      headers: { 'user-agent': 'cutover-prober', connection: 'close' },
    });
    const connectTimer = setTimeout(
      () => finish(result(false, `timeout: no connection after ${timeouts.connectTimeoutMs} ms`)),
      timeouts.connectTimeoutMs,
    );
    const responseTimer = setTimeout(
      () => finish(result(false, `timeout: no response after ${timeouts.responseTimeoutMs} ms`)),
      timeouts.responseTimeoutMs,
    );
    req.on('socket', (socket) => {
      const connected = () => clearTimeout(connectTimer);
      if (!socket.connecting) connected();
      else socket.once(parsed.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        finish(
          status >= 200 && status < 300 ? result(true, `ok ${status}`) : result(false, `status ${status}`),
        );
      });
      res.on('error', (err) => finish(result(false, `response error: ${err.message}`)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (code === 'ECONNREFUSED') finish(result(false, 'refused'));
      else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
        finish(result(false, `dns: ${parsed.hostname} not resolved`));
      else if (code === 'ECONNRESET') finish(result(false, 'reset'));
      else finish(result(false, `error: ${code || err.message}`));
    });
    req.end();
  });
};
