-- One ledger chains every run's header through time, across runs. Each change of a run's
-- header (start, each step, finish, a seal) appends an entry holding the digest of the whole
-- header (user, question, answer, status, times, steps, head hash), chained to the entry
-- before it; with SPM_AUDIT_KEY each entry is also signed. Editing a header, deleting a run,
-- or restoring a run's earlier state no longer matches the ledger; cutting the ledger breaks
-- its chain (and, with a key, cannot be re-signed). `spm audit anchor` prints its head for
-- keeping elsewhere, which also catches a roll-back of the whole file.

CREATE TABLE audit_ledger (
    seq BIGINT PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    event VARCHAR NOT NULL,          -- start | step | finish | seal
    header_digest VARCHAR NOT NULL,  -- sha256 of the run header's canonical JSON after this event
    recorded_at TIMESTAMP NOT NULL,
    prev_hash VARCHAR NOT NULL,      -- hash of entry seq - 1 (a fixed genesis for the first)
    hash VARCHAR NOT NULL,
    mac VARCHAR                      -- HMAC-SHA256 of hash with SPM_AUDIT_KEY, when set
);
