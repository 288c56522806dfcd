-- A keyed signature of each run's header (steps, head hash), kept outside the hash chain:
-- with SPM_AUDIT_KEY set, cutting the tail of a trail and rewriting the header to match is
-- detected too, since the signature cannot be recomputed without the key.

ALTER TABLE audit_runs ADD COLUMN head_mac VARCHAR;
