"""Build Relief Hub's offline basemap and country table from Natural Earth (public domain),
via the npm package world-atlas@2.0.2 (TopoJSON; feature id = ISO 3166-1 numeric).

Run from the repo root, with the package unpacked OUTSIDE the repo:
    cd /tmp && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz && cd -
    python data/tools/make_basemap.py /tmp/package

Writes static/basemap/countries-50m.geojson, data/countries.csv, static/basemap/ATTRIBUTION.md.
Stdlib + pycountry only; deterministic. Names: pycountry common_name, else name, minus a
trailing "(...)" ("Sint Maarten (Dutch part)" -> "Sint Maarten"), then NAME_OVERRIDES.
"""
import csv, json, math, re, sys
from pathlib import Path

import pycountry

ATLAS_VERSION, DECIMALS = "2.0.2", 3  # 3 dp (~100 m) is finer than the 1:50m quantization
ROOT = Path(__file__).resolve().parents[2]
GEOJSON = ROOT / "static/basemap/countries-50m.geojson"
ATTRIB, CSV_OUT = ROOT / "static/basemap/ATTRIBUTION.md", ROOT / "data/countries.csv"
# Kosovo has no ISO code; XKX is the user-assigned code used by the EU, World Bank and IMF.
# Other id-less features (Somaliland, N. Cyprus, ...) stay on the map with iso3=null, so the
# basemap has no holes, but get no CSV row.
NO_ID_CODES = {"Kosovo": "XKX"}
NAME_OVERRIDES = {"COD": "Democratic Republic of the Congo", "FSM": "Micronesia",
                  "PSE": "Palestine", "VGB": "British Virgin Islands",
                  "VIR": "U.S. Virgin Islands", "XKX": "Kosovo", "RUS": "Russia"}
UN_MEMBERS = set("""AFG ALB DZA AND AGO ATG ARG ARM AUS AUT AZE BHS BHR BGD BRB BLR BEL BLZ BEN
BTN BOL BIH BWA BRA BRN BGR BFA BDI CPV KHM CMR CAN CAF TCD CHL CHN COL COM COG CRI CIV HRV CUB
CYP CZE PRK COD DNK DJI DMA DOM ECU EGY SLV GNQ ERI EST SWZ ETH FJI FIN FRA GAB GMB GEO DEU GHA
GRC GRD GTM GIN GNB GUY HTI HND HUN ISL IND IDN IRN IRQ IRL ISR ITA JAM JPN JOR KAZ KEN KIR KWT
KGZ LAO LVA LBN LSO LBR LBY LIE LTU LUX MDG MWI MYS MDV MLI MLT MHL MRT MUS MEX FSM MCO MNG MNE
MAR MOZ MMR NAM NRU NPL NLD NZL NIC NER NGA MKD NOR OMN PAK PLW PAN PNG PRY PER PHL POL PRT QAT
KOR MDA ROU RUS RWA KNA LCA VCT WSM SMR STP SAU SEN SRB SYC SLE SGP SVK SVN SLB SOM ZAF SSD ESP
LKA SDN SUR SWE CHE SYR TJK THA TLS TGO TON TTO TUN TUR TKM TUV UGA UKR ARE GBR TZA USA URY UZB
VUT VEN VNM YEM ZMB ZWE""".split())  # all 193
REQUIRED = UN_MEMBERS | {"SXM"}
# HAND-PLACED capital (lat, lon) for required countries too small for the 1:50m file.
CAPITALS = {"TUV": (-8.5211, 179.1983)}  # Tuvalu: Funafuti


def decode_arcs(topo):
    # Arcs are delta-encoded integers: running sums give grid positions, transform gives degrees.
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        arcs.append([((x := x + dx) * sx + tx, (y := y + dy) * sy + ty) for dx, dy in arc])
    return arcs


def ring(arcs, idxs):
    pts = []
    for i in idxs:  # ~i is arc i reversed; arcs share end points, so skip the repeat
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a[1:] if pts else a)
    # world-atlas v2 is "geostitched" (right on a sphere, wrong in the plane): rings jump
    # across the antimeridian (Russia, Fiji, Antarctica). Make longitudes continuous instead.
    for k in range(1, len(pts)):
        pts[k] = (pts[k][0] + 360 * round((pts[k - 1][0] - pts[k][0]) / 360), pts[k][1])
    if abs(pts[-1][0] - pts[0][0]) > 180:  # ring goes round a pole: close it along the pole
        if all(abs(y) > 89.99 for _, y in pts):
            return None  # Antarctica's degenerate polar-cap ring
        pole = math.copysign(90, pts[0][1])
        pts += [(pts[-1][0], pole), (pts[0][0], pole), pts[0]]
    return pts


def signed_area(r):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(r, r[1:])) / 2


def centroid(poly):
    # Planar area-weighted centroid of one polygon, outer ring minus holes -> (area, lon, lat).
    tot = cx = cy = 0.0
    for k, r in enumerate(poly):
        a = signed_area(r)
        w = math.copysign(1, a) * (1 if k == 0 else -1) if a else 0  # +|a| outer, -|a| holes
        for (x0, y0), (x1, y1) in zip(r, r[1:]):
            c = (x0 * y1 - x1 * y0) * w
            cx, cy = cx + (x0 + x1) * c, cy + (y0 + y1) * c
        tot += a * w
    return tot, cx / (6 * tot), cy / (6 * tot)


