-- A deal's id in the system it came from (a CRM export's opportunity id): the natural key that
-- lets an import find the deal again instead of creating it twice.

ALTER TABLE deals ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX deals_by_external_id ON deals (tenant_id, external_id);

-- The board's figures (count, value and weighted value per stage and currency) read from this
-- index alone.
CREATE INDEX deals_board_totals ON deals (tenant_id, stage_id, currency, value, weighted_value);
