-- The carbonmesh version each connector run was made by. An import skips a row it read before
-- (same raw hash) only when the record was written by a run of the same version: a newer
-- version may normalize the same row differently. Older runs have none, so their rows are
-- normalized again once.
ALTER TABLE connector_runs ADD COLUMN carbonmesh_version TEXT;