def representative_point(polys):
    # Largest polygon only (France -> Europe, not French Guiana); "largest" weights degree^2
    # by cos(lat) so high-latitude islands (Svalbard) are not inflated.
    (_, x, y), poly = max(((centroid(p), p) for p in polys),
                          key=lambda c: c[0][0] * math.cos(math.radians(c[0][2])))
    # A concave country's centroid can fall outside it (Vietnam's lies in Laos); then take the
    # middle of the country's widest stretch along the centroid's latitude instead.
    xs = sorted(x0 + (y - y0) * (x1 - x0) / (y1 - y0)
                for r in poly for (x0, y0), (x1, y1) in zip(r, r[1:]) if (y0 > y) != (y1 > y))
    spans = list(zip(xs[::2], xs[1::2]))
    if spans and not any(a <= x <= b for a, b in spans):
        x = sum(max(spans, key=lambda s: s[1] - s[0])) / 2
    return round(y, 4), round((x + 180) % 360 - 180, 4)


def clip(r, lo, hi):
    # Sutherland-Hodgman against lo <= lon <= hi: cuts unwrapped rings at the antimeridian.
    for edge, keep in ((lo, lambda x: x >= lo), (hi, lambda x: x <= hi)):
        out = []
        for (x0, y0), (x1, y1) in zip(r, r[1:]):
            out += [(x0, y0)] if keep(x0) else []
            if keep(x0) != keep(x1):
                out.append((edge, y0 + (y1 - y0) * (edge - x0) / (x1 - x0)))
        r = out + out[:1]
    return r


def geojson_polys(poly):
    polys = []
    for shift in (-360, 0, 360):  # pieces beyond +/-180 are moved back into range
        rings = []
        for k, r in enumerate(poly):
            pts = []
            for x, y in clip(r, shift - 180, shift + 180):
                p = [round(x - shift, DECIMALS), round(y, DECIMALS)]
                pts += [p] if not pts or p != pts[-1] else []  # rounding repeats vertices
            if len(pts) < 4 or signed_area(pts) == 0:
                if k == 0:
                    break  # no outer ring in this window
                continue
            # RFC 7946 winding: outer rings counter-clockwise, holes clockwise.
            rings.append(pts[::-1] if (signed_area(pts) > 0) != (k == 0) else pts)
        polys += [rings] if rings else []
    return polys


def country_name(iso3):
    c = pycountry.countries.get(alpha_3=iso3)
    name = NAME_OVERRIDES.get(iso3) or getattr(c, "common_name", None) or c.name
    return re.sub(r" \([^)]*\)$", "", name)


def main(pkg):
    topo = json.loads((Path(pkg) / "countries-50m.json").read_text(encoding="utf-8"))
    arcs, groups = decode_arcs(topo), {}  # groups: iso3 (or "?"+name) -> {iso3, name, polys}
    for g in topo["objects"]["countries"]["geometries"]:
        ne_name = g["properties"]["name"]
        c = pycountry.countries.get(numeric=g["id"]) if "id" in g else None
        iso3 = c.alpha_3 if c else NO_ID_CODES.get(ne_name)
        if iso3 is None:
            print(f"skipped from CSV (no ISO code; on map with iso3=null): {ne_name}")
        # Ids can repeat (Ashmore and Cartier Is. is 036 like Australia), so merge by iso3.
        name = country_name(iso3) if iso3 else ne_name
        grp = groups.setdefault(iso3 or "?" + ne_name, {"iso3": iso3, "name": name, "polys": []})
        for p in [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]:
            grp["polys"].append([r for r in (ring(arcs, idxs) for idxs in p) if r])

    features = []
    for key in sorted(groups):
        # Always MultiPolygon, so map code only ever handles one geometry type.
        polys = [q for p in groups[key]["polys"] for q in geojson_polys(p)]
        props = {"iso3": groups[key]["iso3"], "name": groups[key]["name"]}
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "MultiPolygon", "coordinates": polys}})
    GEOJSON.parent.mkdir(parents=True, exist_ok=True)
    GEOJSON.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                  ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    rows = {g["iso3"]: (g["iso3"], g["name"], *representative_point(g["polys"]))
            for g in groups.values() if g["iso3"]}
    for iso3, (lat, lon) in CAPITALS.items():
        if iso3 not in rows:
            print(f"not in 1:50m, using hand-placed capital: {iso3}")
            rows[iso3] = (iso3, country_name(iso3), lat, lon)
    assert REQUIRED <= rows.keys(), f"missing: {sorted(REQUIRED - rows.keys())}"
    with CSV_OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerows([("iso3", "name", "latitude", "longitude")] + [rows[k] for k in sorted(rows)])

    ATTRIB.write_text(f"""# Basemap attribution

`countries-50m.geojson` and `data/countries.csv` derive from **Natural Earth** Admin 0
countries 1:50m, public domain (https://www.naturalearthdata.com/), via the npm package
`world-atlas@{ATLAS_VERSION}` (Natural Earth 4.1.0 as TopoJSON, by Mike Bostock, ISC license).
ISO 3166-1 codes and names from `pycountry`. Boundaries imply no position on disputed areas.

Made from the repo root, as documented in `data/tools/make_basemap.py`:

    cd /tmp && npm pack world-atlas@{ATLAS_VERSION} && tar xzf world-atlas-{ATLAS_VERSION}.tgz && cd -
    python data/tools/make_basemap.py /tmp/package

Changes: decoded to GeoJSON MultiPolygons, cut at the antimeridian, rounded to {DECIMALS}
decimals, RFC 7946 winding; properties only `iso3` (Kosovo `XKX`, null if no code) and `name`.
""", encoding="utf-8")
    print(f"{GEOJSON.relative_to(ROOT)}: {len(features)} features, {GEOJSON.stat().st_size} bytes")
    print(f"{CSV_OUT.relative_to(ROOT)}: {len(rows)} rows")


if __name__ == "__main__":
    main(sys.argv[1]) if len(sys.argv) == 2 else sys.exit(__doc__)
