import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { claimIndex } from '../../../gateway/review/indexClaim';

/** One review process per index file: a lock beside it, touched while held, taken over once its holder is gone or silent. */
const fresh = () => path.join(mkdtempSync(path.join(tmpdir(), 'sg-claim-')), '.review-index.sqlite');
const lockOf = (holder: Record<string, unknown>) => `${JSON.stringify(holder)}\n`;

test('an index in a folder that does not exist yet: the folder is made and the index claimed', () => {
  const file = path.join(path.dirname(fresh()), 'review', 'index.sqlite');
  const claim = claimIndex(file);
  try {
    expect(claim).toMatchObject({ file, private: false });
    expect(existsSync(`${file}.lock`)).toBe(true);
  } finally {
    claim.release();
  }
  expect(existsSync(`${file}.lock`)).toBe(false);
});

test('a lock held by a live process of this host: a private copy; once that process ended, the index is taken over', async () => {
  const file = fresh();
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    // A pid of this host and pid namespace.
    const ns = (await import('../../../gateway/lockHolder')).PID_NAMESPACE;
    writeFileSync(`${file}.lock`, lockOf({ host: hostname(), ns, pid: other.pid, token: 'other' }));
    const copy = claimIndex(file);
    expect(copy.private).toBe(true);
    expect(copy.file).not.toBe(file);
    copy.release();
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  const taken = claimIndex(file);
  expect(taken).toMatchObject({ file, private: false });
  taken.release();
});

test('a lock of another pid namespace or host (a crashed container): held while fresh, taken over after 60 s untouched', () => {
  const file = fresh();
  writeFileSync(`${file}.lock`, lockOf({ host: 'old-pod-abc', ns: 'pid:[1]', pid: 1, token: 'dead' }));
  const copy = claimIndex(file);
  expect(copy.private).toBe(true);
  copy.release();
  const old = (Date.now() - 120_000) / 1000;
  utimesSync(`${file}.lock`, old, old);
  const taken = claimIndex(file);
  expect(taken).toMatchObject({ file, private: false });
  taken.release();
});
