import type { Engine } from '../../engine/client';
import type { PolicyHolder } from '../pipeline/runtime/policyRuntime';

/** What the engine-facing routes need: the policy in force (for its headers and passthrough list) and the engine. */
export interface RouteDeps {
  policies: PolicyHolder;
  engine: Engine;
  /** limits.body_bytes: the largest request body forwarded (passthrough routes too). */
  bodyLimitBytes?: number;
}
