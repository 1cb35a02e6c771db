import type { Action } from '../policies/schema';
import type { GuardPhase } from './pipeline/runRules';

/** Everything a compliance reviewer needs about one request, without its content. */
export interface RequestRecord {
  requestId: string;
  receivedAt: string;
  app: string;
  route: string;
  model?: string;
  stream: boolean;
  policy: { id: string; version: string };
  input?: GuardPhase;
  /** One output phase per checked choice. */
  outputs: (GuardPhase & { choice: number })[];
  /** Final action of the request: the most severe enforced decision. */
  action: Action;
  status: number;
  error?: { type: string; message: string };
  /** firstByteMs: to the first streamed chunk (streams only); model: the model the engine says answered. */
  engine?: { durationMs: number; firstByteMs?: number; model?: string; usage?: Record<string, unknown>; finishReasons: string[] };
  /** The policy's telemetry.content_capture for this request: what of `content` may be recorded (default none). */
  contentCapture?: 'none' | 'redacted' | 'full';
  /** Texts seen (for content capture policies); never written unless a sink is told to. */
  content?: { input: string[]; output: string[] };
}

/** Where decisions go: the audit log, telemetry. `record` resolves once the record is durable. */
export interface DecisionRecorder {
  record(record: RequestRecord): Promise<void>;
}

export const noopRecorder: DecisionRecorder = { record: async () => undefined };
