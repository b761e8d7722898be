"""Bad input, generated: schemathesis against each service's own OpenAPI (on a real port, on the
real database), hypothesis for the scenario model and the admin API's bodies. Nothing answers
500; every rejection is a 4xx whose `detail` is a sentence."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from rehearsal.localpg import LocalPostgres
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.model import AlertRule, ConfigChange, ExpectedEvent, JourneyMix, Phase, Stage
from scenarios.scripts import sql_exists
from scenarios.validate import ScenarioError, validate
from services.cart.main import create_app as cart_app
from services.checkout.main import create_app as checkout_app
from services.load_generator.config import Settings as LoadgenSettings
from services.load_generator.main import create_app as loadgen_app
from services.product_catalog.main import create_app as catalog_app
from services.seed import seed_catalog
from services.shared.telemetry import build_telemetry
from tests.reliability.conftest import stock_ledger
from tests.servers import serve

FUZZ_DB = "reliability_fuzz"
EXAMPLES = 30  # per operation and generation mode: enough to find the cracks, quick on two cores
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))

STOREFRONT = {"product-catalog": catalog_app, "cart": cart_app, "checkout": checkout_app}


@pytest.fixture(scope="module")
def fuzz_db(pg: LocalPostgres) -> Iterator[str]:
    """A database of its own: fuzzed checkouts must not spend the stock other tests count on."""
    pg.psql(f"DROP DATABASE IF EXISTS {FUZZ_DB} WITH (FORCE)", db="postgres")
    pg.psql(f"CREATE DATABASE {FUZZ_DB}", db="postgres")
    seed_catalog(pg.conninfo(FUZZ_DB), 2_000)
    yield FUZZ_DB
    pg.psql(f"DROP DATABASE IF EXISTS {FUZZ_DB} WITH (FORCE)", db="postgres")


@pytest.fixture
def unreachable_storefront() -> str:
    """A URL nothing listens on: a demo the fuzzer starts sends its journeys nowhere, cheaply."""
    from rehearsal.localpg import free_port

    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def loadgen_url(unreachable_storefront: str) -> Iterator[str]:
    config = LoadgenSettings(product_catalog_url=unreachable_storefront, cart_url=unreachable_storefront,
                             checkout_url=unreachable_storefront, loadgen_baseline=False,
                             demo_mode="off", demo_start_timestamp=None, loadgen_stop_grace_seconds=2.0,
                             loadgen_request_timeout_seconds=2.0)
    app = loadgen_app(settings=config, telemetry=build_telemetry("load-generator", span_processors=[]))
    with serve(app) as url:
        yield url


def dishonest(response: Any) -> str | None:
    """Why an answer breaks the contract (a 5xx, or a 4xx without a sentence), or None."""
    status = response.status_code
    if status >= 500:
        return f"{status} {response.text[:200]}"
    if status >= 400:
        try:
            body = response.json()
        except ValueError:
            return f"{status} without a JSON body: {response.text[:200]}"
        detail = body.get("detail") if isinstance(body, dict) else None
        if not (isinstance(detail, str) and detail.strip().endswith(".")):
            return f"{status} without a sentence: {response.text[:200]}"
    return None


def assert_answer_is_honest(response: Any, what: str) -> None:
    problem = dishonest(response)
    assert problem is None, f"{what}: {problem}"


def fuzz_operation(operation: Any, mode: GenerationMode, base_url: str, problems: dict[str, str],
                   after_call: Callable[[Any, Any], None] | None) -> int:
    """Run the operation's generated cases; every distinct contract breach is collected (not
    raised), so one known flaw does not hide the others."""
    calls = 0

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        nonlocal calls
        response = case.call(base_url=base_url, timeout=30)
        calls += 1
        problem = dishonest(response)
        if problem is not None:
            problems.setdefault(f"{case.method} {case.path} ({mode.value}): {problem[:60]}",
                                f"{problem} <- {case.as_curl_command()[:300]}")
        if after_call is not None:
            after_call(case, response)

    try:
        check()
    except Unsatisfiable:
        # An operation with nothing to get wrong (POST /carts takes no input) has no negative case.
        if mode is not GenerationMode.NEGATIVE:
            raise
    return calls


def fuzz_schema(base_url: str, after_call: Callable[[Any, Any], None] | None = None) -> tuple[int, dict[str, str]]:
    """Every operation of the service's OpenAPI, valid and invalid data: calls made, breaches found."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI lists no operation"
    problems: dict[str, str] = {}
    calls = sum(fuzz_operation(op, mode, base_url, problems, after_call)
                for op in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    return calls, problems


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("service", sorted(STOREFRONT))
def test_storefront_openapi_fuzzing_never_answers_500(
    service: str, fuzz_db: str, pg: LocalPostgres, run_service: Callable[..., Any],
) -> None:
    running = run_service(STOREFRONT[service], db_name=fuzz_db)
    calls, problems = fuzz_schema(running.url)
    assert calls > 0
    assert not problems, "\n".join(problems.values())
    ledger = stock_ledger(pg.conninfo(fuzz_db))  # whatever was bought, nothing half-written
    assert ledger["unbalanced_products"] == 0 and ledger["orders_without_lines"] == 0, ledger


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_loadgen_admin_openapi_fuzzing_never_answers_500(loadgen_url: str) -> None:
    def stop_what_was_started(case: Any, response: Any) -> None:
        if case.path == "/admin/start-demo" and response.status_code == 200:
            assert httpx.post(f"{loadgen_url}/admin/stop-demo", timeout=30).status_code == 200

    calls, problems = fuzz_schema(loadgen_url, stop_what_was_started)
    assert calls > 0
    assert not problems, "\n".join(problems.values())
    assert httpx.get(f"{loadgen_url}/admin/demo-status", timeout=30).json()["running"] is False


# --- the admin API's bodies, beyond the schema: any JSON at all ------------------------------------

JSON_SCALARS = (st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False)
                | st.text(max_size=20))
JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=10), inner, max_size=3), max_leaves=8)
FIELDS = ("scenario", "duration_minutes", "peak_rpm", "minute_seconds", "start_timestamp")
FIELD_VALUES = st.one_of(JSON_SCALARS, st.just("blackfriday"), st.floats(0.01, 5000), st.integers(-5, 2000),
                         st.just(float("inf")))
BODIES = st.one_of(JSON, st.dictionaries(st.sampled_from(FIELDS), FIELD_VALUES, max_size=5),
                   st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), FIELD_VALUES, max_size=4))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_admin_start_demo_with_any_json_body_is_served_or_refused_with_a_sentence(loadgen_url: str) -> None:
    seen: set[int] = set()

    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=BODIES)
    def check(body: Any) -> None:
        raw = json.dumps(body, allow_nan=True)  # infinity too: it is what a careless client sends
        with httpx.Client(base_url=loadgen_url, timeout=30) as c:
            r = c.post("/admin/start-demo", content=raw, headers={"Content-Type": "application/json"})
            seen.add(r.status_code)
            assert r.status_code in (200, 409, 422), (body, r.status_code, r.text[:300])
            assert_answer_is_honest(r, f"start-demo {raw[:100]}")
            if r.status_code == 200:
                assert c.post("/admin/stop-demo").status_code == 200
            assert c.get("/admin/demo-status").json()["running"] is False

    check()
    assert 422 in seen and 200 in seen, seen  # the generator reached both sides of the validator


# --- the scenario model ----------------------------------------------------------------------------

PHASES = st.lists(st.builds(Phase, st.sampled_from(["ramp", "peak", "degradation", "x", ""]),
                            st.integers(-5, 40), st.integers(-5, 40), st.just("d")), max_size=6)
MIXES = st.builds(JourneyMix, *((st.floats(-0.5, 1.5) | st.just(float("nan"))) for _ in range(3))) | st.just(
    JourneyMix(0.6, 0.25, 0.15))
OVERLOAD = st.none() | st.floats(allow_nan=True, allow_infinity=True)
STAGES = st.lists(st.builds(Stage, st.integers(-3, 40), st.text(max_size=5), MIXES, OVERLOAD, OVERLOAD, OVERLOAD),
                  max_size=4)
RPM_POINTS = st.lists(st.tuples(st.integers(-3, 40), (st.floats(-10, 500) | st.just(float("nan")))), max_size=4)
ALERTS = st.builds(AlertRule, st.just("a"), st.integers(-2, 5), st.integers(-2, 3),
                   (st.floats(-1, 2) | st.just(float("nan"))),
                   (st.floats(-10, 5000) | st.just(float("nan"))), st.just(("checkout.failed == true",)))
MINUTES = st.floats(-5, 50) | st.just(float("nan"))
EVENTS = st.lists(st.builds(ExpectedEvent, MINUTES, MINUTES, MINUTES, st.just("e")), max_size=3)
CONFIG = st.lists(st.builds(ConfigChange, st.sampled_from(["DEMO_MODE", "DB_MAX_CONNECTIONS", "X"]),
                            st.just("a"), st.just("b"), st.just("r")), max_size=4)


