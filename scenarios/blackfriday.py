"""The Black Friday scenario, as the seed describes it: a quiet ramp, the doorbuster sale
at minute 15 meeting a catalog without its indexes, the checkout rush at minute 20 meeting a
pool cut to 20 connections with a 5-second timeout.

The sale's catalog load is a closed population of deal-page watchers: the database always
has the pool's scans to run (so the hot row's lock holders compete for its CPU as they did
when calibrated), listings are slow at any database speed and none waits past the pool's
timeout. An open offer near capacity was slow only when the database happened to run slower
than calibrated (on a shared VM it moved by a third within minutes). The rush and the crowd
are open offers sized from the throughput measured live, so checkouts fail from 20 and the
catalog from 23: the seed's order, and its failure rates, at any database speed."""

from __future__ import annotations

from scenarios.model import (
    AlertRule,
    ConfigChange,
    ExpectedEvent,
    JourneyMix,
    Phase,
    Scenario,
    Stage,
    Targets,
    Traffic,
)

QUIET_MIX = JourneyMix(browse_only=0.60, browse_and_cart=0.25, full_checkout=0.15)
SALE_MIX = JourneyMix(browse_only=0.50, browse_and_cart=0.20, full_checkout=0.30)

BLACKFRIDAY = Scenario(
    name="blackfriday",
    description="Missing indexes and an undersized connection pool meet Black Friday traffic.",
    duration_minutes=30,
    phases=(
        Phase("ramp", 0, 10, "Traffic ramps from 30 to 120 journeys per minute."),
        Phase("peak", 10, 15, "Peak traffic; everything still answers."),
        Phase("degradation", 15, 20, "The doorbuster sale opens; catalog scans pile up."),
        Phase("pool_exhaustion", 20, 25, "The checkout rush exhausts the checkout pool."),
        Phase("peak_failure", 25, 30, "Peak failure rate; revenue is lost every minute."),
    ),
    traffic=Traffic(
        rpm_points=((0, 30.0), (10, 120.0), (30, 120.0)),
        stages=(
            Stage(0, "quiet", QUIET_MIX),
            Stage(15, "doorbuster_sale", SALE_MIX, deal_watchers=1.0),
            Stage(20, "checkout_rush", SALE_MIX, deal_watchers=1.0, checkout_overload=1.6,
                  go_live_burst=1.0),
            Stage(23, "sale_crowd", SALE_MIX, catalog_overload=1.7, checkout_overload=1.6),
        ),
    ),
    config=(
        ConfigChange("DEMO_MODE", "off", "blackfriday", "turns on the demo clock and its spans"),
        ConfigChange("DB_MAX_CONNECTIONS", "100", "20", "the pool is sized for a quiet day"),
        ConfigChange("DB_CONNECTION_TIMEOUT", "30", "5", "requests give up on the pool fast"),
    ),
    break_sql="blackfriday/break.sql",
    restore_sql="blackfriday/restore.sql",
    dropped_indexes=("idx_products_category", "idx_products_stock_quantity"),
    alert=AlertRule(
        name="black-friday-checkout-meltdown",
        window_minutes=2,
        hold_minutes=1,
        checkout_error_rate_gt=0.20,
        catalog_p95_ms_gt=2000.0,
        span_conditions=(
            "db.slow_query == true",
            "db.full_table_scan == true",
            "db.connection.pool.exhausted == true",
            "checkout.failed == true",
        ),
    ),
    timeline=(
        ExpectedEvent(15, 15, 16, "First slow queries: catalog p95 passes 2000 ms"),
        ExpectedEvent(20, 20, 21, "Checkout failures start: pool exhausted, lock waits"),
        ExpectedEvent(22, 21, 24, "Flow alert fires: checkout errors > 20% and catalog p95 > 2 s",
                      fires_alert=True),
        ExpectedEvent(23, 23, 25, "The sale's crowd exhausts the catalog pool: listings fail"),
        ExpectedEvent(25, 25, 30, "Peak failure: about 35% of checkouts fail"),
    ),
    targets=Targets(rpm_tolerance=0.05, error_free=(0, 15), slow_catalog=(16, 30),
                    healthy_checkout=(0, 20), healthy_max=0.05,
                    failing_checkout=(25, 30), failing_rate=0.35, failing_tolerance=0.10,
                    degraded=(15, 20), degraded_max=0.10, failing_requests=(0.25, 0.45),
                    checkouts_fail_first=True),
)
