import { type HealthDocument, healthDocumentSchema } from '#core/health.js';

export type DeepHealthAnswer = { ok: true; document: HealthDocument } | { ok: false; detail: string };

export type DeepHealthProbe = (url: string, timeoutMs: number) => Promise<DeepHealthAnswer>;

/** Bigger than any valid document (8 checks of 200-character details); anything larger is not one. */
const MAX_BODY_BYTES = 16_384;

/**
 * Reads the application's health contract (`GET /cutover/health`): its JSON document whatever the status code (a
 * 503 carries the failed checks too), within `timeoutMs` for the whole exchange. Anything that is not a valid,
 * bounded document is an answer that never came, with its reason.
 */
export const fetchHealthDocument: DeepHealthProbe = async (url, timeoutMs) => {
  try {
    const res = await fetch(url, {
      method: 'GET',
      headers: { 'user-agent': 'cutover-prober', accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (text.length > MAX_BODY_BYTES) return { ok: false, detail: `status ${res.status}: oversized answer` };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, detail: `status ${res.status}: not a health document (not JSON)` };
    }
    const parsed = healthDocumentSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      return {
        ok: false,
        detail: `status ${res.status}: not a health document (${first?.path.join('.') || '(root)'}: ${first?.message})`,
      };
    }
    return { ok: true, document: parsed.data };
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return { ok: false, detail: `timeout after ${timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      detail: `health document unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    };
  }
};
