-- The deal pipeline: stages, deals with their contacts, and each deal's stage history.
--
-- Money is an integer of minor units beside an ISO 4217 code; dates without a time are
-- `{date}`. A deal's stage history keeps the stage names of the moment, so renaming or deleting
-- a stage never rewrites the past.

CREATE TABLE stages (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    name TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    color TEXT NOT NULL,
    probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    is_won BOOLEAN NOT NULL,
    is_lost BOOLEAN NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version BIGINT NOT NULL,
    {tenant_key},
    CHECK (NOT (is_won AND is_lost))
);
CREATE INDEX stages_by_order ON stages (tenant_id, sort_order);

CREATE TABLE deals (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    title TEXT NOT NULL,
    -- The folded title: sorting and one- or two-letter searches.
    name_sort TEXT NOT NULL,
    client_id BIGINT,
    value BIGINT NOT NULL,
    recurring_value BIGINT,
    recurring_period TEXT,
    currency TEXT NOT NULL,
    owner_id BIGINT,
    expected_close {date},
    source_id BIGINT,
    stage_id BIGINT NOT NULL,
    probability INTEGER NOT NULL,
    -- value × probability / 100 rounded half away from zero, kept by every write so that each
    -- total is a plain SUM of the same per-deal figures.
    weighted_value BIGINT NOT NULL,
    close_date {date},
    lost_reason TEXT,
    notes TEXT,
    search_text TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version BIGINT NOT NULL,
    {tenant_key},
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, source_id) REFERENCES list_values (tenant_id, id),
    FOREIGN KEY (tenant_id, stage_id) REFERENCES stages (tenant_id, id)
);
-- The board reads a tenant's deals stage by stage.
CREATE INDEX deals_by_stage ON deals (tenant_id, stage_id, id);
CREATE INDEX deals_by_client ON deals (tenant_id, client_id);
CREATE INDEX deals_by_name ON deals (tenant_id, name_sort, id);
CREATE INDEX deals_by_owner ON deals (tenant_id, owner_id);
CREATE INDEX deals_by_expected_close ON deals (tenant_id, expected_close);

CREATE TABLE deal_contacts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    deal_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (tenant_id, deal_id, contact_id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deal_contacts_by_contact ON deal_contacts (tenant_id, contact_id);

-- No foreign key to stages: the history outlives the stages it names.
CREATE TABLE deal_stage_changes (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    deal_id BIGINT NOT NULL,
    from_stage_id BIGINT,
    from_stage_name TEXT,
    to_stage_id BIGINT NOT NULL,
    to_stage_name TEXT NOT NULL,
    changed_at {ts} NOT NULL,
    changed_by BIGINT,
    {tenant_key},
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deal_stage_changes_by_deal ON deal_stage_changes (tenant_id, deal_id, id);
