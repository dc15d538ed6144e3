-- Substring search on PostgreSQL: trigram GIN indexes over each table's folded `search_text`,
-- led by tenant_id (btree_gin) like every other index.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

CREATE INDEX clients_search ON clients USING gin (tenant_id, search_text public.gin_trgm_ops);
CREATE INDEX contacts_search ON contacts USING gin (tenant_id, search_text public.gin_trgm_ops);
