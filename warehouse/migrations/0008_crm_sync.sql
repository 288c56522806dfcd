-- CRM connectors: how far each synced object has been read.
--
-- `crm_sync_state` holds one row per (source, object), e.g. ('salesforce', 'Opportunity'):
-- the highest SystemModstamp loaded so far (UTC), so the next sync asks only for records
-- changed after it. It is written in the same transaction as the records, so a failed or
-- rolled-back sync never advances it.

CREATE TABLE crm_sync_state (
    source VARCHAR NOT NULL,          -- salesforce
    object VARCHAR NOT NULL,          -- User | Account | Opportunity | OpportunityHistory
    high_water TIMESTAMP,             -- highest SystemModstamp read (UTC); NULL before the first sync
    synced_at TIMESTAMP NOT NULL,
    import_id VARCHAR,                -- the imports row of the sync that last advanced it
    records_read BIGINT NOT NULL DEFAULT 0,
    records_loaded BIGINT NOT NULL DEFAULT 0,
    records_rejected BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source, object)
);
