import type { HolderCheckReader } from '#core/failover-ports.js';
import type { HolderReading } from '#core/holder.js';

/**
 * Reads each region's holder check over HTTP(S) with one bounded request (AbortSignal.timeout aborts the
 * socket, so the timeout is real). Never throws: unreachable is a reading with status null.
 */
export class HttpHolderCheckReader implements HolderCheckReader {
  constructor(
    private readonly urls: Record<string, string>,
    private readonly timeoutMs: number,
  ) {}

  async read(region: string): Promise<HolderReading> {
    const url = this.urls[region];
    if (!url) return { region, status: null, body: null, detail: `no holder-check URL for ${region}` };
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { 'user-agent': 'cutover-holder-reader' },
        cache: 'no-store',
      });
      const text = await res.text();
      const body = parseBody(text);
      return {
        region,
        status: res.status,
        body,
        detail: `status ${res.status}${body ? ` holder ${body.holder ?? 'none'} epoch ${body.epoch ?? '-'}` : ' (not a holder-check body)'}`,
      };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return {
        region,
        status: null,
        body: null,
        detail: timedOut ? `timeout: no answer after ${this.timeoutMs} ms` : `unreachable: ${describe(err)}`,
      };
    }
  }
}

function parseBody(text: string): HolderReading['body'] {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.holding !== 'boolean') return null;
    return {
      holding: v.holding,
      holder: typeof v.holder === 'string' ? v.holder : null,
      epoch: typeof v.epoch === 'number' ? v.epoch : null,
    };
  } catch {
    return null;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}
