import path from 'node:path';

/** Where a CLI command writes; injected so tests read what a user would see. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  cwd(): string;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  cwd: () => process.cwd(),
};

/** Paths as the user typed them: relative to where they stand when that is shorter. */
export function displayPath(io: CliIo, file: string): string {
  if (!path.isAbsolute(file)) return file;
  const relative = path.relative(io.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}
