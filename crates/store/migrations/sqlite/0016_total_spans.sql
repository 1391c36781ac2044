-- The first and last event day of the records of each total, for project roll-ups (first and
-- last issuance and retirement), kept with every write like the sums (days since 1970-01-01).
ALTER TABLE credit_totals ADD COLUMN first_day INTEGER;
ALTER TABLE credit_totals ADD COLUMN last_day INTEGER;
UPDATE credit_totals SET
    first_day = (SELECT MIN(c.event_day) FROM credits c WHERE c.project = credit_totals.project
        AND c.registry = credit_totals.registry AND COALESCE(c.vintage, 0) = credit_totals.vintage
        AND c.kind = credit_totals.kind AND c.status = credit_totals.status),
    last_day = (SELECT MAX(c.event_day) FROM credits c WHERE c.project = credit_totals.project
        AND c.registry = credit_totals.registry AND COALESCE(c.vintage, 0) = credit_totals.vintage
        AND c.kind = credit_totals.kind AND c.status = credit_totals.status);
