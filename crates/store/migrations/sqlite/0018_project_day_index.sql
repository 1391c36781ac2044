-- The project index carries the event day: a total's span of days, read again when a record
-- at one of its ends is taken off, is then a seek in the project's entries instead of a walk
-- of all its records.
DROP INDEX IF EXISTS credits_project;
CREATE INDEX credits_project ON credits (project, event_day);
