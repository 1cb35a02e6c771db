import type { ChatTurn, ScanText } from '../../guards/types';

/** A guarded request once parsed: what the guards read and what the engine is sent. */
export interface ParsedCompletion {
  /** The body forwarded to the engine (fields the policy strips are gone). */
  body: Record<string, unknown>;
  stream: boolean;
  model?: string;
  includeUsage: boolean;
  maxTokens?: number;
  /** The field that caps each answer's tokens on this route (where the gateway sets one the client left out: answerTokenCap.ts). */
  answerTokenField: 'max_tokens' | 'max_output_tokens';
  inputTexts: ScanText[];
  conversation: ChatTurn[];
}
