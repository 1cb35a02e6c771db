import { z } from 'zod';

/** The hostile-input limits of `limits:` in the gateway config (body_bytes sits beside them). */
export const HardeningLimits = z.strictObject({
  /** Most chat messages in one request. */
  messages: z.number().int().positive().default(2048),
  /** Most content parts in one request, all messages together. */
  content_parts: z.number().int().positive().default(4096),
  /**
   * Most texts one request hands the guards: every string the extraction finds (contents, names,
   * tool calls and definitions, documents, members the gateway does not know and their names),
   * each scanned on its own. Message and part counts alone let 39,000 strings through in tool
   * calls or an unknown member (18 s of guard time). Eight per message at the default message
   * limit: an agent chat of 2,046 messages with three parallel calls a step has about 7,700, and
   * with four calls a step, or words beside each step's calls, over 8,192 before the message
   * limit. About 7.5 s of bundled-guard time at most (39,000 texts took 18 s).
   */
  texts: z.number().int().positive().default(16384),
  /** Deepest nesting of arrays and objects in a JSON body (tool schemas nest; attackers nest more). */
  json_depth: z.number().int().min(4).max(1000).default(64),
  /** Largest request head (request line plus headers); bigger is a 431. */
  header_bytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
  /** Time a client has to send its request head. */
  headers_timeout_ms: z.number().int().positive().max(2_147_483_647).default(30_000),
  /** Time a client has to send its whole request, body included (slow-loris bodies get a 408). */
  request_timeout_ms: z.number().int().positive().max(2_147_483_647).default(60_000),
  /**
   * How long an idle keep-alive connection is held for the client's next request. Above the idle
   * timeout of the load balancer in front (nginx and ingress-nginx keep upstream connections 60 s):
   * a gateway that closed first would race the proxy's next request on that socket, a 502.
   */
  keep_alive_timeout_ms: z.number().int().positive().max(2_147_483_647).default(65_000),
  /** A client that takes nothing of its response for this long is disconnected (the engine call is aborted). */
  stalled_write_timeout_ms: z.number().int().positive().max(2_147_483_647).default(60_000),
  /** Context window in tokens for models not named below (Llama 3.1: 128K). */
  context_tokens: z.number().int().positive().default(131_072),
  /** Context window per model name, as clients send `model`. */
  context_tokens_by_model: z.record(z.string(), z.number().int().positive()).default({}),
});
export type HardeningLimits = z.infer<typeof HardeningLimits>;
