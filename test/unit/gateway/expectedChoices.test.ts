import { expectedChoices } from '../../../gateway/streaming/expectedChoices';

describe('expectedChoices', () => {
  test.each([
    [{ messages: [] }, 1],
    [{ messages: [], n: 1 }, 1],
    [{ messages: [], n: null }, 1],
    [{ messages: [], n: 3 }, 3],
    [{ prompt: 'one' }, 1],
    [{ prompt: ['a', 'b'] }, 2],
    [{ prompt: ['a', 'b', 'c'], n: 2 }, 6],
    [{ prompt: [] }, 1],
  ])('%j streams %i answer(s)', (body, answers) => {
    expect(expectedChoices(body)).toBe(answers);
  });
});
