-- Records whose serial names a batch rather than units (a Cercarbono retirement published
-- without positions) have no range to look them up by: their serial text is, and only
-- theirs is indexed.
CREATE INDEX credits_unranged_serial ON credits (serial)
    WHERE serial IS NOT NULL AND namespace IS NULL;
