-- Substring search over activities on SQLite: an FTS5 trigram index like the deals'.

CREATE VIRTUAL TABLE activities_fts USING fts5(
    search_text, content = 'activities', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER activities_fts_insert AFTER INSERT ON activities BEGIN
    INSERT INTO activities_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER activities_fts_delete AFTER DELETE ON activities BEGIN
    INSERT INTO activities_fts (activities_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER activities_fts_update AFTER UPDATE OF search_text ON activities BEGIN
    INSERT INTO activities_fts (activities_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO activities_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
