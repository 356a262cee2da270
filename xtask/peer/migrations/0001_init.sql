-- The peer's schema: one row per link and a per-day rollup per survey kind and score, kept
-- by triggers inside the answer's own statement.
CREATE TABLE responses (
  tenant_id TEXT NOT NULL,
  link_id TEXT NOT NULL,
  survey TEXT NOT NULL,
  scale INTEGER NOT NULL,
  score INTEGER NOT NULL,
  channel TEXT NOT NULL,
  day TEXT NOT NULL,
  answered_at REAL NOT NULL,
  PRIMARY KEY (tenant_id, link_id)
);
CREATE TABLE daily (
  tenant_id TEXT NOT NULL,
  day TEXT NOT NULL,
  survey TEXT NOT NULL,
  score INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, day, survey, score)
);
CREATE TRIGGER responses_ins AFTER INSERT ON responses BEGIN
  INSERT INTO daily VALUES (NEW.tenant_id, NEW.day, NEW.survey, NEW.score, 1)
  ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER responses_upd AFTER UPDATE OF score ON responses BEGIN
  UPDATE daily SET n = n - 1
  WHERE tenant_id = OLD.tenant_id AND day = OLD.day AND survey = OLD.survey AND score = OLD.score;
  INSERT INTO daily VALUES (NEW.tenant_id, NEW.day, NEW.survey, NEW.score, 1)
  ON CONFLICT DO UPDATE SET n = n + 1;
END;
