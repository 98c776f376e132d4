/**
 * The promise's answer, or `fallback` once `ms` have passed; a rejection goes to the caller. For calls into a
 * region that may be down, whose answer must not hold a step until its Task times out.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
