-- First-run setup may happen once: the row with id 1 marks it done, and a second concurrent
-- setup fails on the primary key instead of creating a second workspace.
CREATE TABLE installation (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    set_up_at {ts} NOT NULL
);

-- Workspace names are how the CLI picks a workspace, so they must not repeat.
CREATE UNIQUE INDEX tenants_by_name ON tenants (name);

-- Every index leads with tenant_id; this one, used to expire sessions, did not.
DROP INDEX sessions_by_expiry;
CREATE INDEX sessions_by_tenant_expiry ON sessions (tenant_id, expires_at);
