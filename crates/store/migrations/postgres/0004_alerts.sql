-- Double-counting alerts and their append-only review history. An alert's id derives from its
-- kind and evidence, so the matcher re-finding it updates the row instead of adding one; the
-- payload holds the whole alert (evidence included) as JSON, status and assignee are also
-- columns so a transition is one compare-and-set.
CREATE TABLE alerts (
    id         TEXT NOT NULL PRIMARY KEY,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL,
    status     TEXT NOT NULL,
    assignee   TEXT,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    payload    TEXT NOT NULL
);
CREATE INDEX alerts_status ON alerts (status, severity);

CREATE TABLE alert_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    reason      TEXT,
    note        TEXT
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, seq);
