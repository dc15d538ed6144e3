-- Substring search over deals on SQLite: an FTS5 trigram index like the clients' and contacts'.

CREATE VIRTUAL TABLE deals_fts USING fts5(
    search_text, content = 'deals', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER deals_fts_insert AFTER INSERT ON deals BEGIN
    INSERT INTO deals_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER deals_fts_delete AFTER DELETE ON deals BEGIN
    INSERT INTO deals_fts (deals_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER deals_fts_update AFTER UPDATE OF search_text ON deals BEGIN
    INSERT INTO deals_fts (deals_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO deals_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
