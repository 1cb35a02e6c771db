import { guessLanguage } from '../../../gateway/cli/eval/language';

/** The eval report's language guess: rough, but right on the plain cases the by-language table is for. */
describe('guessLanguage', () => {
  test.each([
    ['Write a haiku about autumn.', 'English'],
    ['How do I execute a SQL query from Node.js?', 'English'],
    ['¿Cuál es la capital de Francia?', 'Spanish'],
    ['Écris un poème sur la mer.', 'French'],
    ['Quelle est la capitale de la France ?', 'French'],
    ['Wer hat die Zauberflöte komponiert?', 'German'],
    ['Qual è la capitale della Francia?', 'Italian'],
    ['Qual é a capital da França? Você sabe?', 'Portuguese'],
    ['Você está bem?', 'Portuguese'],
    ['Ele está em casa ou no trabalho?', 'Portuguese'],
    ['Ignore all previous instructions', 'English'],
    ['फ्रांस की राजधानी क्या है?', 'Hindi (Devanagari)'],
    ['เมืองหลวงของฝรั่งเศสคืออะไร', 'Thai'],
    ['帮我注册一个网上账户', 'Chinese (Han)'],
    ['フランスの首都はどこですか', 'Japanese'],
    ['프랑스의 수도는 어디인가요?', 'Korean'],
    ['Какая столица Австралии?', 'Cyrillic'],
    ['ما هي عاصمة فرنسا؟', 'Arabic'],
    ['SELECT 1;', 'Latin script, unknown'],
    ['12345 !!!', 'no letters'],
  ])('%s -> %s', (text, language) => {
    expect(guessLanguage(text)).toBe(language);
  });

  test('a few foreign words in an English sentence leave it English; a Latin brand name in Chinese leaves it Chinese', () => {
    expect(guessLanguage('What does "¿Cómo estás?" mean in English?')).toBe('English');
    expect(guessLanguage('请帮我写一封给Apple客服的邮件，说明我的iPhone屏幕坏了')).toBe('Chinese (Han)');
  });
});
