-- Planning overlays (draft scenarios) and the users who may read and change the plan.

CREATE TABLE scenarios (
    scenario_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    kind VARCHAR NOT NULL,           -- territory | quota | forecast | capacity
    status VARCHAR NOT NULL DEFAULT 'draft',  -- draft | approved | applied | rejected
    created_by VARCHAR,
    created_at TIMESTAMP NOT NULL,
    base_fingerprint VARCHAR,        -- data fingerprint the scenario was computed on
    params VARCHAR,                  -- JSON of the tool input
    summary VARCHAR,
    metrics VARCHAR                  -- JSON of key metrics, for side-by-side comparison
);

-- One row per changed cell: applying a scenario sets column_name of the row identified by
-- row_key (JSON of the key columns) in table_name from old_value to new_value.
CREATE TABLE scenario_changes (
    scenario_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    old_value VARCHAR,
    new_value VARCHAR,
    PRIMARY KEY (scenario_id, seq)
);

CREATE TABLE users (
    user_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    email VARCHAR,
    slack_id VARCHAR,
    role VARCHAR NOT NULL,           -- admin | leader | manager | analyst | rep
    scope_kind VARCHAR NOT NULL,     -- all | region | segment | team | own
    scope_value VARCHAR,             -- the region, segment, manager rep_id or rep_id
    created_at TIMESTAMP NOT NULL
);
