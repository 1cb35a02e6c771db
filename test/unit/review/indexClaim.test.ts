import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { claimIndex } from '../../../gateway/review/indexClaim';

/** One review process per index file: an exclusive lock the kernel holds for the claiming process, gone with it however it ends. */
const fresh = () => path.join(mkdtempSync(path.join(tmpdir(), 'sg-claim-')), '.review-index.sqlite');
const BETTER_SQLITE = require.resolve('better-sqlite3');

/** Another process holding the claim on `file` the way claimIndex takes it; resolves once it holds it. */
async function otherHolder(file: string) {
  const script = `
    const D = require(${JSON.stringify(BETTER_SQLITE)});
    const db = new D(${JSON.stringify(`${file}.claim`)}, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    console.log('held');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await (createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next());
  return child;
}

test('an index in a folder that does not exist yet: the folder is made and the index claimed', () => {
  const file = path.join(path.dirname(fresh()), 'review', 'index.sqlite');
  const claim = claimIndex(file);
  try {
    expect(claim).toMatchObject({ file, private: false });
  } finally {
    claim.release();
  }
});

test('held by a live process: a private copy (removed on release); the moment that process is killed, the index is free', async () => {
  const file = fresh();
  const other = await otherHolder(file);
  const logged: string[] = [];
  const copy = claimIndex(file, (l) => logged.push(l));
  expect(copy.private).toBe(true);
  expect(copy.file).not.toBe(file);
  expect(logged.join('\n')).toMatch(/in use by another review process/);
  copy.release();
  expect(existsSync(copy.file)).toBe(false);
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  const taken = claimIndex(file);
  expect(taken).toMatchObject({ file, private: false });
  taken.release();
});

test('in one process too, a second claim gets a private copy until the first is released', () => {
  const file = fresh();
  const first = claimIndex(file);
  const second = claimIndex(file);
  expect([first.private, second.private]).toEqual([false, true]);
  second.release();
  first.release();
  const third = claimIndex(file);
  expect(third.private).toBe(false);
  third.release();
});
