import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { auditLines, listAuditFiles } from '../audit/auditFiles';
import { formatEntries, formatStats, type OutputFormat } from '../audit/auditFormat';
import type { AuditAction } from '../audit/auditEntry';
import { auditStats, ENTRY_KINDS, matches, parseTime, readAllEntries, unfinishedStreams, type AuditFilter, type EntryKind } from '../audit/auditQuery';
import { parseAnchor, verifyChain, type ChainAnchor } from '../audit/chainVerifier';
import { verifyCheckpoints } from '../audit/checkpointVerifier';
import { loadPublicKey, SigningKeyError } from '../audit/signingKey';
import { ConfigError, loadConfig } from '../config';
import { runKeygen } from './auditKeygen';
import type { CommandIo } from './commandIo';

const USAGE = `usage: safety-gateway audit <command> [options]

commands:
  query   decisions matching the filters   [--since T] [--until T] [--app A] [--kind decision|unauthenticated|rate_limited|invalid_request|policy_unavailable]
                                           [--action allow|flag|block|error] [--guard G] [--category C] [--rule R]
                                           [--outcome allow|flag|block|error] what a verdict's rule did (with --rule:
                                           the requests that rule blocked, flagged...; --rule alone: every request it read)
                                           [--format table|jsonl|csv] [--limit N]
  verify  check the hash chain: exit 0 when intact, 1 with each problem and where it is
                                           [--public-key FILE]... also check every signed checkpoint
                                           [--after SEQ:HASH] older files were archived and removed: the log must
                                           continue from their last record (as verify printed it before archiving)
  keygen  write a new Ed25519 key pair for signed checkpoints  --out DIR
  stats   counts by kind, action, refusal reason, guard, category and app
                                           [--since T] [--until T] [--app A] [--kind K] [--format table|jsonl|csv]

options for all: --dir DIR (default: SAFETY_AUDIT_DIR, else audit.dir of --config / SAFETY_CONFIG, else ./.audit)
times: ISO 8601 (2025-06-01T12:00:00Z) or an age before now (30m, 24h, 7d)
`;

/** `safety-gateway audit query|verify|stats`: reads the audit log; never writes to it. */
export function auditCommand(args: string[]): Promise<number> {
  return runAudit(args, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env });
}

