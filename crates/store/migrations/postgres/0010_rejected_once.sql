-- A rejected record is kept once: the same raw record rejected again for the same reason
-- (every poll re-reads it) counts a sighting instead of adding a copy. Rows kept before this
-- migration have no fingerprint and stay as they are.
ALTER TABLE rejected_records ADD COLUMN fingerprint BYTEA;
ALTER TABLE rejected_records ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE rejected_records ADD COLUMN seen_count BIGINT NOT NULL DEFAULT 1;
UPDATE rejected_records SET last_seen_at = rejected_at;
CREATE UNIQUE INDEX rejected_records_fingerprint ON rejected_records (fingerprint);
