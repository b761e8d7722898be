-- Black Friday misconfiguration: the catalog and stock indexes are gone.
-- Idempotent: running it twice is harmless. A DBA sees the result with \d products.
-- DROP INDEX waits for every transaction reading the table, and every query after it waits
-- behind it: give up after 5 s rather than stall the shop (a failed break changes nothing).
SET lock_timeout = '5s';
DROP INDEX IF EXISTS idx_products_category;
DROP INDEX IF EXISTS idx_products_stock_quantity;
