"""From a traffic stage and the measured capacity to what each journey does.

The traffic states load factors (offered load over measured capacity); the capacity is the
calibration's, or what the load generator measures live while the resource is saturated (a
calibration scaled to it); this module turns the two into per-journey step counts. So the
failure fraction settles where the scenario says because offered load really exceeds
capacity by that ratio."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scenarios.calibration import Calibration
from scenarios.model import Stage


@dataclass(frozen=True)
class Intensity:
    catalog_pages: float          # listing pages a browsing shopper views per journey
    doorbuster_checkouts: float   # doorbuster orders a full_checkout journey places (0: a normal order)


QUIET = Intensity(catalog_pages=1.0, doorbuster_checkouts=0.0)


def intensity(stage: Stage, rpm: float, calibration: Calibration | None) -> Intensity:
    """Per-journey steps for a stage at `rpm` journeys per minute."""
    if calibration is None or rpm <= 0:
        return QUIET
    journeys_per_s = rpm / 60.0
    pages = QUIET.catalog_pages
    if stage.catalog_overload is not None:
        # Every journey starts by browsing, so catalog load is spread over all journeys.
        pages = max(1.0, stage.catalog_overload * calibration.catalog_capacity_qps / journeys_per_s)
    orders = 0.0
    checkout_share = stage.mix.full_checkout
    if stage.checkout_overload is not None and checkout_share > 0:
        orders = stage.checkout_overload * calibration.lock_throughput_per_s / (journeys_per_s * checkout_share)
    return Intensity(catalog_pages=pages, doorbuster_checkouts=orders)


def opening_listings(stage: Stage, calibration: Calibration | None) -> float:
    """Listings that arrive together as `stage` opens (its opening burst), all replicas together."""
    if stage.opening_burst is None or calibration is None:
        return 0.0
    return stage.opening_burst * calibration.catalog_capacity_qps


def deal_watchers(stage: Stage, calibration: Calibration | None, pool_size: int) -> int:
    """How many shoppers watch the deals page through `stage`, all replicas together."""
    if stage.deal_watchers is None or calibration is None:
        return 0
    return pool_size + math.ceil(stage.deal_watchers * calibration.catalog_capacity_qps)


def cart_checkouts_per_s(stage: Stage, rpm: float) -> float:
    """Orders per second a stage's shoppers place from their carts at `rpm` journeys per
    minute. Each runs the checkout's low-stock check, a full scan while the indexes are gone,
    so they take from the catalog's capacity; in a rush the full carts hold doorbusters instead."""
    if stage.checkout_overload is not None:
        return 0.0
    return max(0.0, rpm) / 60.0 * stage.mix.full_checkout


def go_live_burst(stage: Stage, calibration: Calibration | None, pool_size: int, pool_timeout_s: float,
                  minute_seconds: float) -> float:
    """How many shoppers wait with the doorbuster in their cart for `stage` to open.

    The pool is exhausted once its connections and the requests its timeout lets wait are all
    queued behind the hot row. The rush's own excess, (overload - 1) x lock throughput per real
    second, builds that queue within one real-time demo minute, but not within a compressed
    one; the waiting shoppers supply what the demo minute cannot build, so the pool fills by
    the end of the stage's first minute at any minute length, and no earlier (measured at
    60-second minutes: a full burst on top of the excess exhausted the pool in seconds, and the
    two-minute alert fired in the rush's first minute)."""
    if stage.go_live_burst is None or calibration is None:
        return 0.0
    throughput = calibration.lock_throughput_per_s
    built = max(0.0, (stage.checkout_overload or 1.0) - 1.0) * throughput * minute_seconds
    return stage.go_live_burst * max(0.0, absorbed(pool_size, pool_timeout_s, throughput) - built)


def absorbed(pool_size: int, pool_timeout_s: float, throughput_per_s: float) -> float:
    """Requests a pool holds before it refuses: its connections, plus those its timeout lets
    wait while the held ones pass at `throughput_per_s`."""
    return pool_size + pool_timeout_s * throughput_per_s
