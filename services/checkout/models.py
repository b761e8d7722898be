"""Checkout request and response bodies."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator


class Line(BaseModel):
    product_id: int = Field(ge=1, le=2**63 - 1)
    quantity: int = Field(ge=1, le=100)


class CheckoutRequest(BaseModel):
    customer_id: str = Field(min_length=1, max_length=100)
    cart_id: UUID | None = None
    items: list[Line] | None = Field(default=None, min_length=1, max_length=50)
    # The total the shopper saw; used to account lost revenue when the database is never reached.
    expected_total: Decimal | None = Field(default=None, ge=0, le=10_000_000, decimal_places=2)

    @model_validator(mode="after")
    def one_source(self) -> CheckoutRequest:
        if (self.cart_id is None) == (self.items is None):
            raise ValueError("give either cart_id or items, not both and not neither")
        if self.items is not None:
            ids = [line.product_id for line in self.items]
            if len(set(ids)) != len(ids):
                raise ValueError("each product may appear only once in items")
        return self


class OrderLine(BaseModel):
    product_id: int
    name: str
    quantity: int
    unit_price: Decimal


class Order(BaseModel):
    order_id: int
    customer_id: str
    total: Decimal
    lines: list[OrderLine]
    low_stock_skus: int
