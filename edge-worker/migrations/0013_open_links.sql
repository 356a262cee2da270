-- Open survey links (issue 15): one link that walk-in customers answer, one response per
-- browser, at most the cap the tenant set when minting it. A response records the open link
-- it came through; `open_links` counts each link's responses, kept by the rows' own triggers
-- so that the cap is checked inside the statement that writes an answer (never two answers
-- past it at once). Answers to ordinary links leave `open_link` NULL and this table alone.
ALTER TABLE responses ADD COLUMN open_link TEXT;
CREATE TABLE open_links (
  tenant_id TEXT NOT NULL,
  link_id TEXT NOT NULL,
  responses INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, link_id)
) WITHOUT ROWID;
CREATE TRIGGER open_link_answered AFTER INSERT ON responses WHEN NEW.open_link IS NOT NULL BEGIN
  INSERT INTO open_links (tenant_id, link_id, responses) VALUES (NEW.tenant_id, NEW.open_link, 1)
  ON CONFLICT DO UPDATE SET responses = responses + 1;
END;
CREATE TRIGGER open_link_unanswered AFTER DELETE ON responses WHEN OLD.open_link IS NOT NULL BEGIN
  UPDATE open_links SET responses = responses - 1
  WHERE tenant_id = OLD.tenant_id AND link_id = OLD.open_link;
END;
