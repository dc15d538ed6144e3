-- Quotes: what a tenant offers a client (and optionally a deal), line by line.
--
-- Numbers run per tenant (1, 2, 3…): the next is one past the tenant's highest, taken in the
-- writing transaction; the unique index turns a race between two writers into a retry. Every
-- figure is an integer of minor units of the quote's currency, rounded per line and stored as
-- computed, so each total is a plain sum of the same line figures on every screen.

CREATE TABLE quotes (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id {serial},
    number BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    deal_id BIGINT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'expired')),
    valid_until {date},
    currency TEXT NOT NULL,
    notes TEXT,
    -- Sums over the lines not marked optional.
    subtotal BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    -- The part of `total` from recurring lines: what the client pays each period.
    recurring_total BIGINT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version BIGINT NOT NULL,
    {tenant_key},
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id)
);
CREATE INDEX quotes_by_client ON quotes (tenant_id, client_id, id);
CREATE INDEX quotes_by_deal ON quotes (tenant_id, deal_id, id);
CREATE INDEX quotes_by_status ON quotes (tenant_id, status, id);
CREATE INDEX quotes_by_updated ON quotes (tenant_id, updated_at, id);

CREATE TABLE quote_lines (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    quote_id BIGINT NOT NULL,
    -- 0, 1, 2… in the order the lines are shown.
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    -- Hundredths of a unit: 150 is 1.5.
    quantity_hundredths BIGINT NOT NULL CHECK (quantity_hundredths > 0),
    unit_price BIGINT NOT NULL,
    discount_percent INTEGER NOT NULL CHECK (discount_percent BETWEEN 0 AND 100),
    tax_percent INTEGER NOT NULL CHECK (tax_percent BETWEEN 0 AND 100),
    optional BOOLEAN NOT NULL,
    recurring BOOLEAN NOT NULL,
    net BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, quote_id, position),
    FOREIGN KEY (tenant_id, quote_id) REFERENCES quotes (tenant_id, id) ON DELETE CASCADE
);
