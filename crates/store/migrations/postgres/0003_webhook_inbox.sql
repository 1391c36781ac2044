-- The webhook inbox: every verified delivery is written here before the sender gets its 2xx,
-- then applied by a worker. The (connector, id) key makes a redelivery a no-op; rows are kept
-- for the retention period after they were received, then pruned.
CREATE TABLE webhook_deliveries (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connector    TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    verification TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    processed_at TIMESTAMPTZ,
    -- A worker holds a pending row until lease_until; a row whose lease ran out (its worker
    -- died, or a retry is due) may be claimed again.
    lease_holder TEXT,
    lease_until  TIMESTAMPTZ,
    UNIQUE (connector, id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (status, lease_until);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);

-- Requests refused at the door, counted by connector and reason.
CREATE TABLE webhook_rejections (
    connector TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    count     BIGINT  NOT NULL,
    last_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connector, reason)
);
