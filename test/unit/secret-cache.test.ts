import { describe, expect, it } from 'vitest';
import { CachedSecret } from '#commons/slack-secrets.js';
import { FakeClock } from '../support/fake-clock.js';

function source(values: (string | Error)[]) {
  const clock = new FakeClock();
  let reads = 0;
  const secret = new CachedSecret(
    async () => {
      const v = values[Math.min(reads++, values.length - 1)]!;
      if (v instanceof Error) throw v;
      return v;
    },
    clock,
    { maxAgeMs: 300_000, minRefreshGapMs: 30_000 },
  );
  return { secret, clock, reads: () => reads };
}

describe('CachedSecret', () => {
  it('keeps a value for maxAge, then reads the rotated one', async () => {
    const s = source(['old', 'new']);
    expect(await s.secret.current()).toBe('old');
    s.clock.advance(299_999);
    expect(await s.secret.current()).toBe('old');
    expect(s.reads()).toBe(1);
    s.clock.advance(1);
    expect(await s.secret.current()).toBe('new');
    expect(s.reads()).toBe(2);
  });

  it('keeps the last value when a re-read fails, and does not keep a failure', async () => {
    const s = source(['old', new Error('throttled'), 'new']);
    expect(await s.secret.current()).toBe('old');
    s.clock.advance(300_000);
    expect(await s.secret.current()).toBe('old');
    expect(await s.secret.current()).toBe('new');
  });

  it('fails when the first read fails, and tries again on the next call', async () => {
    const s = source([new Error('no such secret'), 'v']);
    await expect(s.secret.current()).rejects.toThrow('no such secret');
    expect(await s.secret.current()).toBe('v');
  });

  it('shares one read between concurrent callers', async () => {
    const s = source(['v']);
    expect(await Promise.all([s.secret.current(), s.secret.current(), s.secret.current()])).toEqual([
      'v',
      'v',
      'v',
    ]);
    expect(s.reads()).toBe(1);
  });

  it('refreshes at most once per window, and says null when nothing changed', async () => {
    const s = source(['old', 'old', 'new']);
    await s.secret.current();
    expect(await s.secret.refreshed()).toBeNull();
    expect(await s.secret.refreshed()).toBeNull();
    expect(s.reads()).toBe(2);
    s.clock.advance(30_000);
    expect(await s.secret.refreshed()).toBe('new');
    expect(await s.secret.current()).toBe('new');
    expect(s.reads()).toBe(3);
  });
});
