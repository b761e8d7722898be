"""Checkout's query shapes, all run inside one transaction."""

from services.shared.db import QueryShape

CART_ITEMS = QueryShape(
    "checkout_cart_items",
    "SELECT product_id, quantity FROM cart_items WHERE cart_id = %(cart_id)s ORDER BY product_id",
)
# Rows are locked in id order so that two checkouts never deadlock on each other.
LOCK_PRODUCTS = QueryShape(
    "checkout_lock_products",
    "SELECT id, name, price, stock_quantity FROM products WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE",
)
# The replenishment check: how many SKUs sit under the reorder threshold after this sale.
# idx_products_stock_quantity makes it a short index range scan; without it, a full scan
# that runs while the ordered rows stay locked.
LOW_STOCK = QueryShape(
    "checkout_low_stock_check",
    "SELECT count(*) AS low_stock_skus FROM products WHERE stock_quantity < %(threshold)s",
    serving_index="idx_products_stock_quantity",
)
DECREMENT = QueryShape(
    "checkout_decrement_stock",
    "UPDATE products AS p SET stock_quantity = p.stock_quantity - u.q "
    "FROM unnest(%(ids)s::bigint[], %(qty)s::int[]) AS u(id, q) WHERE p.id = u.id",
)
INSERT_ORDER = QueryShape(
    "checkout_insert_order",
    "INSERT INTO orders (cart_id, customer_id, total) VALUES (%(cart_id)s, %(customer_id)s, %(total)s) "
    "RETURNING id",
)
INSERT_LINES = QueryShape(
    "checkout_insert_lines",
    "INSERT INTO order_lines (order_id, product_id, quantity, unit_price) "
    "SELECT %(order_id)s, u.id, u.q, u.price "
    "FROM unnest(%(ids)s::bigint[], %(qty)s::int[], %(prices)s::numeric[]) AS u(id, q, price)",
)
DELETE_CART = QueryShape("checkout_delete_cart", "DELETE FROM carts WHERE id = %(cart_id)s")
