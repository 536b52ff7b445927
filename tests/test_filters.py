"""URL filter values are checked before they can reach a query."""

from datetime import date

from reliefhub.filters import Filters, check_date_range, shown, unknown_values


def test_unknown_codes_are_named_in_a_notice():
    notices = unknown_values(["ITA", "XXX", "' OR 1=1 --"], {"ITA", "ESP"}, "country")
    assert notices == [
        "Ignored 2 countries from the link that are not in the data: `XXX`, `' OR 1=1 --`.",
    ]


def test_echoed_values_are_short_and_inert():
    assert len(shown("A" * 10_000)) == 41
    assert shown("`rm -rf`\x00") == "'rm -rf'"
    assert shown("Ελλάδα") == "Ελλάδα"


def test_date_range_from_the_url():
    assert check_date_range([]) == (None, [])
    assert check_date_range(["2020-03-01", "2020-04-30"]) == ((date(2020, 3, 1), date(2020, 4, 30)), [])
    assert (
        "ends (2020-03-01) before it starts (2020-04-30)"
        in check_date_range(["2020-04-30", "2020-03-01"])[1][0]
    )
    assert "not valid YYYY-MM-DD" in check_date_range(["2020-02-30", "2020-03-01"])[1][0]
    assert "exactly two dates" in check_date_range(["2020-03-01"])[1][0]


def test_filters_become_bound_parameters_and_a_file_name_part():
    filters = Filters(("ITA", "ESP"), ("ventilators",), ("air",), date(2020, 3, 1), None)
    assert filters.params() == {
        "countries": ["ITA", "ESP"],
        "materials": ["ventilators"],
        "modes": ["air"],
        "date_from": date(2020, 3, 1),
        "date_to": None,
    }
    assert filters.slug() == "ITA-ESP"
    assert Filters().slug() == "all"


def test_link_codes_are_accepted_in_any_letter_case():
    from reliefhub.filters import known_in_any_case

    codes, notices = known_in_any_case(["ita", "Esp", "ITA", "xxx"], {"ITA", "ESP"}, "country")
    assert codes == ["ITA", "ESP"]
    assert notices == ["Ignored country `xxx` from the link: not a country in the data."]
