-- Where a connector's feed stopped when a run ended part-way; the next run resumes there.
CREATE TABLE checkpoints (
    connector  TEXT NOT NULL,
    feed       TEXT NOT NULL,
    cursor     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (connector, feed)
);

-- One row per scheduled poll: the instance whose insert lands runs it, so instances sharing
-- the database poll once per tick (a portable lease: no advisory locks).
CREATE TABLE schedule_claims (
    connector  TEXT NOT NULL,
    tick       TEXT NOT NULL,
    holder     TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (connector, tick)
);
