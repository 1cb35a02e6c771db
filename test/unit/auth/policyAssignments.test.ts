import { unloadedAssignments } from '../../../gateway/access/auth/policyAssignments';

test('keys assigned a policy that is not loaded are named, with their apps', () => {
  const assigned = new Map([
    ['strict', ['web', 'cli', 'web']],
    ['default', ['batch']],
  ]);
  expect(unloadedAssignments(assigned, new Set(['default', 'strict']))).toEqual([]);
  expect(unloadedAssignments(assigned, new Set(['default']))).toEqual(['keys: policy `strict` (assigned to cli, web) is not loaded: those apps\' requests get 503 policy_unavailable']);
});
