/**
 * The SQLite index beside the audit log: one row per line of the log (where it is, and the fields
 * reviewers filter on), one per verdict and per verdict category, the checkpoints, the chain
 * problems found while indexing, and the distinct values offered in the filters. The log stays the
 * record: the detail view and exports read each line back from its file.
 */
/** Bumped when what a line indexes as changes, so an older index is rebuilt (2: checkpoints carry no API key id; 3: `requests`, what a refusal summary stands for; stream starts; partial and unchecked answers in the summary; 4: the chain check's state carries the highest seq, so an index from before is rebuilt rather than read as a changed file). */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  name TEXT PRIMARY KEY,
  indexed_bytes INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  prefix_sha256 TEXT NOT NULL,
  first_id INTEGER,
  state_after TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY,
  file TEXT NOT NULL,
  line INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL,
  seq INTEGER,
  hash TEXT,
  ts TEXT,
  kind TEXT NOT NULL,
  received_ms INTEGER,
  request_id TEXT,
  client_request_id TEXT,
  trace_id TEXT,
  app TEXT,
  key_id TEXT,
  route TEXT,
  action TEXT,
  status INTEGER,
  policy_id TEXT,
  policy_version TEXT,
  rules TEXT,
  summary TEXT,
  error_type TEXT,
  total_ms REAL,
  capture TEXT,
  -- The requests a line stands for: 1, or a refusal summary's count (audit.refusals).
  requests INTEGER NOT NULL DEFAULT 1,
  problem INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_received ON records(received_ms);
CREATE INDEX IF NOT EXISTS records_app ON records(app, received_ms);
CREATE INDEX IF NOT EXISTS records_action ON records(action, received_ms);
CREATE INDEX IF NOT EXISTS records_request ON records(request_id);
CREATE INDEX IF NOT EXISTS records_client_request ON records(client_request_id);
CREATE INDEX IF NOT EXISTS records_trace ON records(trace_id);
CREATE INDEX IF NOT EXISTS records_key ON records(key_id);
CREATE INDEX IF NOT EXISTS records_policy ON records(policy_id, policy_version);
CREATE INDEX IF NOT EXISTS records_position ON records(file, line);
CREATE TABLE IF NOT EXISTS verdicts (
  id INTEGER PRIMARY KEY,
  record_id INTEGER NOT NULL,
  received_ms INTEGER,
  direction TEXT,
  guard TEXT,
  label TEXT,
  rule_id TEXT,
  mode TEXT,
  outcome TEXT,
  score REAL,
  latency_ms REAL,
  deciding INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_record ON verdicts(record_id);
CREATE INDEX IF NOT EXISTS verdicts_guard ON verdicts(guard, record_id);
CREATE INDEX IF NOT EXISTS verdicts_rule ON verdicts(rule_id, record_id);
CREATE TABLE IF NOT EXISTS verdict_categories (
  verdict_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  category TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS categories_category ON verdict_categories(category, record_id);
CREATE INDEX IF NOT EXISTS categories_verdict ON verdict_categories(verdict_id);
CREATE TABLE IF NOT EXISTS checkpoints (
  record_id INTEGER PRIMARY KEY,
  seq INTEGER,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  prev_seq INTEGER,
  prev_hash TEXT,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS problems (
  id INTEGER PRIMARY KEY,
  record_id INTEGER,
  file TEXT NOT NULL,
  line INTEGER NOT NULL,
  seq INTEGER,
  kind TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facets (dimension TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (dimension, value)) WITHOUT ROWID;
`;

/** Dimensions whose distinct values the filter form offers. */
export const FACETS = ['app', 'key_id', 'route', 'guard', 'label', 'rule', 'policy_id', 'policy_version', 'category'] as const;
export type Facet = (typeof FACETS)[number];
