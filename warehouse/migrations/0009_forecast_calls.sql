-- Forecast calls: a rep's number for their own book, or a manager's for their team, per fiscal
-- period and category, with a comment. A new submission for the same caller, period and
-- category is the next version; none is ever overwritten, so every past call stays readable
-- (and the caller's accuracy can be measured against what was booked).
CREATE TABLE forecast_calls (
    call_id VARCHAR PRIMARY KEY,
    caller_rep_id VARCHAR NOT NULL,   -- whose number it is (reps.rep_id)
    book VARCHAR NOT NULL,            -- own: the rep's own deals | team: the manager's team and own deals
    period VARCHAR NOT NULL,          -- fiscal period name, e.g. FY2027-Q4
    category VARCHAR NOT NULL,        -- commit | best_case
    amount DOUBLE NOT NULL,           -- the whole period's bookings called, booked so far included (USD)
    comment VARCHAR,
    version INTEGER NOT NULL,         -- 1, 2, ... per (caller, period, category)
    submitted_by VARCHAR NOT NULL,    -- the user who entered it (users.user_id)
    submitted_at TIMESTAMP NOT NULL,
    run_id VARCHAR,                   -- the audit run that recorded it
    UNIQUE (caller_rep_id, period, category, version)
);
