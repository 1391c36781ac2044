-- Indexes for the API's read queries. Every index on credit_records slows the batch upsert,
-- so only those a query cannot do without are added; the others run as filters on a walk
-- of an index the order needs, or as a scan (counts and statistics over most records).

-- Serial overlap lookups. A range query on (serial_namespace, serial_start) alone must scan
-- every block that starts before the queried range's end, since any of them could be long
-- enough to reach it. Blocks are bucketed by length instead: bucket 0 holds one-unit blocks,
-- bucket b (1..31) blocks of 4^(b-1) to 4^b units, bucket 32 anything longer. A block of
-- bucket b overlapping start..=end starts between start - (4^b - 1) and end, so a lookup is
-- one short index range per bucket (see rows::credits_overlapping). The bucket is a virtual
-- column: computed when a row is indexed, never stored in the table.
ALTER TABLE credit_records ADD COLUMN serial_bucket INTEGER GENERATED ALWAYS AS (
    CASE
        WHEN serial_end - serial_start < 1 THEN 0
        WHEN serial_end - serial_start < 4 THEN 1
        WHEN serial_end - serial_start < 16 THEN 2
        WHEN serial_end - serial_start < 64 THEN 3
        WHEN serial_end - serial_start < 256 THEN 4
        WHEN serial_end - serial_start < 1024 THEN 5
        WHEN serial_end - serial_start < 4096 THEN 6
        WHEN serial_end - serial_start < 16384 THEN 7
        WHEN serial_end - serial_start < 65536 THEN 8
        WHEN serial_end - serial_start < 262144 THEN 9
        WHEN serial_end - serial_start < 1048576 THEN 10
        WHEN serial_end - serial_start < 4194304 THEN 11
        WHEN serial_end - serial_start < 16777216 THEN 12
        WHEN serial_end - serial_start < 67108864 THEN 13
        WHEN serial_end - serial_start < 268435456 THEN 14
        WHEN serial_end - serial_start < 1073741824 THEN 15
        WHEN serial_end - serial_start < 4294967296 THEN 16
        WHEN serial_end - serial_start < 17179869184 THEN 17
        WHEN serial_end - serial_start < 68719476736 THEN 18
        WHEN serial_end - serial_start < 274877906944 THEN 19
        WHEN serial_end - serial_start < 1099511627776 THEN 20
        WHEN serial_end - serial_start < 4398046511104 THEN 21
        WHEN serial_end - serial_start < 17592186044416 THEN 22
        WHEN serial_end - serial_start < 70368744177664 THEN 23
        WHEN serial_end - serial_start < 281474976710656 THEN 24
        WHEN serial_end - serial_start < 1125899906842624 THEN 25
        WHEN serial_end - serial_start < 4503599627370496 THEN 26
        WHEN serial_end - serial_start < 18014398509481984 THEN 27
        WHEN serial_end - serial_start < 72057594037927936 THEN 28
        WHEN serial_end - serial_start < 288230376151711744 THEN 29
        WHEN serial_end - serial_start < 1152921504606846976 THEN 30
        WHEN serial_end - serial_start < 4611686018427387904 THEN 31
        ELSE 32 END
) VIRTUAL;

-- The bucketed index serves every lookup the plain serial index served (its prefix is the
-- namespace), so it replaces it: the upsert keeps the same number of indexes for serials.
-- Records without a serial are left out of it.
DROP INDEX credit_records_serial;
CREATE INDEX credit_records_serial_bucket ON credit_records
    (serial_namespace, serial_bucket, serial_start) WHERE serial_namespace IS NOT NULL;

-- Credit listings newest event first: the index is the listing's order (records without a
-- date last), so a page reads limit + 1 entries instead of sorting every record.
CREATE INDEX credit_records_event_date ON credit_records
    (event_date DESC, registry, record_key);

-- The change feed: versions written since a time, in (time, registry, key) order. Superseded
-- versions are found through record_versions_recorded.
CREATE INDEX credit_records_updated ON credit_records (updated_at, registry, record_key);
CREATE INDEX projects_updated ON projects (updated_at, registry, registry_project_id);

-- No index on vintage: a vintage filter keeps most of a registry's records, so walking the
-- listing's order and filtering beats an index that would be read and then sorted, and it
-- would cost every upsert.

-- Alerts most severe first, then newest evidence, then id (see rows::ALERT_RANK).
CREATE INDEX alerts_order ON alerts (
    (CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
        WHEN 'low' THEN 3 ELSE 4 END),
    last_seen DESC, id);

-- Rejected records newest first per connector: (connector, rejected_at) exists, but pages
-- continue after an id.
CREATE INDEX rejected_records_connector_id ON rejected_records (connector, id);
