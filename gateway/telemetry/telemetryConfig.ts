import { z } from 'zod';

/**
 * Config `telemetry:`. Exporters, endpoint, protocol, headers, service name and resource are the
 * standard OTEL_* environment variables, not settings here.
 */
export const TelemetryConfig = z.strictObject({
  /** false: no OpenTelemetry SDK in this gateway (the audit log still records every decision). */
  enabled: z.boolean().default(true),
  /** gen_ai.provider.name of the engine spans and metrics, e.g. vllm, ollama. */
  provider_name: z.string().min(1).default('openai_compatible'),
});
export type TelemetryConfig = z.infer<typeof TelemetryConfig>;
