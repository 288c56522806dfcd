-- Core sales model: dimensions, geography, territories, reps, accounts, pipeline and plans.
-- Dimension members are keyed by their names ("EMEA"), the way users and imports refer to them.
-- Referential rules are enforced by the importers and reported by the data checks instead of
-- foreign keys, because real CRM exports contain orphans that must be loaded and then fixed.

CREATE TABLE meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE regions (
    name VARCHAR PRIMARY KEY,
    sort_order INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE segments (
    name VARCHAR PRIMARY KEY,
    sort_order INTEGER NOT NULL DEFAULT 0,
    effort_weight DOUBLE NOT NULL DEFAULT 1.0  -- relative workload of one account, for territory balance
);

CREATE TABLE products (
    name VARCHAR PRIMARY KEY,
    family VARCHAR,
    sort_order INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE stages (
    name VARCHAR PRIMARY KEY,
    sort_order INTEGER NOT NULL,
    default_probability DOUBLE NOT NULL,
    is_closed BOOLEAN NOT NULL,
    is_won BOOLEAN NOT NULL
);

CREATE TABLE geos (
    country VARCHAR NOT NULL,        -- ISO 3166 alpha-2
    zip VARCHAR NOT NULL,            -- postal code as written in the country
    city VARCHAR,
    county VARCHAR,
    state VARCHAR,
    msa_code VARCHAR,                -- US CBSA code (HUD USPS crosswalk)
    msa_name VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    region VARCHAR,
    PRIMARY KEY (country, zip)
);

CREATE TABLE territories (
    territory_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    region VARCHAR,
    segment VARCHAR,
    rep_id VARCHAR                   -- current owner; NULL while the seat is vacant
);

-- Geographic rules: which territory covers a postal code for a segment.
CREATE TABLE territory_geos (
    territory_id VARCHAR NOT NULL,
    country VARCHAR NOT NULL,
    zip VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    PRIMARY KEY (country, zip, segment)
);

CREATE TABLE reps (
    rep_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    email VARCHAR,
    role VARCHAR NOT NULL,           -- AE carries a quota; Manager leads AEs
    region VARCHAR,
    segment VARCHAR,
    territory_id VARCHAR,
    manager_id VARCHAR,
    home_zip VARCHAR,
    home_country VARCHAR,
    hire_date DATE,
    end_date DATE,                   -- NULL while employed
    ote DOUBLE,                      -- on-target earnings per year
    ramp_months INTEGER
);

CREATE TABLE accounts (
    account_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    industry VARCHAR,
    employees INTEGER,
    annual_revenue DOUBLE,
    city VARCHAR,
    zip VARCHAR,
    country VARCHAR,
    region VARCHAR,
    segment VARCHAR,
    territory_id VARCHAR,
    owner_rep_id VARCHAR,
    arr DOUBLE NOT NULL DEFAULT 0,   -- annual recurring revenue today (0 for prospects)
    potential DOUBLE,                -- estimated annual spend available to us
    is_strategic BOOLEAN NOT NULL DEFAULT false,
    created_date DATE
);

CREATE TABLE opportunities (
    opp_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    account_id VARCHAR NOT NULL,
    owner_rep_id VARCHAR,
    product VARCHAR,
    type VARCHAR,                    -- New Business | Expansion
    created_date DATE NOT NULL,
    close_date DATE NOT NULL,
    stage VARCHAR NOT NULL,
    amount DOUBLE NOT NULL,
    is_closed BOOLEAN NOT NULL,
    is_won BOOLEAN NOT NULL,
    forecast_category VARCHAR,       -- Pipeline | Best Case | Commit | Closed | Omitted
    lost_reason VARCHAR,
    push_count INTEGER NOT NULL DEFAULT 0,
    stage_changed_date DATE
);

-- Every change of stage, amount, close date or forecast category, so an opportunity can be
-- seen as it stood on any past date.
CREATE TABLE opportunity_history (
    opp_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    changed_date DATE NOT NULL,
    stage VARCHAR NOT NULL,
    amount DOUBLE,
    close_date DATE,
    forecast_category VARCHAR,
    PRIMARY KEY (opp_id, seq)
);

CREATE TABLE bookings (
    booking_id VARCHAR PRIMARY KEY,
    date DATE NOT NULL,
    amount DOUBLE NOT NULL,
    region VARCHAR,
    segment VARCHAR,
    product VARCHAR,
    rep_id VARCHAR,
    account_id VARCHAR,
    opp_id VARCHAR
);

CREATE TABLE quotas (
    rep_id VARCHAR NOT NULL,
    period VARCHAR NOT NULL,         -- fiscal period name, e.g. FY2027-Q2
    amount DOUBLE NOT NULL,
    PRIMARY KEY (rep_id, period)
);

-- Company targets; region or segment 'All' spans every member.
CREATE TABLE targets (
    period VARCHAR NOT NULL,
    region VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    amount DOUBLE NOT NULL,
    PRIMARY KEY (period, region, segment)
);

CREATE TABLE comp_plans (
    plan_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    role VARCHAR,
    segment VARCHAR,
    fiscal_year INTEGER,
    variable_share DOUBLE NOT NULL,  -- share of OTE paid as variable at 100% attainment
    threshold DOUBLE NOT NULL DEFAULT 0,     -- attainment below which nothing is paid
    decelerator DOUBLE NOT NULL DEFAULT 1,   -- rate multiplier between threshold and 100%
    accelerators VARCHAR NOT NULL DEFAULT '[]',  -- JSON [{"from": 1.0, "multiplier": 1.5}, ...]
    cap DOUBLE                        -- maximum payout as a multiple of target variable
);

CREATE TABLE headcount_plan (
    req_id VARCHAR PRIMARY KEY,
    role VARCHAR NOT NULL,
    region VARCHAR,
    segment VARCHAR,
    territory_id VARCHAR,
    planned_start DATE NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'open',  -- open | filled | cancelled
    ote DOUBLE,
    backfill_for VARCHAR             -- rep_id of the departed rep this req replaces
);

CREATE TABLE imports (
    import_id VARCHAR PRIMARY KEY,
    imported_at TIMESTAMP NOT NULL,
    format VARCHAR NOT NULL,
    files VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    created_members VARCHAR
);
