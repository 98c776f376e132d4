-- Fencing tokens in PostgreSQL: every write carries the lease epoch it was made under (the `epoch` that
-- Cutover's LeaseGuard.check() returns), and the database refuses a write whose epoch is lower than the
-- highest epoch it has seen for the application. A delayed write of a fenced-off primary therefore cannot
-- land after the new primary has written.

CREATE TABLE IF NOT EXISTS cutover_fence (
  application text PRIMARY KEY,
  epoch       bigint NOT NULL
);

-- Raise-or-refuse in one statement. The upsert takes the fence row's lock until the transaction ends, so
-- writers of different epochs are serialised on it: once a transaction with epoch e has committed, no
-- transaction with an epoch below e can commit a guarded write.
CREATE OR REPLACE FUNCTION cutover_check_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  seen bigint;
BEGIN
  IF NEW.epoch IS NULL THEN
    RAISE EXCEPTION 'cutover: write to % without a lease epoch', TG_TABLE_NAME USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO cutover_fence AS f (application, epoch) VALUES (TG_ARGV[0], NEW.epoch)
  ON CONFLICT (application) DO UPDATE SET epoch = GREATEST(f.epoch, EXCLUDED.epoch)
  RETURNING f.epoch INTO seen;
  IF NEW.epoch < seen THEN
    RAISE EXCEPTION 'cutover: write at epoch % refused, epoch % has been seen', NEW.epoch, seen
      USING ERRCODE = 'serialization_failure', HINT = 'this region no longer holds the lease';
  END IF;
  RETURN NEW;
END $$;

-- An application table: each row records the epoch it was written under.
CREATE TABLE IF NOT EXISTS orders (
  id    text PRIMARY KEY,
  total numeric NOT NULL,
  epoch bigint NOT NULL
);

DROP TRIGGER IF EXISTS orders_fence ON orders;
CREATE TRIGGER orders_fence BEFORE INSERT OR UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION cutover_check_epoch('orders');

-- The application's write, with $3 = guard.check().epoch:
--   INSERT INTO orders (id, total, epoch) VALUES ($1, $2, $3)
--   ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total, epoch = EXCLUDED.epoch;
-- A refused write fails with SQLSTATE 40001 and the hint above; the application answers 503, like the guard.
