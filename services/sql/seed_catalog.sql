-- Set-based catalog generator: one INSERT ... SELECT over generate_series, no row-by-row work.
-- Parameters (psql variables or the Python seeder's bind values):
--   %(first)s       the first id to generate (1; more to grow a catalog already seeded)
--   %(products)s    the last id: the catalog's size
--   %(doorbusters)s number of hot doorbuster products (the lowest ids)
-- Deterministic: the same N always yields the same catalog, so calibrations are comparable,
-- and row i is the same whatever N is, so ids first..N grow a catalog of first - 1 rows to N.
INSERT INTO products (id, name, category, price, stock_quantity, stock_received,
                      reorder_point, is_doorbuster, description)
SELECT
    g.i,
    initcap(d.dept) || ' item ' || g.i,
    d.dept || '/' || 'sub' || lpad(mod(g.i / 20, 10)::text, 2, '0'),
    CASE WHEN g.i <= %(doorbusters)s THEN 199.99
         ELSE round((5 + mod(g.i * 7919, 99500) / 100.0)::numeric, 2) END,
    s.stock,
    s.stock,
    5,
    g.i <= %(doorbusters)s,
    'Black Friday catalog entry ' || g.i || ': ' || repeat(d.dept || ' ', 6)
FROM generate_series(%(first)s::bigint, %(products)s::bigint) AS g(i)
CROSS JOIN LATERAL (
    SELECT (ARRAY['electronics', 'toys', 'kitchen', 'garden', 'sports', 'books', 'fashion',
                  'beauty', 'office', 'automotive', 'music', 'games', 'pets', 'baby',
                  'tools', 'health', 'grocery', 'furniture', 'lighting', 'travel'])[1 + mod(g.i, 20)]
) AS d(dept)
CROSS JOIN LATERAL (
    -- Doorbusters hold a big but finite stock; one product in 400 sits under its reorder point.
    SELECT CASE WHEN g.i <= %(doorbusters)s THEN 100000
                WHEN mod(g.i, 400) = 0 THEN mod(g.i / 400, 5)
                ELSE 20 + mod(g.i * 31, 980) END
) AS s(stock);
