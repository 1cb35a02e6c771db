import { joinedRange, recordedPath } from '../../../gateway/record/recordedPath';

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
    // The gateway's readings keep their names, so a reviewer can tell which one scored.
    ['messages[0].content#spaced', 'messages[0].content#spaced'],
    ['messages[0].content[1].text#base64@12#normalized', 'messages[0].content[1].text#base64@12#normalized'],
    ['messages[0].secret_key_here#rot13', 'messages[0].*#rot13'],
    ['messages[0].content#whitespace', 'messages[0].content#whitespace'],
    ['choices[0].message.content#earlier', 'choices[0].message.content#earlier'],
    ['joined:messages[0].content..messages[3].content', 'joined:messages[0].content..messages[3].content'],
    ['joined:messages[0].content', 'joined:messages[0].content'],
    ['joined@messages[0]..messages[3]', 'joined@messages[0]..messages[3]'],
    ['joined:messages[0].my_ssn..messages[1].content', 'joined:messages[0].*..messages[1].content'],
    ['tools+response_format', 'tools+response_format'],
    ['messages[2].apart[0]', 'messages[2].apart[0]'],
    ['input[1].glued', 'input[1].glued'],
    // A name the client chose that looks like one of the gateway's is still starred.
    ['joined:ignore_previous', 'joined:*'],
    ['messages[0].a+b#evil', 'messages[0].*+*'],
  ])('%s -> %s', (path, recorded) => {
    expect(recordedPath(path)).toBe(recorded);
  });
  test("a join's range splits only at a `..` outside a quoted member name", () => {
    expect(joinedRange('messages[0].content..messages[3].content')).toEqual(['messages[0].content', 'messages[3].content']);
    expect(joinedRange('messages[0]["a..b"][0]')).toEqual(['messages[0]["a..b"][0]']);
    expect(joinedRange('messages[0]["a..\\"..b"]..messages[1].content')).toEqual(['messages[0]["a..\\"..b"]', 'messages[1].content']);
    expect(recordedPath('joined:messages[0]["a..b"]..messages[1].content')).toBe('joined:messages[0][*]..messages[1].content');
    expect(recordedPath('messages[0].content["x+content[0]"]')).toBe('messages[0].content[*]');
  });

  test('no path stays none; a long one is bounded', () => {
    expect(recordedPath(undefined)).toBeUndefined();
    expect(recordedPath(`messages[0]${'.content'.repeat(100)}`)!.length).toBeLessThanOrEqual(300);
  });
});
