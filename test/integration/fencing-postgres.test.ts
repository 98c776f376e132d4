import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPrimary, type PostgresServer } from '../../infra/local/postgres.js';
import { onFreePort } from '../support/ports.js';

// examples/fencing/postgres-fence.sql on a real PostgreSQL 15.
describe('fencing tokens in PostgreSQL (examples/fencing/postgres-fence.sql)', () => {
  let dir: string;
  let db: PostgresServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-fence-'));
    db = await onFreePort((port) => initPrimary({ dir: join(dir, `pg-${port}`), port, name: 'fence' }));
    await db.query(
      await readFile(new URL('../../examples/fencing/postgres-fence.sql', import.meta.url), 'utf8'),
    );
  });
  afterAll(async () => {
    await db?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const upsert = (id: string, total: number, epoch: number | null) =>
    db.query(
      `INSERT INTO orders (id, total, epoch) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total, epoch = EXCLUDED.epoch`,
      [id, total, epoch],
    );

  it('refuses a write under a lower epoch once a higher one was seen, on any row', async () => {
    await upsert('o-1', 10, 1);
    await upsert('o-1', 11, 1);
    await upsert('o-2', 20, 3); // the new primary's first write
    await expect(upsert('o-1', 99, 1)).rejects.toThrow(/epoch 1 refused, epoch 3 has been seen/);
    await expect(upsert('o-9', 99, 1)).rejects.toMatchObject({ code: '40001' });
    await expect(upsert('o-3', 1, null)).rejects.toThrow(/without a lease epoch/);
    await upsert('o-1', 12, 3);
    const rows = await db.query<{ id: string; total: string; epoch: string }>(
      'SELECT id, total, epoch FROM orders ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 'o-1', total: '12', epoch: '3' },
      { id: 'o-2', total: '20', epoch: '3' },
    ]);
    expect(await db.query('SELECT epoch FROM cutover_fence')).toEqual([{ epoch: '3' }]);
  });
});