export async function runAudit(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
    io.out(USAGE);
    return sub ? 0 : 2;
  }
  if (sub === 'keygen') return runKeygen(rest, io);
  if (sub !== 'query' && sub !== 'verify' && sub !== 'stats') {
    io.err(`safety-gateway audit: unknown command "${sub}"\n\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | undefined>;
  let publicKeyFiles: string[] = [];
  try {
    const { values: parsed } = parseArgs({
      args: rest,
      options: {
        dir: { type: 'string' },
        config: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        app: { type: 'string' },
        action: { type: 'string' },
        kind: { type: 'string' },
        guard: { type: 'string' },
        category: { type: 'string' },
        rule: { type: 'string' },
        outcome: { type: 'string' },
        format: { type: 'string' },
        limit: { type: 'string' },
        'public-key': { type: 'string', multiple: true },
        after: { type: 'string' },
      },
      strict: true,
    });
    const { 'public-key': keys, ...others } = parsed;
    publicKeyFiles = keys ?? [];
    values = others;
  } catch (err) {
    io.err(`safety-gateway audit ${sub}: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let dir: string;
  let filter: AuditFilter;
  let format: OutputFormat;
  try {
    dir = auditDir(values, io.env);
    filter = toFilter(values);
    format = toFormat(values.format);
  } catch (err) {
    io.err(`safety-gateway audit ${sub}: ${(err as Error).message}\n`);
    return 2;
  }
  if (!existsSync(dir)) {
    io.err(`safety-gateway audit ${sub}: no audit directory at ${dir} (set --dir or SAFETY_AUDIT_DIR)\n`);
    return 2;
  }

  if (sub === 'verify') {
    const after = values.after === undefined ? undefined : parseAnchor(values.after);
    if (values.after !== undefined && !after) {
      io.err(`safety-gateway audit verify: --after must be SEQ:HASH, the last record as verify printed it (got "${values.after}")\n`);
      return 2;
    }
    return verify(dir, publicKeyFiles, io, after);
  }

  const { entries, unreadable, streamStarts } = readAllEntries(dir);
  const selected = entries.filter((e) => matches(e, filter));
  if (unreadable > 0) io.err(`warning: ${unreadable} unreadable line(s) skipped; run \`safety-gateway audit verify\`\n`);
  if (sub === 'stats') {
    const stats = auditStats(selected);
    const cut = unfinishedStreams(streamStarts, entries, filter);
    if (cut.length) stats.unfinishedStreams = { count: cut.length, first: cut.slice(0, 20).map((s) => ({ request_id: s.request_id, received_at: s.received_at, app: s.app, route: s.route })) };
    io.out(formatStats(stats, format));
    return 0;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    io.err(`safety-gateway audit query: --limit must be a positive integer\n`);
    return 2;
  }
  // --limit keeps the most recent matches.
  const shown = limit ? selected.slice(-limit) : selected;
  io.out(formatEntries(shown, format));
  // Records: decisions and refusals alike (--kind tells them apart).
  const cut = shown.length < selected.length ? `; the last ${shown.length} shown (--limit)` : '';
  if (format === 'table') io.err(`${selected.length} of ${entries.length} records in ${listAuditFiles(dir).length} file(s)${cut}\n`);
  return 0;
}

function verify(dir: string, publicKeyFiles: string[], io: CommandIo, after: ChainAnchor | undefined): number {
  const keys = new Map<string, KeyObject>();
  try {
    for (const file of publicKeyFiles) {
      const { publicKey, keyId } = loadPublicKey(file);
      keys.set(keyId, publicKey);
    }
  } catch (err) {
    io.err(`safety-gateway audit verify: ${err instanceof SigningKeyError ? err.message : String(err)}\n`);
    return 2;
  }
  const report = verifyChain(auditLines(dir), after);
  // An empty or wrong directory is not an intact log: a check pointed at it must not pass.
  if (report.files === 0) {
    const present = listAuditFiles(dir).length;
    io.out(present > 0 ? `FAILED: the audit log files in ${dir} (${present}) are empty: no records\n` : `FAILED: no audit log files in ${dir}\n`);
    return 1;
  }
  for (const p of report.problems) io.out(`${p.file}:${p.line}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}: ${p.kind}: ${p.message}\n`);
  if (report.writing) io.out(`note: ${report.writing.file}:${report.writing.line} is a record being written (no newline yet; the file changed ${Math.round(report.writing.unchangedMs)} ms ago): not checked, run verify again to include it\n`);
  // SEQ:HASH is what --after takes: note it before archiving these files.
  const head = report.head ? `; last record seq ${report.head.seq}, hash ${report.head.hash} (--after ${report.head.seq}:${report.head.hash})` : '';
  if (after && report.records > 0) io.out(`continues from the archived part's last record, seq ${after.seq}\n`);
  if (report.ok) io.out(`ok: ${report.records} records in ${report.files} file(s), hash chain intact${head}\n`);
  else io.out(`FAILED: ${report.problems.length} problem(s) in ${report.records} records, ${report.files} file(s)${head}\n`);
  if (keys.size === 0) {
    if (report.ok && report.head) io.out('(unkeyed check only: a rewrite of the whole chain would pass it; give --public-key to check the signed checkpoints. A removed tail shows only against an outside copy: compare the last hash with safety.audit.hash in the exported decision logs)\n');
    return report.ok ? 0 : 1;
  }
  const signed = verifyCheckpoints(auditLines(dir), keys, new Date(), after);
  for (const p of signed.problems) io.out(`${p.file ? `${p.file}:${p.line}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}: ` : ''}${p.kind}: ${p.message}\n`);
  for (const note of signed.notes) io.out(`note: ${note}\n`);
  const last = signed.last ? `; last checkpoint seq ${signed.last.seq} (${signed.last.reason}, ${signed.last.signedAt}, key ${signed.last.keyId})` : '';
  if (signed.ok) io.out(`ok: ${signed.valid} signed checkpoint(s) valid${last}\n`);
  else io.out(`FAILED: signed checkpoints: ${signed.problems.length} problem(s), ${signed.valid} of ${signed.checkpoints} checkpoint(s) valid${last}\n`);
  return report.ok && signed.ok ? 0 : 1;
}

function auditDir(values: Record<string, string | undefined>, env: NodeJS.ProcessEnv): string {
  if (values.dir) return values.dir;
  if (env.SAFETY_AUDIT_DIR) return env.SAFETY_AUDIT_DIR;
  if (values.config || env.SAFETY_CONFIG) {
    try {
      return loadConfig({ flags: { config: values.config }, env }).audit.dir;
    } catch (err) {
      throw new Error(err instanceof ConfigError ? err.message : String(err));
    }
  }
  return '.audit';
}

const ACTIONS: readonly AuditAction[] = ['allow', 'flag', 'block', 'error'];

function toFilter(values: Record<string, string | undefined>): AuditFilter {
  const action = values.action as AuditAction | undefined;
  if (action !== undefined && !ACTIONS.includes(action)) throw new Error(`--action must be allow, flag, block or error (got "${values.action}")`);
  const outcome = values.outcome as AuditAction | undefined;
  if (outcome !== undefined && !ACTIONS.includes(outcome)) throw new Error(`--outcome must be allow, flag, block or error (got "${values.outcome}")`);
  const kind = values.kind as EntryKind | undefined;
  if (kind !== undefined && !ENTRY_KINDS.includes(kind)) throw new Error(`--kind must be ${ENTRY_KINDS.join(', ')} (got "${values.kind}")`);
  return {
    since: values.since ? parseTime(values.since) : undefined,
    until: values.until ? parseTime(values.until) : undefined,
    app: values.app,
    kind,
    action,
    guard: values.guard,
    category: values.category,
    rule: values.rule,
    outcome,
  };
}

function toFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'table') return 'table';
  if (value === 'jsonl' || value === 'json') return 'jsonl';
  if (value === 'csv') return 'csv';
  throw new Error(`--format must be table, jsonl or csv (got "${value}")`);
}
