-- The activity log: calls, meetings, emails, notes and tasks, done or planned.
--
-- An activity takes place at an instant (`occurred_at`, UTC) or is due on a day (`due_date`, a
-- date that never shifts); exactly one is set. `sort_at` is the instant every list orders by:
-- `occurred_at`, or the due date's start in UTC.

CREATE TABLE activities (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    type_id BIGINT NOT NULL,
    subject TEXT NOT NULL,
    -- The folded subject: one- or two-letter searches.
    name_sort TEXT NOT NULL,
    notes TEXT,
    client_id BIGINT,
    deal_id BIGINT,
    owner_id BIGINT,
    occurred_at {ts},
    due_date {date},
    sort_at {ts} NOT NULL,
    duration INTEGER,
    outcome TEXT,
    follow_up_date {date},
    completed_at {ts},
    completed_by BIGINT,
    -- The activity whose completion scheduled this one.
    follow_up_of BIGINT,
    search_text TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version BIGINT NOT NULL,
    {tenant_key},
    CHECK ((occurred_at IS NULL) <> (due_date IS NULL)),
    FOREIGN KEY (tenant_id, type_id) REFERENCES list_values (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, completed_by) REFERENCES users (tenant_id, id)
);
-- Lists order by `sort_at` and then `id`; each filter has an index led by its column.
CREATE INDEX activities_by_time ON activities (tenant_id, sort_at, id);
CREATE INDEX activities_by_owner ON activities (tenant_id, owner_id, sort_at, id);
CREATE INDEX activities_by_client ON activities (tenant_id, client_id, sort_at, id);
CREATE INDEX activities_by_deal ON activities (tenant_id, deal_id, sort_at, id);
CREATE INDEX activities_by_type ON activities (tenant_id, type_id, sort_at, id);
-- Open work ("My follow-ups", overdue, due today) is a small part of a long log.
CREATE INDEX activities_open ON activities (tenant_id, owner_id, sort_at, id)
    WHERE completed_at IS NULL;

CREATE TABLE activity_contacts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    activity_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, activity_id, contact_id),
    FOREIGN KEY (tenant_id, activity_id) REFERENCES activities (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX activity_contacts_by_contact ON activity_contacts (tenant_id, contact_id, activity_id);

-- Each user's private calendar feed: only a hash of the token is kept, so a leaked database
-- does not leak feeds; revoking deletes the row.
CREATE TABLE calendar_feeds (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    user_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at {ts} NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX calendar_feeds_by_token ON calendar_feeds (token_hash);
