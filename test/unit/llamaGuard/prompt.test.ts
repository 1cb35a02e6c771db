/**
 * Golden prompts, written out by hand from the published template (GUARD-MODELS.md, "Llama Guard 3"):
 * the 1B block with its ROLE placeholders filled in, and the 8B differences applied by hand. They
 * are never produced by the function under test.
 */
import { renderPrompt } from '../../../guards/llamaGuard/prompt';
import { pythonStrip } from '../../../guards/llamaGuard/strip';

describe('renderPrompt: 1B template', () => {
  it('one user / one agent turn, role Agent: exactly the GUARD-MODELS.md block', () => {
    const expected =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in 'Agent' messages in conversations according our safety policy with the below categories.\n\n" +
      '<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\nS4: Child Exploitation.\nS5: Defamation.\nS6: Specialized Advice.\nS7: Privacy.\nS8: Intellectual Property.\nS9: Indiscriminate Weapons.\nS10: Hate.\nS11: Self-Harm.\nS12: Sexual Content.\nS13: Elections.\n<END UNSAFE CONTENT CATEGORIES>\n\n' +
      '<BEGIN CONVERSATION>\n\nUser: How do I kill a Python process?\n\nAgent: Run kill with its PID.\n\n<END CONVERSATION>\n\n' +
      'Provide your safety assessment for ONLY THE LAST Agent message in the above conversation:\n' +
      " - First line must read 'safe' or 'unsafe'.\n" +
      ' - If unsafe, a second line must include a comma-separated list of violated categories. <|eot_id|><|start_header_id|>assistant<|end_header_id|>';
    const got = renderPrompt({
      variant: '1b',
      role: 'Agent',
      turns: [
        { role: 'User', text: 'How do I kill a Python process?' },
        { role: 'Agent', text: 'Run kill with its PID.' },
      ],
    });
    expect(got).toBe(expected);
  });

  it('a single user turn, role User, texts trimmed (Agent turn omitted to classify a prompt)', () => {
    const expected =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in 'User' messages in conversations according our safety policy with the below categories.\n\n" +
      '<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\nS4: Child Exploitation.\nS5: Defamation.\nS6: Specialized Advice.\nS7: Privacy.\nS8: Intellectual Property.\nS9: Indiscriminate Weapons.\nS10: Hate.\nS11: Self-Harm.\nS12: Sexual Content.\nS13: Elections.\n<END UNSAFE CONTENT CATEGORIES>\n\n' +
      '<BEGIN CONVERSATION>\n\nUser: What is the capital of France?\n\n<END CONVERSATION>\n\n' +
      'Provide your safety assessment for ONLY THE LAST User message in the above conversation:\n' +
      " - First line must read 'safe' or 'unsafe'.\n" +
      ' - If unsafe, a second line must include a comma-separated list of violated categories. <|eot_id|><|start_header_id|>assistant<|end_header_id|>';
    const got = renderPrompt({ variant: '1b', role: 'User', turns: [{ role: 'User', text: '  \n What is the capital of France?\t\n' }] });
    expect(got).toBe(expected);
  });

  it('three turns ending with User keep inner newlines and separate turns with a blank line', () => {
    const expected =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in 'User' messages in conversations according our safety policy with the below categories.\n\n" +
      '<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\nS4: Child Exploitation.\nS5: Defamation.\nS6: Specialized Advice.\nS7: Privacy.\nS8: Intellectual Property.\nS9: Indiscriminate Weapons.\nS10: Hate.\nS11: Self-Harm.\nS12: Sexual Content.\nS13: Elections.\n<END UNSAFE CONTENT CATEGORIES>\n\n' +
      '<BEGIN CONVERSATION>\n\nUser: Hi.\n\nAgent: Hello!\nHow can I help?\n\nUser: Tell me a joke.\n\n<END CONVERSATION>\n\n' +
      'Provide your safety assessment for ONLY THE LAST User message in the above conversation:\n' +
      " - First line must read 'safe' or 'unsafe'.\n" +
      ' - If unsafe, a second line must include a comma-separated list of violated categories. <|eot_id|><|start_header_id|>assistant<|end_header_id|>';
    const got = renderPrompt({
      variant: '1b',
      role: 'User',
      turns: [
        { role: 'User', text: 'Hi.' },
        { role: 'Agent', text: 'Hello!\nHow can I help?\n' },
        { role: 'User', text: 'Tell me a joke.' },
      ],
    });
    expect(got).toBe(expected);
  });

  it('custom categories replace the defaults (in order, numbered S1..Sn as Meta numbers them when a key is not an S-code) and excluded keys are left out', () => {
    const expected =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in 'User' messages in conversations according our safety policy with the below categories.\n\n" +
      '<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Competitor products. Do not recommend them.\n<END UNSAFE CONTENT CATEGORIES>\n\n' +
      '<BEGIN CONVERSATION>\n\nUser: Which rival product is better?\n\n<END CONVERSATION>\n\n' +
      'Provide your safety assessment for ONLY THE LAST User message in the above conversation:\n' +
      " - First line must read 'safe' or 'unsafe'.\n" +
      ' - If unsafe, a second line must include a comma-separated list of violated categories. <|eot_id|><|start_header_id|>assistant<|end_header_id|>';
    const got = renderPrompt({
      variant: '1b',
      role: 'User',
      turns: [{ role: 'User', text: 'Which rival product is better?' }],
      categories: { S1: 'Violent Crimes.', S2: 'Removed.', C2: 'Competitor products. Do not recommend them.' },
      excludedCategories: ['S2'],
    });
    expect(got).toBe(expected);
  });

  it('excluded default categories are left out of the default list', () => {
    const expected =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in 'User' messages in conversations according our safety policy with the below categories.\n\n" +
      '<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\nS4: Child Exploitation.\nS5: Defamation.\nS7: Privacy.\nS8: Intellectual Property.\nS9: Indiscriminate Weapons.\nS10: Hate.\nS11: Self-Harm.\nS12: Sexual Content.\nS13: Elections.\n<END UNSAFE CONTENT CATEGORIES>\n\n' +
      '<BEGIN CONVERSATION>\n\nUser: Should I take aspirin?\n\n<END CONVERSATION>\n\n' +
      'Provide your safety assessment for ONLY THE LAST User message in the above conversation:\n' +
      " - First line must read 'safe' or 'unsafe'.\n" +
      ' - If unsafe, a second line must include a comma-separated list of violated categories. <|eot_id|><|start_header_id|>assistant<|end_header_id|>';
    const got = renderPrompt({ variant: '1b', role: 'User', turns: [{ role: 'User', text: 'Should I take aspirin?' }], excludedCategories: ['S6', 'S14'] });
    expect(got).toBe(expected);
  });
});

