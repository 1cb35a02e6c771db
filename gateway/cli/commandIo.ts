/** Where a CLI command writes and which environment it reads: process streams in use, buffers in tests. */
export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}
