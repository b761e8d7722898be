-- Restore the indexes without blocking writes (CONCURRENTLY), so the shop keeps selling.
-- An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index behind that IF NOT EXISTS
-- would happily keep: drop such leftovers first. Idempotent; must run outside a transaction.
-- A killed psql leaves its server session building on: end such orphans first, or the drop
-- below races their final catalog update ("tuple concurrently updated").
DO $$
DECLARE leftover text;
BEGIN
    PERFORM pg_terminate_backend(p.pid, 30000)
    FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.index_relid
    WHERE p.pid <> pg_backend_pid()
      AND c.relname IN ('idx_products_category', 'idx_products_stock_quantity');
    FOR leftover IN
        SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE NOT i.indisvalid
          AND c.relname IN ('idx_products_category', 'idx_products_stock_quantity')
    LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', leftover);
    END LOOP;
END $$;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_products_category ON products (category, price);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_products_stock_quantity ON products (stock_quantity);
