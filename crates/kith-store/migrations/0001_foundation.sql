-- Kith's foundation: tenants, users, sessions, API tokens, pick lists, tags, clients, contacts.
--
-- One definition for both backends. Before it runs, `{serial}`, `{tenant_key}`, `{ts}` and
-- `{global_serial}` are replaced with each backend's spelling (see migrations.rs). Every
-- tenant-owned table is keyed and indexed by `tenant_id` first, so the schema can later be
-- distributed by tenant.

CREATE TABLE tenants (
    id {global_serial},
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    default_country TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at {ts} NOT NULL
);

CREATE TABLE users (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    {tenant_key},
    UNIQUE (tenant_id, email_normalized)
);

-- Sign-in starts from an email alone, before the tenant is known, so this directory maps each
-- login email to its user. It is the one lookup that is not scoped by tenant.
CREATE TABLE login_emails (
    email_normalized TEXT NOT NULL PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- The session cookie carries the tenant id and a random secret; only the secret's SHA-256 is
-- stored.
CREATE TABLE sessions (
    tenant_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    tenant_id BIGINT NOT NULL,
    id {serial},
    user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    read_only BOOLEAN NOT NULL,
    expires_at {ts},
    last_used_at {ts},
    created_at {ts} NOT NULL,
    {tenant_key},
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX api_tokens_by_user ON api_tokens (tenant_id, user_id);

-- Tenant-defined pick lists: client type, lifecycle, industry.
CREATE TABLE list_values (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    list TEXT NOT NULL,
    label TEXT NOT NULL,
    label_folded TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    {tenant_key},
    UNIQUE (tenant_id, list, label_folded)
);

CREATE TABLE tags (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    {tenant_key},
    UNIQUE (tenant_id, name_folded)
);

CREATE TABLE clients (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    name TEXT NOT NULL,
    name_sort TEXT NOT NULL,
    domains TEXT,
    website TEXT,
    phone TEXT,
    phone_e164 TEXT,
    address TEXT,
    type_id BIGINT,
    lifecycle_id BIGINT,
    industry_id BIGINT,
    owner_id BIGINT,
    parent_id BIGINT,
    notes TEXT,
    search_text TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version BIGINT NOT NULL,
    {tenant_key},
    FOREIGN KEY (tenant_id, type_id) REFERENCES list_values (tenant_id, id),
    FOREIGN KEY (tenant_id, lifecycle_id) REFERENCES list_values (tenant_id, id),
    FOREIGN KEY (tenant_id, industry_id) REFERENCES list_values (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX clients_by_name ON clients (tenant_id, name_sort, id);
CREATE INDEX clients_by_created ON clients (tenant_id, created_at, id);
CREATE INDEX clients_by_updated ON clients (tenant_id, updated_at, id);
CREATE INDEX clients_by_industry ON clients (tenant_id, industry_id, name_sort, id);
CREATE INDEX clients_by_lifecycle ON clients (tenant_id, lifecycle_id, name_sort, id);
CREATE INDEX clients_by_type ON clients (tenant_id, type_id, name_sort, id);
CREATE INDEX clients_by_owner ON clients (tenant_id, owner_id, name_sort, id);
CREATE INDEX clients_by_parent ON clients (tenant_id, parent_id);

CREATE TABLE client_tags (
    tenant_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    tag_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, tag_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX client_tags_by_tag ON client_tags (tenant_id, tag_id, client_id);

CREATE TABLE contacts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    client_id BIGINT,
    first_name TEXT,
    last_name TEXT,
    name_sort TEXT NOT NULL,
    title TEXT,
    email TEXT,
    email_normalized TEXT,
    other_emails TEXT,
    types TEXT NOT NULL,
    preferred_channel TEXT NOT NULL,
    email_opt_out BOOLEAN NOT NULL,
    email_opt_out_at {ts},
    email_opt_out_source TEXT,
    phone_opt_out BOOLEAN NOT NULL,
    phone_opt_out_at {ts},
    phone_opt_out_source TEXT,
    sms_opt_out BOOLEAN NOT NULL,
    sms_opt_out_at {ts},
    sms_opt_out_source TEXT,
    owner_id BIGINT,
    notes TEXT,
    search_text TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version BIGINT NOT NULL,
    {tenant_key},
    UNIQUE (tenant_id, email_normalized),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX contacts_by_name ON contacts (tenant_id, name_sort, id);
CREATE INDEX contacts_by_client ON contacts (tenant_id, client_id, name_sort, id);
CREATE INDEX contacts_by_owner ON contacts (tenant_id, owner_id, name_sort, id);
CREATE INDEX contacts_by_created ON contacts (tenant_id, created_at, id);
CREATE INDEX contacts_by_updated ON contacts (tenant_id, updated_at, id);

CREATE TABLE contact_phones (
    tenant_id BIGINT NOT NULL,
    id {serial},
    contact_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    raw TEXT NOT NULL,
    e164 TEXT,
    {tenant_key},
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_phones_by_contact ON contact_phones (tenant_id, contact_id, position);
CREATE INDEX contact_phones_by_e164 ON contact_phones (tenant_id, e164);

CREATE TABLE contact_tags (
    tenant_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    tag_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, contact_id, tag_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_tags_by_tag ON contact_tags (tenant_id, tag_id, contact_id);

-- Every change of a contact's opt-out, with who or what made it.
CREATE TABLE consent_events (
    tenant_id BIGINT NOT NULL,
    id {serial},
    contact_id BIGINT NOT NULL,
    channel TEXT NOT NULL,
    opted_out_before BOOLEAN NOT NULL,
    opted_out_after BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    user_id BIGINT,
    occurred_at {ts} NOT NULL,
    {tenant_key},
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX consent_events_by_contact ON consent_events (tenant_id, contact_id, occurred_at);
