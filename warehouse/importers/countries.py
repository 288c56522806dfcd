"""Countries: ISO 3166 alpha-2 codes, common names that map to them, and their sales region.

Used to read free-text countries in CRM exports and to place accounts in a region when the
source has no region field (Salesforce). The region map covers the markets a B2B software
company usually sells to; unknown countries keep no region and are reported.
"""

from __future__ import annotations

REGION_OF: dict[str, str] = {}
for _region, _codes in {
    "NA": "US CA PR",
    "EMEA": (
        "GB IE FR DE NL BE LU ES PT IT CH AT SE DK NO FI IS PL CZ SK HU RO BG GR HR SI RS EE LV LT "
        "UA TR IL AE SA QA KW BH OM EG MA TN ZA NG KE GH CY MT JO LB"
    ),
    "APAC": "JP KR CN HK TW SG MY TH VN PH ID IN PK BD LK AU NZ",
    "LATAM": "MX BR AR CL CO PE UY PY BO EC VE CR PA GT HN SV NI DO JM TT",
}.items():
    for _code in _codes.split():
        REGION_OF[_code] = _region

NAMES: dict[str, str] = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "canada": "CA",
    "puerto rico": "PR",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "ireland": "IE",
    "france": "FR",
    "germany": "DE",
    "deutschland": "DE",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "belgium": "BE",
    "luxembourg": "LU",
    "spain": "ES",
    "portugal": "PT",
    "italy": "IT",
    "switzerland": "CH",
    "austria": "AT",
    "sweden": "SE",
    "denmark": "DK",
    "norway": "NO",
    "finland": "FI",
    "iceland": "IS",
    "poland": "PL",
    "czech republic": "CZ",
    "czechia": "CZ",
    "slovakia": "SK",
    "hungary": "HU",
    "romania": "RO",
    "bulgaria": "BG",
    "greece": "GR",
    "croatia": "HR",
    "slovenia": "SI",
    "serbia": "RS",
    "estonia": "EE",
    "latvia": "LV",
    "lithuania": "LT",
    "ukraine": "UA",
    "turkey": "TR",
    "turkiye": "TR",
    "israel": "IL",
    "united arab emirates": "AE",
    "uae": "AE",
    "saudi arabia": "SA",
    "qatar": "QA",
    "kuwait": "KW",
    "bahrain": "BH",
    "oman": "OM",
    "egypt": "EG",
    "morocco": "MA",
    "tunisia": "TN",
    "south africa": "ZA",
    "nigeria": "NG",
    "kenya": "KE",
    "ghana": "GH",
    "cyprus": "CY",
    "malta": "MT",
    "jordan": "JO",
    "lebanon": "LB",
    "japan": "JP",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "china": "CN",
    "hong kong": "HK",
    "taiwan": "TW",
    "singapore": "SG",
    "malaysia": "MY",
    "thailand": "TH",
    "vietnam": "VN",
    "viet nam": "VN",
    "philippines": "PH",
    "indonesia": "ID",
    "india": "IN",
    "pakistan": "PK",
    "bangladesh": "BD",
    "sri lanka": "LK",
    "australia": "AU",
    "new zealand": "NZ",
    "mexico": "MX",
    "brazil": "BR",
    "brasil": "BR",
    "argentina": "AR",
    "chile": "CL",
    "colombia": "CO",
    "peru": "PE",
    "uruguay": "UY",
    "paraguay": "PY",
    "bolivia": "BO",
    "ecuador": "EC",
    "venezuela": "VE",
    "costa rica": "CR",
    "panama": "PA",
    "guatemala": "GT",
    "honduras": "HN",
    "el salvador": "SV",
    "nicaragua": "NI",
    "dominican republic": "DO",
    "jamaica": "JM",
    "trinidad and tobago": "TT",
}


def country_code(text: str) -> str | None:
    """ISO alpha-2 code for a code or a common English name; None when unknown."""
    value = text.strip()
    if len(value) == 2 and value.isalpha():
        return value.upper()
    if len(value) == 3 and value.upper() == "USA":
        return "US"
    return NAMES.get(value.lower())