describe('renderPrompt: 8B template', () => {
  it('adds S14, a space before <|begin_of_text|>, and no space before <|eot_id|>', () => {
    const expected =
      " <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in 'Agent' messages in conversations according our safety policy with the below categories.\n\n" +
      '<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\nS4: Child Exploitation.\nS5: Defamation.\nS6: Specialized Advice.\nS7: Privacy.\nS8: Intellectual Property.\nS9: Indiscriminate Weapons.\nS10: Hate.\nS11: Self-Harm.\nS12: Sexual Content.\nS13: Elections.\nS14: Code Interpreter Abuse.\n<END UNSAFE CONTENT CATEGORIES>\n\n' +
      '<BEGIN CONVERSATION>\n\nUser: Delete my temp files.\n\nAgent: Done.\nrun_shell({"cmd":"rm -rf /tmp/x"})\n\n<END CONVERSATION>\n\n' +
      'Provide your safety assessment for ONLY THE LAST Agent message in the above conversation:\n' +
      " - First line must read 'safe' or 'unsafe'.\n" +
      ' - If unsafe, a second line must include a comma-separated list of violated categories.<|eot_id|><|start_header_id|>assistant<|end_header_id|>';
    const got = renderPrompt({
      variant: '8b',
      role: 'Agent',
      turns: [
        { role: 'User', text: 'Delete my temp files.' },
        { role: 'Agent', text: 'Done.\nrun_shell({"cmd":"rm -rf /tmp/x"})' },
      ],
    });
    expect(got).toBe(expected);
  });

  it('an empty first User turn renders as `User: ` followed by the blank line', () => {
    const got = renderPrompt({
      variant: '8b',
      role: 'Agent',
      turns: [
        { role: 'User', text: '' },
        { role: 'Agent', text: 'Welcome!' },
      ],
    });
    expect(got).toContain('<BEGIN CONVERSATION>\n\nUser: \n\nAgent: Welcome!\n\n<END CONVERSATION>\n\n');
  });
});

describe('pythonStrip', () => {
  it("strips what Python's str.strip() strips, not what JS trim() strips", () => {
    expect(pythonStrip('\x1c\x1d\x1e\x1f\x85 a b \u3000\u2028')).toBe('a b');
    expect(pythonStrip('\ufeffa\ufeff')).toBe('\ufeffa\ufeff');
    expect(pythonStrip('   ')).toBe('');
  });

  it('is linear on hostile whitespace runs', () => {
    // A quadratic strip would take minutes on this and fail by the test's timeout, not by a timed assertion.
    const hostile = `${' '.repeat(200_000)}x${' \t'.repeat(200_000)}y`;
    expect(pythonStrip(hostile)).toBe(hostile.slice(200_000));
  });
});
