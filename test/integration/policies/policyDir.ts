import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A scratch folder of policy files for one test file; policies in it `extends` the fixture policy by absolute path. */
export class PolicyDir {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'sg-policies-'));

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Writes in place (truncate + write), as `echo > file` or many tools do. */
  write(name: string, text: string): string {
    const file = this.path(name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  /** Writes a temporary file and renames it over the target, as vim, VS Code and most editors save. */
  save(name: string, text: string): string {
    const file = this.path(name);
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    writeFileSync(temp, text);
    renameSync(temp, file);
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
