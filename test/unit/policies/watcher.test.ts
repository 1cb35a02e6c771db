import { eventually } from '../../support/keys';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPolicyWatcher, isPolicyFileEvent, leadsToNamed, type PolicyWatcher } from '../../../policies/watcher';

describe('policy watcher', () => {
  let dir: string;
  let watcher: PolicyWatcher | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'policy-watch-'));
    writeFileSync(path.join(dir, 'p.yaml'), 'id: a\n');
  });
  afterEach(() => {
    watcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves on the next onChange. */
  function watchOnce(): Promise<void> {
    return new Promise((resolve) => {
      watcher = createPolicyWatcher({ debounceMs: 10, onChange: resolve });
      watcher.watch([dir]);
    });
  }

  test('a file written in place is noticed', async () => {
    const changed = watchOnce();
    writeFileSync(path.join(dir, 'p.yaml'), 'id: b\n');
    await changed;
  });

  test("an editor's rename-on-save is noticed, and the next save too (the directory watch survives the inode swap)", async () => {
    let calls = 0;
    watcher = createPolicyWatcher({ debounceMs: 10, onChange: () => (calls += 1) });
    watcher.watch([dir]);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(0);
    const save = (text: string) => {
      writeFileSync(path.join(dir, '.p.yaml.tmp'), text);
      renameSync(path.join(dir, '.p.yaml.tmp'), path.join(dir, 'p.yaml'));
    };
    save('id: c\n');
    await eventually(async () => calls >= 1, 'the first save is noticed');
    const afterFirst = calls;
    save('id: d\n');
    // The same watcher, after its file was replaced by a rename.
    await eventually(async () => calls > afterFirst, 'the second save is noticed by the same watcher');
  });

  test('a watch on a directory that does not exist is reported, not thrown', () => {
    const errors: string[] = [];
    watcher = createPolicyWatcher({ debounceMs: 10, onChange: () => undefined, onError: (d) => errors.push(d) });
    watcher.watch([path.join(dir, 'missing')]);
    expect(errors).toEqual([path.join(dir, 'missing')]);
  });
});

test('only policy files (or unnamed events) count as changes', () => {
  expect(isPolicyFileEvent('p.yaml')).toBe(true);
  expect(isPolicyFileEvent('apps.YML')).toBe(true);
  expect(isPolicyFileEvent(null)).toBe(true);
  expect(isPolicyFileEvent('audit-2025-01-01.jsonl')).toBe(false);
  expect(isPolicyFileEvent('.p.yaml.swp')).toBe(false);
});

test('an event naming a listed folder, or a folder on the way to one, counts as a change (it was created, replaced or re-pointed)', () => {
  const named = ['/p/apps', '/p/teams/eu'];
  expect(leadsToNamed('/p', 'apps', named)).toBe(true);
  expect(leadsToNamed('/p', 'teams', named)).toBe(true);
  expect(leadsToNamed('/p/teams', 'eu', named)).toBe(true);
  expect(leadsToNamed('/p', 'apps.new', named)).toBe(false);
  expect(leadsToNamed('/p', 'audit', named)).toBe(false);
  expect(leadsToNamed('/p', null, named)).toBe(false);
});
