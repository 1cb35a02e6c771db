import type { ChatTurn, ScanText } from '../../guards/types';

/** A guarded request once parsed: what the guards read and what the engine is sent. */
export interface ParsedCompletion {
  /** The body forwarded to the engine (fields the policy strips are gone). */
  body: Record<string, unknown>;
  stream: boolean;
  model?: string;
  includeUsage: boolean;
  maxTokens?: number;
  inputTexts: ScanText[];
  conversation: ChatTurn[];
}
