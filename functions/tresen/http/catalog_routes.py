"""The catalog and its stock, as staff keep them: listed with the stock, a product put or hidden, its stock adjusted —
routes and their models. Customers see the result on the menu (http/api.py `get_menu`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from werkzeug.wrappers import Response

from ..domain.catalog import Product, ProductOption
from ..domain.stock import ADJUST_REASONS, sold_out
from ..services import catalog, stock
from ..services.catalog import HideProduct, PutProduct, SavedProduct
from ..services.stock import AdjustStock, StockLevel
from . import models as m
from .router import STAFF_ROLES, UNKNOWN, Call, route, staff

UNKNOWN.update(product="product_not_found")
DENIED = ("unauthenticated", "forbidden")
SUPERVISORS = staff("owner", "supervisor")
STAFF = staff("owner", "supervisor", "staff")
READERS = staff(*STAFF_ROLES)
StrictBool = Annotated[bool, Field(strict=True)]
Units = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]


class OptionIn(m.Inbound):
    id: m.Id
    name: m.ShortText
    price: m.Cents = Field(description="what it adds to the product's price (gross)")


class ProductIn(m.Inbound):
    name: m.ShortText
    price: m.Cents = Field(description="gross, options not included")
    vat_rate: Literal["7", "19"] | None = Field(description="7 or 19 for an item; null for a gift card")
    kind: Literal["item", "giftcard"]
    category: m.ShortText | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None = None
    options: list[OptionIn] = Field(default_factory=list, max_length=50)
    available: StrictBool = Field(True, description="false: sold out by hand (the menu shows it unavailable)")
    stock_tracked: StrictBool = Field(False, description="sales take its stock; at 0 it cannot be ordered")
    low_stock_at: Units | None = Field(None, description="its stock at or below this is low (`stock.low`)")


class CatalogProductOut(m.ProductOut):
    """The product as the menu shows it (`available` false at 0 when tracked), and what only staff see."""

    stock: int = Field(description="its count now (0 until it is counted); only a tracked product is sold from it")
    stock_tracked: bool
    low_stock_at: int | None
    category: str | None
    description: str | None


class StockIn(m.Inbound):
    model_config = ConfigDict(extra="ignore", defer_build=True, json_schema_extra=m.one_of("adjust", "set"))

    adjust: Annotated[int, Field(strict=True, ge=-1_000_000, le=1_000_000)] | None = Field(
        None, description="units added (negative: taken away), not 0"
    )
    set_to: Units | None = Field(None, alias="set", description="the stock as counted")
    reason: Literal[ADJUST_REASONS]

    @model_validator(mode="after")
    def _adjust_or_set(self) -> StockIn:
        if (self.adjust is None) == (self.set_to is None):
            raise ValueError("send either adjust or set")
        if self.adjust == 0:
            raise ValueError("adjust by at least one unit")
        return self


class StockOut(m.Model):
    product_id: str
    stock: int
    low_stock_at: int | None


class CatalogEntryOut(CatalogProductOut):
    sold_out_by_hand: bool = Field(description="put with `available` false: off the menu whatever its stock")


class CatalogOut(m.Model):
    data: list[CatalogEntryOut] = Field(description="the products on the menu, in its order (hidden ones are not)")


@dataclass(frozen=True)
class Saved:
    product: SavedProduct
    http_status: int  # 201 for a new product, 200 for one changed (or put as it was)


def product_out(saved: Saved) -> CatalogProductOut:
    return CatalogProductOut(**catalog_fields(saved.product.product, saved.product.stock))


def catalog_fields(product: Product, count: int) -> dict:
    """The fields of `CatalogProductOut`: `available` as the menu shows it, with the count given."""
    return dict(
        id=product.id,
        name=product.name,
        price=product.price,
        vat_rate=product.vat_rate,
        available=product.available and not sold_out(product, count),
        kind=product.kind,
        options=[m.OptionOut.model_validate(option) for option in product.options],
        stock=count,
        stock_tracked=product.stock_tracked,
        low_stock_at=product.low_stock_at,
        category=product.category,
        description=product.description,
    )


def stock_out(level: StockLevel) -> StockOut:
    return StockOut(product_id=level.product_id, stock=level.stock, low_stock_at=level.low_stock_at)


@route(
    "GET",
    "/v1/stores/{store}/products",
    summary="The catalog as staff keep it: each product on the menu as put, with its stock",
    tag="staff",
    access=READERS,
    response=CatalogOut,
    errors=(*DENIED, "store_not_found"),
)
def list_products(call: Call) -> CatalogOut:
    entries = catalog.catalog_with_stock(call.uow, call.params["store"])
    return CatalogOut(
        data=[
            CatalogEntryOut(**catalog_fields(entry.product, entry.stock), sold_out_by_hand=not entry.product.available)
            for entry in entries
        ]
    )


@route(
    "PUT",
    "/v1/stores/{store}/products/{product}",
    summary="Create or change a product of the catalog (journaled with its whole state)",
    tag="staff",
    access=SUPERVISORS,
    body=ProductIn,
    response=CatalogProductOut,
    present=product_out,
    also=((201, CatalogProductOut),),
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def put_product(call: Call) -> Saved:
    body: ProductIn = call.body
    asked = Product(
        id=call.params["product"],
        name=body.name,
        price=body.price,
        vat_rate=body.vat_rate,
        available=body.available,
        kind=body.kind,
        options=tuple(ProductOption(option.id, option.name, option.price) for option in body.options),
        category=body.category,
        description=body.description,
        stock_tracked=body.stock_tracked,
        low_stock_at=body.low_stock_at,
    )
    saved = catalog.put_product(PutProduct(call.params["store"], asked, call.caller.actor()), call.uow)
    return Saved(saved, 201 if saved.created else 200)


@route(
    "DELETE",
    "/v1/stores/{store}/products/{product}",
    summary="Take a product off the menu; the orders naming it keep their lines",
    tag="staff",
    access=SUPERVISORS,
    status=204,
    errors=(*DENIED, "store_not_found", "product_not_found"),
)
def hide_product(call: Call) -> Response:
    catalog.hide_product(HideProduct(call.params["store"], call.params["product"], call.caller.actor()), call.uow)
    return Response(status=204)


@route(
    "POST",
    "/v1/stores/{store}/products/{product}/stock",
    summary="Adjust a product's stock by some units, or set it to a count (journaled with the reason)",
    tag="staff",
    access=STAFF,
    body=StockIn,
    response=StockOut,
    present=stock_out,
    errors=(*DENIED, "store_not_found", "product_not_found", "insufficient_stock", "validation_failed"),
)
def adjust_stock(call: Call) -> StockLevel:
    body: StockIn = call.body
    command = AdjustStock(
        call.params["store"], call.params["product"], body.adjust, body.set_to, body.reason, call.caller.actor()
    )
    return stock.adjust_stock(command, call.uow)
