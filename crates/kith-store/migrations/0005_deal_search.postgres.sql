-- Substring search over deals on PostgreSQL: a trigram GIN index led by tenant_id.

CREATE INDEX deals_search ON deals USING gin (tenant_id, search_text public.gin_trgm_ops);
