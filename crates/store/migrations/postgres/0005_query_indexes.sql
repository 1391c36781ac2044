-- Indexes for the API's read queries; mirrors the SQLite migration (see it for the reasons).

-- The length bucket of a serial block start..=end: 0 for one unit, b (1..31) for 4^(b-1) to
-- 4^b units, 32 beyond. An expression index on it needs no table rewrite; queries call the
-- same function, which PostgreSQL inlines in the query and the index alike.
CREATE FUNCTION carbonmesh_serial_bucket(bigint, bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN $2 - $1 < 1 THEN 0
        WHEN $2 - $1 < 4 THEN 1
        WHEN $2 - $1 < 16 THEN 2
        WHEN $2 - $1 < 64 THEN 3
        WHEN $2 - $1 < 256 THEN 4
        WHEN $2 - $1 < 1024 THEN 5
        WHEN $2 - $1 < 4096 THEN 6
        WHEN $2 - $1 < 16384 THEN 7
        WHEN $2 - $1 < 65536 THEN 8
        WHEN $2 - $1 < 262144 THEN 9
        WHEN $2 - $1 < 1048576 THEN 10
        WHEN $2 - $1 < 4194304 THEN 11
        WHEN $2 - $1 < 16777216 THEN 12
        WHEN $2 - $1 < 67108864 THEN 13
        WHEN $2 - $1 < 268435456 THEN 14
        WHEN $2 - $1 < 1073741824 THEN 15
        WHEN $2 - $1 < 4294967296 THEN 16
        WHEN $2 - $1 < 17179869184 THEN 17
        WHEN $2 - $1 < 68719476736 THEN 18
        WHEN $2 - $1 < 274877906944 THEN 19
        WHEN $2 - $1 < 1099511627776 THEN 20
        WHEN $2 - $1 < 4398046511104 THEN 21
        WHEN $2 - $1 < 17592186044416 THEN 22
        WHEN $2 - $1 < 70368744177664 THEN 23
        WHEN $2 - $1 < 281474976710656 THEN 24
        WHEN $2 - $1 < 1125899906842624 THEN 25
        WHEN $2 - $1 < 4503599627370496 THEN 26
        WHEN $2 - $1 < 18014398509481984 THEN 27
        WHEN $2 - $1 < 72057594037927936 THEN 28
        WHEN $2 - $1 < 288230376151711744 THEN 29
        WHEN $2 - $1 < 1152921504606846976 THEN 30
        WHEN $2 - $1 < 4611686018427387904 THEN 31
        ELSE 32 END
$$;

DROP INDEX credit_records_serial;
CREATE INDEX credit_records_serial_bucket ON credit_records
    (serial_namespace, carbonmesh_serial_bucket(serial_start, serial_end), serial_start)
    WHERE serial_namespace IS NOT NULL;

CREATE INDEX credit_records_event_date ON credit_records
    (event_date DESC NULLS LAST, registry, record_key);

CREATE INDEX credit_records_updated ON credit_records (updated_at, registry, record_key);
CREATE INDEX projects_updated ON projects (updated_at, registry, registry_project_id);

CREATE INDEX alerts_order ON alerts (
    (CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
        WHEN 'low' THEN 3 ELSE 4 END),
    last_seen DESC, id);

CREATE INDEX rejected_records_connector_id ON rejected_records (connector, id);
