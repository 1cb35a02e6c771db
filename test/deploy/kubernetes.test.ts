import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOY, finalStage, parseDockerfile, readYaml, readYamlDocuments, ROOT, type Json } from './deployFiles';
import { configFrom, gatewayReads, namesTheGatewayReads } from './gatewayEnv';
import { kubernetesProblems } from './schemas';
import { strictTypeProblems } from './strictKubernetes';

/**
 * The Kubernetes manifests (deploy/kustomization.yaml) without a cluster: each object valid
 * against the Kubernetes schemas (and, stricter, the field names of its kind), and the Deployment
 * agreeing with the gateway's config schema, the image, and the other objects it names.
 */
interface Kustomization {
  resources: string[];
  configMapGenerator: { name: string; files: string[] }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}
const kustomization = readYaml(path.join(DEPLOY, 'kustomization.yaml')) as unknown as Kustomization;
/**
 * The objects `kubectl apply -k deploy/` creates: the listed resources, and one ConfigMap per
 * generator holding each file under its base name (what kustomize makes of `files:`; the name
 * keeps no hash suffix with disableNameSuffixHash).
 */
const objects: Json[] = [
  ...kustomization.resources.flatMap((r) => readYamlDocuments(path.join(DEPLOY, r))),
  ...kustomization.configMapGenerator.map((g) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: g.name },
    data: Object.fromEntries(g.files.map((f) => [path.basename(f), readFileSync(path.join(DEPLOY, f), 'utf8')])),
  })),
];
const secretExample = readYamlDocuments(path.join(DEPLOY, 'k8s', 'secret.example.yaml'))[0];
/** Manifests are read loosely here: the two schema tests below are what vouch for their shape. */
type Loose = Record<string, any>;
const find = (kind: string): Loose => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};
const deployment = find('Deployment');
const pod = deployment.spec.template;
const container = pod.spec.containers[0];
const env: { name: string; value?: string; valueFrom?: Loose }[] = container.env;
const mountOf = (containerPath: string) =>
  (container.volumeMounts as { name: string; mountPath: string; subPath?: string }[])
    .filter((m) => containerPath === m.mountPath || containerPath.startsWith(`${m.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
const volume = (name: string) => (pod.spec.volumes as Loose[]).find((v) => v.name === name)!;
const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && (o.metadata as Json).name === name) as { data: Record<string, string> };
/** A file the pod sees, read from the ConfigMap behind its mount. */
const configMapFile = (containerPath: string) => {
  const mount = mountOf(containerPath);
  const cm = configMap(volume(mount.name).configMap.name);
  return cm.data[path.posix.relative(mount.mountPath, containerPath)];
};
/** The pod's environment with secrets as placeholders and $(VAR) references expanded, as the kubelet does. */
const podEnv = () => {
  const values: Record<string, string> = {};
  for (const e of env) values[e.name] = e.value !== undefined ? e.value.replace(/\$\(([A-Z_]+)\)/g, (_m, v: string) => values[v] ?? '') : e.valueFrom?.fieldRef ? 'safety-gateway-abc12' : `secret:${e.name}`;
  return values;
};
/** The gateway's config in the pod: its environment over the ConfigMap's config file (read from this checkout). */
const podConfig = () => {
  const values = podEnv();
  const file = configMapFile(values.SAFETY_CONFIG);
  expect(file).toBeDefined();
  return configFrom({ ...values, SAFETY_CONFIG: path.join(DEPLOY, kustomization.configMapGenerator.flatMap((g) => g.files).find((f) => path.basename(f) === path.posix.basename(values.SAFETY_CONFIG))!) });
};

describe('Kubernetes manifests', () => {
  test('every object, and the example Secret, is valid against its Kubernetes schema', () => {
    for (const o of [...objects, secretExample]) expect({ kind: o.kind, problems: kubernetesProblems(o) }).toEqual({ kind: o.kind, problems: [] });
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service']);
  });

  test('every field is one its kind defines (the schemas alone allow unknown fields)', () => {
    expect(strictTypeProblems([...objects, secretExample])).toEqual([]);
  });

  test('both checks can fail: a wrong type, and a misspelt field', () => {
    const wrongType = structuredClone(deployment);
    wrongType.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    expect(kubernetesProblems(wrongType).join('\n')).toContain('containerPort must be integer');
    const misspelt = structuredClone(deployment);
    misspelt.spec.template.spec.containers[0].readinesProbe = misspelt.spec.template.spec.containers[0].readinessProbe;
    expect(kubernetesProblems(misspelt)).toEqual([]);
    expect(strictTypeProblems([misspelt]).join('\n')).toMatch(/'"readinesProbe"' does not exist in type 'IContainer'/);
  });

  test('the container sets only variables the gateway reads (others only feed $(VAR) expansion)', () => {
    const read = namesTheGatewayReads();
    const policy = readYaml(path.join(DEPLOY, 'policies', 'policy.yaml')) as { guards: Record<string, Json> };
    const keyEnvs = Object.values(policy.guards).map((g) => g.api_key_env).filter((v): v is string => typeof v === 'string');
    const expanded = env.map((e) => e.value ?? '').join(' ');
    for (const e of env) {
      const ok = gatewayReads(e.name, read, keyEnvs) || expanded.includes(`$(${e.name})`);
      expect({ name: e.name, ok }).toEqual({ name: e.name, ok: true });
    }
    for (const name of keyEnvs) expect(env.map((e) => e.name)).toContain(name);
    // Secrets come from the Secret, under keys the example Secret has.
    const stringData = secretExample.stringData as Record<string, string>;
    for (const e of env.filter((x) => x.valueFrom?.secretKeyRef)) {
      expect(e.valueFrom!.secretKeyRef.name).toBe((secretExample.metadata as Json).name);
      expect(Object.keys(stringData)).toContain(e.valueFrom!.secretKeyRef.key);
    }
  });

  test('probes: readiness on /readyz and liveness on /healthz, at the port the config listens on', () => {
    const config = podConfig();
    const port = (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === container.readinessProbe.httpGet.port)!;
    expect(port.containerPort).toBe(config.port);
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: port.name });
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(config.host).toBe('0.0.0.0');
  });

  test('the policy is a ConfigMap mounted as a directory at SAFETY_POLICY`s folder, so updates hot-reload', () => {
    const config = podConfig();
    const mount = mountOf(config.policy!);
    expect(mount.mountPath).toBe(path.posix.dirname(config.policy!));
    // A subPath mount never sees ConfigMap updates.
    expect(mount.subPath).toBeUndefined();
    expect(configMapFile(config.policy!)).toBe(readFileSync(path.join(DEPLOY, 'policies', 'policy.yaml'), 'utf8'));
    // Fixed names: an update changes files in place instead of rolling the Deployment.
    expect(kustomization.generatorOptions?.disableNameSuffixHash).toBe(true);
  });

  test('keys and the audit signing key from the Secret; the audit log on the claimed volume, one directory per pod', () => {
    const config = podConfig();
    const keysMount = mountOf(config.keys.file!);
    const secretVolume = volume(keysMount.name).secret;
    expect(secretVolume.secretName).toBe((secretExample.metadata as Json).name);
    const key = path.posix.relative(keysMount.mountPath, config.keys.file!);
    expect(secretVolume.items.map((i: { path: string }) => i.path)).toContain(key);
    expect(Object.keys(secretExample.stringData as Json)).toContain(key);
    // The audit checkpoints' signing key comes from the same Secret, as the config names it.
    const signingMount = mountOf(config.audit.signing_key_file!);
    expect(signingMount.name).toBe(keysMount.name);
    const signingKey = path.posix.relative(signingMount.mountPath, config.audit.signing_key_file!);
    expect(secretVolume.items.map((i: { path: string }) => i.path)).toContain(signingKey);
    expect(Object.keys(secretExample.stringData as Json)).toContain(signingKey);
    const auditMount = mountOf(config.audit.dir);
    expect(volume(auditMount.name).persistentVolumeClaim.claimName).toBe((find('PersistentVolumeClaim').metadata as Json).name);
    expect(env.find((e) => e.name === 'SAFETY_AUDIT_DIR')?.value).toMatch(/\$\(POD_NAME\)$/);
    expect(env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef.fieldPath).toBe('metadata.name');
    expect(find('PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteMany']);
  });

  test('the image`s user and command; a drain that SIGKILL never cuts short', () => {
    const stage = finalStage(parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')));
    const [uid, gid] = stage.find((i) => i.keyword === 'USER')!.args.split(':').map(Number);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: gid });
    expect(container.args).toEqual(stage.find((i) => i.keyword === 'CMD')!.exec);
    // The image this checkout builds: tagged with the package's version.
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(container.image).toMatch(new RegExp(`(^|/)safety-gateway:${version.replace(/\./g, '\\.')}$`));
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + podConfig().shutdown_grace_s);
  });

  test('Service, PodDisruptionBudget and HorizontalPodAutoscaler point at these pods', () => {
    const labels = pod.metadata.labels as Record<string, string>;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    const service = find('Service');
    expect(selects(service.spec.selector)).toBe(true);
    expect(container.ports.map((p: { name: string }) => p.name)).toContain(service.spec.ports[0].targetPort);
    const pdb = find('PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    const hpa = find('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    // Utilization is a share of the request: the container must request CPU.
    expect(container.resources.requests.cpu).toBeDefined();
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable);
  });

  test('the guard servers the policy ConfigMap points at are the Services the runbook tells operators to create', () => {
    // The kit has no manifests for the GPU servers: the same policy file as in compose names them by
    // Service name, and deploy/README.md's Kubernetes section lists each with its port.
    const policy = readYaml(path.join(DEPLOY, 'policies', 'policy.yaml')) as { guards: Record<string, Json> };
    const servers = Object.values(policy.guards)
      .flatMap((g) => [g.url, g.base_url])
      .flat()
      .filter((u): u is string => typeof u === 'string')
      .map((u) => new URL(u));
    expect(servers.map((u) => u.hostname).sort()).toEqual(['llama-guard', 'prompt-guard']);
    const readme = readFileSync(path.join(DEPLOY, 'README.md'), 'utf8');
    const section = /^## Kubernetes\n([\s\S]*?)^## /m.exec(readme)![1].replace(/\s+/g, ' ');
    for (const u of servers) {
      const port = u.port || (u.protocol === 'https:' ? '443' : '80');
      expect(section).toMatch(new RegExp(`\`${u.hostname}\`[^.]*? on port ${port}\\b`));
    }
  });
});
