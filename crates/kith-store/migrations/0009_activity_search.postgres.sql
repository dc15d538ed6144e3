-- Substring search over activities on PostgreSQL: a trigram GIN index led by tenant_id.

CREATE INDEX activities_search ON activities USING gin (tenant_id, search_text public.gin_trgm_ops);
