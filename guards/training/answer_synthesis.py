"""Answer-shaped training texts built from the shared harmful requests (content guard).

Why: the shared unsafe answers are almost all GPTFuzz role-play plus 251 plain answers, so a
step-by-step harmful answer in plain form ("To build a pipe bomb you need ...") scored under
0.02. Here each train-split harmful request (HarmBench, AdvBench, StrongREJECT, CatQA) is
turned into two answers with the same topic words:
  * a compliance: the request restated as an answer opener, then steps taken from the shared
    unsafe plain answers -> unsafe, with the request's categories;
  * a refusal naming the same request -> safe.
So the model has to read complying vs refusing, not the topic. Pure functions; the caller
draws randomness from its own generator.
"""
import re

HARM_REQUEST_SETS = {"harmful-behaviors", "red-instruct"}

# imperative verbs whose object is the thing delivered ("Write a tutorial on X" -> "a tutorial on X")
_DELIVER = re.compile(r"^(?:please\s+)?(?:write|create|develop|design|produce|draft|compose|generate|give|provide|"
                      r"list|suggest|outline|offer|share|make)\s+(?:me\s+|us\s+)?(.+)$", re.I | re.S)
# "Explain/Describe/Teach (someone) how to X" -> "how to X"
_HOWTO = re.compile(r"^(?:please\s+)?(?:explain|describe|teach|show|tell|instruct)\s+(?:me\s+|us\s+|in\s+detail\s+|\w+\s+)?"
                    r"(how\s+to\s+.+|how\s+.+|what\s+.+|ways?\s+.+)$", re.I | re.S)
# "How can/do/should I X?" -> "how you can X"
_QUESTION = re.compile(r"^how\s+(?:can|do|could|should|would|might)\s+(?:i|we|one|someone)\s+(.+?)\??$", re.I | re.S)

COMPLIANCE_LEADS = ["Sure, here is {x}:", "Here is {x}.", "Certainly. Below is {x}:", "Okay, here's {x}:", "{X}:"]
HOWTO_LEADS = ["Here is {x}:", "Sure. This is {x}:", "Okay, {x}:", "{X}, step by step:"]
QUESTION_LEADS = ["Here is how you can {x}:", "You can {x} like this:", "To {x}, do the following:", "Sure, here's how to {x}:"]
REFUSALS = ["I'm sorry, but I can't help with that. {Q}", "I can't help with this request: {q}",
            "Sorry, I can't assist with {q} If you're struggling, please reach out to someone you trust.",
            "I must decline: {q} That could cause real harm, so I won't give instructions.",
            "No, I can't do that. {Q} I can share general safety information instead."]


def _cap(s):
    return s[:1].upper() + s[1:]


def _low(s):
    return s[:1].lower() + s[1:]


def restate(request, pick):
    """The request rewritten as an answer's opening line. pick(n) returns an int in [0, n)."""
    q = request.strip().rstrip(".!").strip()
    for pat, leads in ((_QUESTION, QUESTION_LEADS), (_HOWTO, HOWTO_LEADS), (_DELIVER, COMPLIANCE_LEADS)):
        m = pat.match(q)
        if m:
            x = m.group(1).strip().rstrip("?")
            lead = leads[pick(len(leads))]
            return lead.replace("{x}", _low(x)).replace("{X}", _cap(x))
    return "Sure, I can help with that. " + _cap(q) + (":" if not q.endswith("?") else "")


_LIST_MARK = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022]|step\s+\d+[:.)]?)\s*", re.I)


def answer_lines(texts, min_words=6):
    """Content lines of unsafe answers: list markers and Markdown emphasis stripped."""
    out = []
    for t in texts:
        for line in re.split(r"\n+|(?<=[.!?])\s+(?=[A-Z])", t):
            line = _LIST_MARK.sub("", line).replace("**", "").strip()
            if len(line.split()) >= min_words:
                out.append(line)
    return out


def compliance(request, lines, pick):
    """Unsafe: the request restated, then 2-5 numbered steps from shared unsafe answers."""
    n = 2 + pick(4)
    steps = [lines[pick(len(lines))] for _ in range(n)]
    numbered = pick(2) == 0
    body = "\n".join(("%d. %s" % (i + 1, s)) if numbered else s for i, s in enumerate(steps))
    return restate(request, pick) + "\n\n" + body


def refusal(request, pick):
    """Safe: a refusal that names the same request."""
    q = request.strip()
    tmpl = REFUSALS[pick(len(REFUSALS))]
    return tmpl.replace("{Q}", 'You asked: "' + q + '".').replace("{q}", '"' + q + '".')


# Safe prompts with words the harmful rows are full of (medicine, weapons, drugs, violence):
# the issue measured 74-93% of user rows with such words unsafe, so these are up-weighted.
SENSITIVE_TOPIC = re.compile(
    r"\b(dose|dosage|swallow\w*|overdos\w*|medic\w*|pills?|poison\w*|symptoms?|doctors?|ibuprofen|aspirin|"
    r"emergenc\w*|injur\w*|bleed\w*|burns?|chok\w*|allerg\w*|drugs?|kill\w*|weapons?|guns?|knife|knives|"
    r"bombs?|explos\w*|suicid\w*|chemical\w*|toxic\w*|attack\w*|shoot\w*|hack\w*|steal\w*)\b", re.I)


def is_sensitive_topic(text):
    return SENSITIVE_TOPIC.search(text) is not None
