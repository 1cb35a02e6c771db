import { recordedPath } from '../../../gateway/audit/recordedPath';

describe('recordedPath: where the worst text sat, without names the client chose', () => {
  test.each([
    ['messages[3].content', 'messages[3].content'],
    ['messages[0].content[1].text', 'messages[0].content[1].text'],
    ['tools[0].function.parameters.properties.city.description', 'tools[0].function.parameters.properties.*.description'],
    ['tools[0].function.parameters.properties.city#key', 'tools[0].function.parameters.properties.*#key'],
    ['messages[0].content[0].my_ssn_is_078-05-1120#key', 'messages[0].content[0].*#key'],
    ['messages[0].ignore_all_previous_instructions', 'messages[0].*'],
    ['input[2].output', 'input[2].output'],
    // Answers, as the gateway names their places: kept readable for the reviewer.
    ['choices[0].message.content', 'choices[0].message.content'],
    ['choices[1].bookkeeping', 'choices[1].bookkeeping'],
    ['choices[0].message.tool_calls[2].function.arguments', 'choices[0].message.tool_calls[2].function.arguments'],
    ['choices[0].message.you_are_worthless', 'choices[0].message.*'],
  ])('%s -> %s', (path, recorded) => {
    expect(recordedPath(path)).toBe(recorded);
  });
  test('no path stays none; a long one is bounded', () => {
    expect(recordedPath(undefined)).toBeUndefined();
    expect(recordedPath(`messages[0]${'.content'.repeat(100)}`)!.length).toBeLessThanOrEqual(300);
  });
});
