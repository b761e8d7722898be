"""The catalog's query shapes. The listing is the seed's query: category plus price range."""

from services.shared.db import QueryShape

LIST_PRODUCTS = QueryShape(
    name="catalog_listing",
    sql=(
        "SELECT id, name, category, price, stock_quantity, is_doorbuster FROM products "
        "WHERE category = %(category)s AND price BETWEEN %(price_min)s AND %(price_max)s "
        "ORDER BY price LIMIT %(limit)s"
    ),
    serving_index="idx_products_category",
)

GET_PRODUCT = QueryShape(
    name="product_by_id",
    sql=(
        "SELECT id, name, category, price, stock_quantity, is_doorbuster, description "
        "FROM products WHERE id = %(id)s"
    ),
)

DOORBUSTERS = QueryShape(
    name="doorbusters",
    sql=(
        "SELECT id, name, category, price, stock_quantity, is_doorbuster FROM products "
        "WHERE is_doorbuster ORDER BY id"
    ),
    serving_index="idx_products_doorbuster",
)

CATEGORIES = QueryShape(
    name="categories",
    sql="SELECT DISTINCT category FROM products ORDER BY category",
)
