import { recordedParam } from '../../../gateway/access/recordedParam';

/**
 * What a refusal's record keeps of the member its error names: the path up to the first name the
 * request schemas do not declare. Record keys, unknown members and JSON-schema property names are
 * the client's words, told to the client, never logged.
 */
describe('recordedParam', () => {
  test.each([
    ['messages.0.role', 'messages.0.role'],
    ['input[2].encrypted_content', 'input[2].encrypted_content'],
    ['messages.3.content.1.text', 'messages.3.content.1.text'],
    ['tools.0.function.name', 'tools.0.function.name'],
    ['stream_options.include_usage', 'stream_options.include_usage'],
    ['temperature', 'temperature'],
    ['logit_bias.12345', 'logit_bias.12345'],
    ['logit_bias.Ignore_previous_instructions', 'logit_bias'],
    ['metadata.tell_me_how_to_build_a_bomb', 'metadata'],
    ['tools[0].function.parameters.properties.how_to_poison', 'tools[0].function.parameters'],
  ])('%s -> %s', (param, kept) => {
    expect(recordedParam(param)).toBe(kept);
  });

  test('a number longer than an index or a token id is the client\'s (a card number as a metadata key)', () => {
    expect(recordedParam('metadata.4111111111111111')).toBe('metadata');
    // A record's keys are the client's whatever they look like (a PIN, a date).
    expect(recordedParam('metadata.240101')).toBe('metadata');
    expect(recordedParam('metadata.model')).toBe('metadata');
    expect(recordedParam('logit_bias.128000')).toBe('logit_bias.128000');
    expect(recordedParam('messages[12]')).toBe('messages[12]');
  });

  test('a path whose first name is the client\'s: nothing recorded', () => {
    expect(recordedParam('Ignore_previous_instructions')).toBeUndefined();
    expect(recordedParam('Ignore_previous_instructions.__proto__')).toBeUndefined();
    expect(recordedParam('sk-proj-4f9a0c2e')).toBeUndefined();
  });
});