@st.composite
def scenario_variations(draw: st.DrawFn) -> Any:
    s = BLACKFRIDAY
    changes: dict[str, Any] = {}
    if draw(st.booleans()):
        changes["name"] = draw(st.text(max_size=15))
    if draw(st.booleans()):
        changes["duration_minutes"] = draw(st.integers(-5, 60))
    if draw(st.booleans()):
        changes["phases"] = tuple(draw(PHASES))
    traffic = s.traffic
    if draw(st.booleans()):
        traffic = dataclasses.replace(traffic, rpm_points=tuple(draw(RPM_POINTS)))
    if draw(st.booleans()):
        traffic = dataclasses.replace(traffic, stages=tuple(draw(STAGES)))
    if draw(st.booleans()):
        traffic = dataclasses.replace(traffic, think_time_seconds=draw(st.floats(-2, 5) | st.just(float("nan"))),
                                      baseline_rpm=draw(st.floats(-5, 50) | st.just(float("nan"))))
    changes["traffic"] = traffic
    if draw(st.booleans()):
        changes["alert"] = draw(ALERTS)
    if draw(st.booleans()):
        changes["timeline"] = tuple(draw(EVENTS))
    if draw(st.booleans()):
        changes["config"] = tuple(draw(CONFIG))
    if draw(st.booleans()):
        changes["dropped_indexes"] = draw(st.sampled_from([(), ("idx_products_category",)]))
    if draw(st.booleans()):
        changes["break_sql"] = draw(st.sampled_from([s.break_sql, "blackfriday/missing.sql"]))
    return dataclasses.replace(s, **changes)


def _is_coherent(s: Any) -> bool:
    """What an accepted scenario must satisfy, checked independently of the validator."""
    p = s.phases
    stages = s.traffic.stages
    return (s.duration_minutes > 0 and bool(p) and p[0].start_minute == 0 and p[-1].end_minute == s.duration_minutes
            and all(a.end_minute == b.start_minute for a, b in zip(p, p[1:], strict=False))
            and all(x.end_minute > x.start_minute for x in p)
            and bool(s.traffic.rpm_points) and all(r > 0 for _, r in s.traffic.rpm_points)
            and bool(stages) and stages[0].from_minute == 0
            and all(abs(sum(st_.mix.shares().values()) - 1) < 1e-6 for st_ in stages)
            and sql_exists(s.break_sql) and sql_exists(s.restore_sql) and bool(s.dropped_indexes))


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(scenario=scenario_variations())
def test_scenario_variations_are_accepted_whole_or_rejected_with_a_sentence(scenario: Any) -> None:
    try:
        accepted = validate(scenario)
    except ScenarioError as err:
        assert str(err).startswith(f"scenario '{scenario.name}'"), str(err)
        return
    assert accepted is scenario
    assert _is_coherent(scenario), f"accepted an incoherent scenario: {scenario}"



# --- what the framework rejects before our handlers: still a sentence --------------------------------

BODY_PATH = {"cart": "/carts/00000000-0000-0000-0000-000000000001/items", "checkout": "/checkout",
             "load-generator": "/admin/start-demo"}
PUT_PATH = {"product-catalog": "/categories", "cart": "/carts", "checkout": "/checkout",
            "load-generator": "/admin/start-demo"}


@pytest.mark.parametrize("invalid", ["body_not_utf8", "unknown_path", "wrong_method"])
def test_framework_rejections_are_sentences_too(
    invalid: str, request: pytest.FixtureRequest, fuzz_db: str,
    run_service: Callable[..., Any], loadgen_url: str,
) -> None:
    method, path, body, headers = request.getfixturevalue(invalid)
    urls = {name: run_service(factory, db_name=fuzz_db).url for name, factory in STOREFRONT.items()}
    urls["load-generator"] = loadgen_url
    problems = []
    for service, url in urls.items():
        if method == "POST" and service not in BODY_PATH:
            continue  # the catalog takes no body
        where = path or (BODY_PATH[service] if method == "POST" else PUT_PATH[service])
        r = httpx.request(method, f"{url}{where}", content=body, headers=headers, timeout=30)
        assert 400 <= r.status_code < 500, (service, where, r.status_code, r.text)
        if (problem := dishonest(r)) is not None:
            problems.append(f"{service}: {method} {where}: {problem}")
    assert not problems, "\n".join(problems)
