-- The agent's audit trail: one row per run, one row per step, steps hash-chained so that an
-- edited, deleted or reordered step is detected (`spm audit verify`). Rows are only ever
-- appended; a run's status and head move forward as steps arrive.

CREATE TABLE audit_runs (
    run_id VARCHAR PRIMARY KEY,
    thread_id VARCHAR,
    user_id VARCHAR,
    interface VARCHAR NOT NULL,      -- cli | chat | slack | batch | python
    question VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    status VARCHAR NOT NULL,         -- running | ok | clarify | needs_approval | error (running = incomplete)
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    code_version VARCHAR NOT NULL,   -- package version + hash of the tools' source
    steps INTEGER NOT NULL DEFAULT 0,
    head_hash VARCHAR,               -- hash of the last step (detects a truncated trail)
    answer VARCHAR,
    grounding VARCHAR                -- JSON of the grounding check
);

CREATE TABLE audit_steps (
    run_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,           -- question | plan | llm_call | tool_call | tool_result | recommendation | approval | error
    name VARCHAR,
    args VARCHAR,                    -- canonical JSON
    summary VARCHAR,
    result_digest VARCHAR,           -- sha256 of the canonical JSON of a tool result
    data_fingerprint VARCHAR,
    duration_ms DOUBLE,
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL,
    PRIMARY KEY (run_id, seq)
);
