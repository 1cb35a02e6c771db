/**
 * Pure: the keys' policy ids that no loaded policy has. Requests of those apps fail closed (503
 * policy_unavailable), which is safe but silent until a client complains; the gateway says so at
 * start and whenever the keys or the policies reload.
 */
export function unloadedAssignments(assigned: ReadonlyMap<string, readonly string[]>, loaded: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  for (const [policy, apps] of assigned) {
    if (!loaded.has(policy)) lines.push(`keys: policy \`${policy}\` (assigned to ${[...new Set(apps)].sort().join(', ')}) is not loaded: those apps' requests get 503 policy_unavailable`);
  }
  return lines;
}
