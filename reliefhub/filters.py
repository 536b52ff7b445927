"""The shared filters: country, material and date range.

They travel in the URL (?country=ITA&country=ESP&material=ventilators&dates=...),
so a filtered view is a link. Values from the URL are checked against what the
database knows; anything else is dropped with a notice, and the survivors only
ever reach SQL as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MAX_SHOWN = 40

# Transport modes a filter can choose; 'not_stated' where the source is silent.
MODES = {"air": "Air", "road": "Road", "rail": "Rail", "sea": "Sea", "not_stated": "Not stated"}


@dataclass(frozen=True)
class Filters:
    countries: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None

    def params(self) -> dict:
        return {
            "countries": list(self.countries),
            "materials": list(self.materials),
            "modes": list(self.modes),
            "date_from": self.date_from,
            "date_to": self.date_to,
        }

    def slug(self) -> str:
        """Part of an export's file name: 'ITA-ESP', or 'all'."""
        return "-".join(self.countries) or "all"


def shown(value: str) -> str:
    """A URL value made safe to echo in a notice: short, printable, no markup."""
    printable = "".join(ch for ch in value if ch.isprintable())
    short = printable if len(printable) <= MAX_SHOWN else printable[:MAX_SHOWN] + "…"
    return short.replace("`", "'")


NAMED_IN_A_NOTICE = 5


def unknown_values(raw: list[str], known: set[str], what: str) -> list[str]:
    """One notice for the URL values that are not known codes (none when all
    are): a link with hundreds of them gives one notice, not hundreds."""
    unknown = list(dict.fromkeys(v for v in raw if v not in known))
    if len(unknown) == 1:
        return [f"Ignored {what} `{shown(unknown[0])}` from the link: not a {what} in the data."]
    if not unknown:
        return []
    named = ", ".join(f"`{shown(v)}`" for v in unknown[:NAMED_IN_A_NOTICE])
    more = f" and {len(unknown) - NAMED_IN_A_NOTICE:,} more" if len(unknown) > NAMED_IN_A_NOTICE else ""
    plural = what[:-1] + "ies" if what.endswith("y") else what + "s"
    return [f"Ignored {len(unknown):,} {plural} from the link that are not in the data: {named}{more}."]


def known_in_any_case(raw: list[str], known: set[str], what: str) -> tuple[list[str], list[str]]:
    """URL values as the known codes they name in any letter case ('ita' is
    ITA), each once, and notices for the values that name none."""
    by_folded = {code.casefold(): code for code in known}
    found = [by_folded.get(value.casefold()) for value in raw]
    unknown = [value for value, code in zip(raw, found, strict=True) if code is None]
    return list(dict.fromkeys(code for code in found if code)), unknown_values(unknown, set(), what)


def check_date_range(raw: list[str]) -> tuple[tuple[date, date] | None, list[str]]:
    """Read ?dates=FROM&dates=TO; returns the range, or None with notices."""
    if not raw:
        return None, []
    if len(raw) != 2:
        return None, ["Ignored the date range from the link: it needs exactly two dates."]
    try:
        start, end = (date.fromisoformat(v) for v in raw)
    except ValueError:
        bad = ", ".join(f"`{shown(v)}`" for v in raw)
        return None, [f"Ignored the date range {bad} from the link: not valid YYYY-MM-DD dates."]
    if end < start:
        return None, [f"Ignored the date range from the link: it ends ({end}) before it starts ({start})."]
    return (start, end), []
