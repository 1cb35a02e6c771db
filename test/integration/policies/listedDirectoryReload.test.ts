/** Hot reload of the folders a policy lists, when the folder itself is replaced, created late or re-pointed by a link (deploys do all three). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, renameSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyHolder } from '../../../gateway/pipeline/runtime/policyRuntime';

const MAIN = 'id: main\npolicies: [./apps]\nrefusals:\n  output: main refusal\n';
const kids = (text: string) => `id: kids\nextends: ../main.yaml\nrefusals:\n  output: ${text}\n`;

async function waitFor(pred: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

describe('hot reload of a listed policy directory', () => {
  let dir: string;
  let holder: PolicyHolder;
  const file = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  const kidsRefusal = () => {
    try {
      return holder.current('kids').loaded.policy.refusals.output;
    } catch {
      return '(no kids policy)';
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'listed-dir-'));
    mkdirSync(path.join(dir, 'apps'));
    file('main.yaml', MAIN);
    file('apps/kids.yaml', kids('v1'));
    holder = new PolicyHolder({ threads: 1 });
    await holder.loadFile(path.join(dir, 'main.yaml'));
    holder.watch({ debounceMs: 20 });
  });
  afterEach(async () => {
    await holder.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('control: an edit inside the listed directory is picked up', async () => {
    file('apps/kids.yaml', kids('v2'));
    expect(await waitFor(() => kidsRefusal() === 'v2')).toBe(true);
  });

  test('the listed directory replaced by a new one (deploy: build apps.new, swap it in): later edits are still picked up', async () => {
    mkdirSync(path.join(dir, 'apps.new'));
    writeFileSync(path.join(dir, 'apps.new/kids.yaml'), kids('v2'));
    rmSync(path.join(dir, 'apps'), { recursive: true });
    renameSync(path.join(dir, 'apps.new'), path.join(dir, 'apps'));
    // The swap itself: the deletion of apps/kids.yaml schedules a reload, which reads the new folder.
    expect(await waitFor(() => kidsRefusal() === 'v2')).toBe(true);
    // An edit in the new folder, a while later.
    await new Promise((r) => setTimeout(r, 200));
    file('apps/kids.yaml', kids('v3'));
    expect(await waitFor(() => kidsRefusal() === 'v3')).toBe(true);
  });

  test('a listed directory that is created after the reload that named it: its files are picked up', async () => {
    file('main.yaml', MAIN.replace('./apps', './teams'));
    // Rejected: ./teams does not exist yet; the last good set (with kids) stays.
    expect(await waitFor(() => holder.reloadStatus().last?.status === 'rejected')).toBe(true);
    mkdirSync(path.join(dir, 'teams'));
    writeFileSync(path.join(dir, 'teams/kids.yaml'), kids('from teams'));
    expect(await waitFor(() => kidsRefusal() === 'from teams')).toBe(true);
  });

  test('a listed directory reached through a symbolic link that is swapped to another release (ln -sfn): the new files are picked up', async () => {
    // apps -> rel1/apps, as a deploy tool lays it out; the gateway has loaded kids v1 through the link.
    mkdirSync(path.join(dir, 'rel1'));
    mkdirSync(path.join(dir, 'rel2'));
    writeFileSync(path.join(dir, 'rel1/kids.yaml'), kids('rel1'));
    writeFileSync(path.join(dir, 'rel2/kids.yaml'), kids('rel2'));
    rmSync(path.join(dir, 'apps'), { recursive: true });
    symlinkSync('rel1', path.join(dir, 'apps'));
    expect(await waitFor(() => kidsRefusal() === 'rel1')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    // Atomic swap of the link, as `ln -sfn rel2 apps` does (a new link renamed over the old one).
    symlinkSync('rel2', path.join(dir, '.apps.tmp'));
    renameSync(path.join(dir, '.apps.tmp'), path.join(dir, 'apps'));
    expect(await waitFor(() => kidsRefusal() === 'rel2')).toBe(true);
  });
});

/** Swaps the watch itself must notice (a review of 4e7bb00): a folder's inode reused, a folder outside the main file's, the main file's own folder. */
describe('hot reload when a watched folder itself is swapped', () => {
  let dir: string;
  let holder: PolicyHolder;
  const kidsAt = (text: string, ext = '../main.yaml') => `id: kids\nextends: ${ext}\nrefusals:\n  output: ${text}\n`;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


  const w = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  const kidsRefusal = () => {
    try {
      return holder.current('kids').loaded.policy.refusals.output;
    } catch {
      return '(none)';
    }
  };
  async function start(main: string) {
    holder = new PolicyHolder({ threads: 1 });
    await holder.loadFile(path.join(dir, main));
    holder.watch({ debounceMs: 20 });
  }
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'listed-swap-'));
  });
  afterEach(async () => {
    await holder?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('A: rm -rf apps && mkdir apps (ext4 reuses the inode): later edits are reloaded', async () => {
    mkdirSync(path.join(dir, 'apps'));
    w('main.yaml', 'id: main\npolicies: [./apps]\n');
    w('apps/kids.yaml', kidsAt('v1'));
    await start('main.yaml');
    rmSync(path.join(dir, 'apps'), { recursive: true });
    mkdirSync(path.join(dir, 'apps'));
    w('apps/kids.yaml', kidsAt('v2'));
    expect(await waitFor(() => kidsRefusal() === 'v2')).toBe(true);
    await sleep(300);
    w('apps/kids.yaml', kidsAt('v3'));
    expect(await waitFor(() => kidsRefusal() === 'v3')).toBe(true);
  });

  test('C: a listed folder outside the main file\'s folder (../shared/apps) swapped by mv: the new one is loaded', async () => {
    mkdirSync(path.join(dir, 'conf'));
    mkdirSync(path.join(dir, 'shared/apps'), { recursive: true });
    mkdirSync(path.join(dir, 'shared/apps.new'));
    w('conf/main.yaml', 'id: main\npolicies: [../shared/apps]\n');
    w('shared/apps/kids.yaml', kidsAt('v1', '../../conf/main.yaml'));
    w('shared/apps.new/kids.yaml', kidsAt('v2', '../../conf/main.yaml'));
    await start('conf/main.yaml');
    expect(kidsRefusal()).toBe('v1');
    renameSync(path.join(dir, 'shared/apps'), path.join(dir, 'shared/apps.old'));
    renameSync(path.join(dir, 'shared/apps.new'), path.join(dir, 'shared/apps'));
    expect(await waitFor(() => kidsRefusal() === 'v2')).toBe(true);
  });

  test('D: the main file\'s own folder swapped by mv (conf -> conf.old, conf.new -> conf): the new set is loaded', async () => {
    mkdirSync(path.join(dir, 'conf'));
    mkdirSync(path.join(dir, 'conf.new'));
    w('conf/main.yaml', 'id: main\npolicies: [./kids.yaml]\n');
    w('conf/kids.yaml', kidsAt('v1', './main.yaml'));
    w('conf.new/main.yaml', 'id: main\npolicies: [./kids.yaml]\n');
    w('conf.new/kids.yaml', kidsAt('v2', './main.yaml'));
    await start('conf/main.yaml');
    renameSync(path.join(dir, 'conf'), path.join(dir, 'conf.old'));
    renameSync(path.join(dir, 'conf.new'), path.join(dir, 'conf'));
    expect(await waitFor(() => kidsRefusal() === 'v2')).toBe(true);
  });

  test('F: no reload storm: a swap settles into a bounded number of reloads', async () => {
    mkdirSync(path.join(dir, 'apps'));
    w('main.yaml', 'id: main\npolicies: [./apps]\n');
    w('apps/kids.yaml', kidsAt('v1'));
    await start('main.yaml');
    mkdirSync(path.join(dir, 'apps.new'));
    w('apps.new/kids.yaml', kidsAt('v2'));
    rmSync(path.join(dir, 'apps'), { recursive: true });
    renameSync(path.join(dir, 'apps.new'), path.join(dir, 'apps'));
    await sleep(500);
    const a = JSON.stringify(holder.reloadStatus());
    await sleep(1000);
    expect(JSON.stringify(holder.reloadStatus())).toBe(a);
  });

});
