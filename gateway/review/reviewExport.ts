import type { Response } from 'express';
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { AuditIndex } from './auditIndex';
import { csvHeader, csvRow } from './exportFormat';
import { exportIdsQuery } from './queryBuilder';
import type { ReviewFilter } from './reviewFilter';
import { writeWithBackpressure as write } from '../responseWrite';

const SLICE = 2000;
/** A chunk is written once it holds this much: records with captured content can be megabytes each. */
const FLUSH_CHARS = 1 << 20;

/**
 * Streams the filtered records, in chain order, read back from the log files: JSONL is each line as
 * it stands in the log (its hashes still verifiable), CSV the flat columns of exportFormat.ts.
 * Written slice by slice with backpressure, so a million-record export holds little memory.
 */
export async function streamExport(index: AuditIndex, auditDir: string, filter: ReviewFilter, format: 'jsonl' | 'csv', res: Response): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  res.status(200);
  res.setHeader('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="audit-export-${stamp}.${format}"`);
  if (format === 'csv') await write(res, csvHeader());
  const fds = new Map<string, number>();
  const fdOf = (file: string) => {
    let fd = fds.get(file);
    if (fd === undefined) {
      fd = openSync(path.join(auditDir, path.basename(file)), 'r');
      fds.set(file, fd);
    }
    return fd;
  };
  try {
    let after = 0;
    for (;;) {
      if (res.destroyed) return;
      const q = exportIdsQuery(filter, after, SLICE);
      const rows = index.db.prepare(q.sql).all(...q.params) as { id: number; file: string; line: number; offset: number; length: number }[];
      if (rows.length === 0) break;
      let chunk = '';
      for (const row of rows) {
        const buf = Buffer.alloc(row.length);
        const n = readSync(fdOf(row.file), buf, 0, row.length, row.offset);
        const text = buf.toString('utf8', 0, n);
        if (format === 'jsonl') chunk += `${text}\n`;
        else {
          let record: Record<string, unknown> | undefined;
          try {
            const parsed: unknown = JSON.parse(text);
            record = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
          } catch {
            record = undefined;
          }
          chunk += csvRow(record, { file: row.file, line: row.line });
        }
        if (chunk.length >= FLUSH_CHARS) {
          await write(res, chunk);
          chunk = '';
        }
      }
      after = rows[rows.length - 1].id;
      if (chunk) await write(res, chunk);
    }
    res.end();
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}
