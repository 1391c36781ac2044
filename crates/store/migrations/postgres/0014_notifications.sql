-- Notifications of alert history entries to configured endpoints. Each endpoint follows the
-- alert history in order from its position (the last entry it was given or skipped), under a
-- lease so that one server delivers for it at a time; each notification's delivery is logged
-- (attempts, last error, when delivered). The history itself is the durable outbox.
CREATE TABLE notification_endpoints (
    endpoint     TEXT        NOT NULL PRIMARY KEY,
    position     BIGINT      NOT NULL,
    lease_holder TEXT,
    lease_until  TIMESTAMPTZ
);

CREATE TABLE notification_deliveries (
    endpoint        TEXT        NOT NULL,
    position        BIGINT      NOT NULL,
    alert_id        TEXT        NOT NULL,
    kind            TEXT        NOT NULL,
    message_id      TEXT        NOT NULL,
    state           TEXT        NOT NULL,
    attempts        INTEGER     NOT NULL,
    last_error      TEXT,
    last_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    PRIMARY KEY (endpoint, position)
);
