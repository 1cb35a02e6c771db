import path from 'node:path';
import ts from 'typescript';
import { ROOT, type Json } from './deployFiles';

/**
 * The Kubernetes schemas allow unknown fields (the API server drops or refuses them only when
 * applied), so a typo such as `readinesProbe` passes them. kubernetes-models also publishes the
 * same definitions as TypeScript types, and TypeScript refuses unknown fields in an object
 * literal: each manifest, written as a literal of its kind's type, is compiled with the real
 * compiler and every error is a field (or value) the kind does not have.
 */
const TYPES: Record<string, [string, string]> = {
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'],
  'v1/PersistentVolumeClaim': ['kubernetes-models/v1/PersistentVolumeClaim', 'IPersistentVolumeClaim'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'IHorizontalPodAutoscaler'],
};

export function strictTypeProblems(docs: readonly Json[]): string[] {
  const file = path.join(ROOT, 'test', 'deploy', '__manifests_as_literals__.ts');
  const source = docs
    .map((doc, i) => {
      const type = TYPES[`${String(doc.apiVersion)}/${String(doc.kind)}`];
      if (!type) throw new Error(`no type for ${String(doc.apiVersion)} ${String(doc.kind)}`);
      return `import type { ${type[1]} as T${i} } from '${type[0]}';\nexport const manifest${i}: T${i} = ${JSON.stringify(doc, null, 1)};\n`;
    })
    .join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => (path.resolve(name) === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const manifest = where ? source.slice(0, d.start).split('export const manifest').length - 2 : -1;
    return `manifest ${manifest} (${String(docs[manifest]?.kind)}): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
