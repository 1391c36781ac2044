-- Retracted credit records: no longer published by their registry (a complete sync did not
-- list them). The row stays, as a new version with the time of the retraction, so the record
-- reads as it was before that time; current queries and the totals leave it out. A record
-- read again is brought back as a new version. Superseded versions keep the mark.
ALTER TABLE credits ADD COLUMN retracted_at TIMESTAMPTZ;
ALTER TABLE credit_versions ADD COLUMN retracted_at TIMESTAMPTZ;
-- Statistics of the new column, so that the planner knows `retracted_at IS NULL` holds for
-- nearly every row.
ANALYZE credits;
