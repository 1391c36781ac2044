-- Who runs a connector run, and until when it is known to be alive: a run whose process was
-- killed is found and ended as `abandoned` instead of staying `running` forever.
ALTER TABLE connector_runs ADD COLUMN holder TEXT;
ALTER TABLE connector_runs ADD COLUMN lease_until TEXT;
