"""Parameters of the demo company: sizes, dimensions and the behavioural constants.

The constants are the assumptions of the simulation, kept in one place so the plausibility
tests and the documentation can refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Size = Literal["small", "medium", "large"]


@dataclass(frozen=True)
class DemoSize:
    accounts: int
    aes: int  # quota-carrying seats at the as-of date
    opps_per_account_year: float  # before coverage and seasonality effects


SIZES: dict[Size, DemoSize] = {
    "small": DemoSize(accounts=1_500, aes=40, opps_per_account_year=3.4),
    "medium": DemoSize(accounts=20_000, aes=200, opps_per_account_year=3.4),
    "large": DemoSize(accounts=200_000, aes=2_000, opps_per_account_year=3.8),
}

FISCAL_YEAR_START_MONTH = 2  # the demo company's fiscal year starts in February
HISTORY_YEARS = 3  # full fiscal years of history before the current one

REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_SHARE = (0.45, 0.30, 0.15, 0.10)
REGION_OTE_FACTOR = {"NA": 1.0, "EMEA": 0.9, "APAC": 0.85, "LATAM": 0.6}

SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
ACCOUNT_SEGMENT_SHARE = (0.12, 0.30, 0.58)
SEAT_SEGMENT_SHARE = (0.25, 0.35, 0.40)
SEGMENT_EFFORT = {"Enterprise": 3.0, "Mid-Market": 1.5, "SMB": 1.0}
# Employee ranges per segment (inclusive lower, exclusive upper).
SEGMENT_EMPLOYEES = {"Enterprise": (2_000, 150_000), "Mid-Market": (200, 2_000), "SMB": (10, 200)}
# Median deal size (USD), median sales cycle (days) and base win rate per segment.
SEGMENT_DEAL_MEDIAN = {"Enterprise": 150_000.0, "Mid-Market": 40_000.0, "SMB": 11_000.0}
SEGMENT_CYCLE_MEDIAN = {"Enterprise": 130.0, "Mid-Market": 70.0, "SMB": 35.0}
SEGMENT_WIN_RATE = {"Enterprise": 0.22, "Mid-Market": 0.26, "SMB": 0.31}
SEGMENT_OPP_RATE = {"Enterprise": 1.5, "Mid-Market": 1.0, "SMB": 0.85}  # relative arrival
SEGMENT_RAMP_MONTHS = {"Enterprise": 7, "Mid-Market": 5, "SMB": 3}
SEGMENT_OTE = {"Enterprise": 320_000.0, "Mid-Market": 210_000.0, "SMB": 140_000.0}
SEGMENT_VARIABLE_SHARE = {"Enterprise": 0.5, "Mid-Market": 0.5, "SMB": 0.4}

PRODUCTS = ("Core Platform", "Analytics", "Automation", "Premium Support")
PRODUCT_FAMILY = {
    "Core Platform": "Platform",
    "Analytics": "Add-on",
    "Automation": "Add-on",
    "Premium Support": "Services",
}
PRODUCT_SHARE = (0.55, 0.2, 0.17, 0.08)
PRODUCT_SIZE = (1.0, 0.55, 0.65, 0.3)
PRODUCT_WIN_LOGIT = (0.0, 0.15, -0.1, 0.45)

# Stages: name, default probability. Closed stages follow.
OPEN_STAGES = (
    ("Prospecting", 0.10),
    ("Qualification", 0.20),
    ("Solution", 0.40),
    ("Proposal", 0.60),
    ("Negotiation", 0.80),
)
WON_STAGE = "Closed Won"
LOST_STAGE = "Closed Lost"
# Where lost deals die: probability of the highest stage reached (1..5).
LOST_MAX_STAGE_P = (0.32, 0.26, 0.20, 0.14, 0.08)
LOST_REASONS = ("No decision", "Price", "Competitor", "Timing", "Lost to status quo", "No budget")
LOST_REASON_P = (0.28, 0.2, 0.22, 0.12, 0.1, 0.08)

INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Media",
    "Education",
    "Public Sector",
    "Energy",
    "Telecom",
    "Logistics",
    "Professional Services",
)
INDUSTRY_SHARE = (0.14, 0.11, 0.1, 0.13, 0.09, 0.05, 0.05, 0.05, 0.05, 0.04, 0.07, 0.12)
# Potential per employee relative to the average, and revenue per employee (USD thousands).
INDUSTRY_POTENTIAL = (1.6, 1.4, 1.1, 0.8, 0.7, 1.0, 0.6, 0.7, 0.9, 1.2, 0.8, 1.1)
INDUSTRY_REVENUE_PER_EMPLOYEE = (320, 450, 220, 260, 180, 280, 120, 150, 600, 380, 240, 200)

# Behaviour over time.
ANNUAL_GROWTH = 0.12  # opportunity creation grows this much a year
ANNUAL_ATTRITION = 0.21  # AE departure hazard per year (voluntary + involuntary)
TIME_TO_FILL_MONTHS = (1, 5)  # uniform range, inclusive
# Opportunity creation by fiscal month (1..12): budget flush before year end, summer lull.
CREATION_SEASONALITY = (0.9, 0.95, 1.0, 0.95, 0.85, 0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.0)
QUARTER_END_PULL = 0.22  # share of deals whose close date is pulled to the quarter's last days
YEAR_END_PULL = 0.32  # the same in the fourth fiscal quarter
OVER_ASSIGNMENT = 0.12  # quotas add up to targets x (1 + this)
TARGET_GROWTH = 0.25  # targets grow this much over the trailing year's bookings
