-- Black Friday misconfiguration: the catalog and stock indexes are gone.
-- Idempotent: running it twice is harmless. A DBA sees the result with \d products.
DROP INDEX IF EXISTS idx_products_category;
DROP INDEX IF EXISTS idx_products_stock_quantity;
