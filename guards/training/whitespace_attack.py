"""Python mirror of the gateway's whitespace-attack mitigation for Prompt Guard.

The runtime (guards/text/whitespaceAttack.ts + guards/tokenizer/longText.ts, default on for
Prompt Guard) removes every whitespace character, tokenizes the stripped text in slices of
2,048 characters (cut where the original had no whitespace), and puts one space back before
each token whose first character followed whitespace in the original text.  The model then
sees that restored text, so the prompt-guard model is trained and evaluated on it too (mixed
with raw text, so it also works with the mitigation switched off).
"""
import re

# JavaScript's /\s/: ECMAScript WhiteSpace + LineTerminator
_JS_WS = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
         "\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS_SET = frozenset(_JS_WS)
_HAS_WS = re.compile("[" + re.escape(_JS_WS) + "]")
META = "\u2581"
SLICE_CHARS = 2048


def strip_whitespace(text):
    out = []
    follows = []
    prev_ws = False
    for ch in text:
        if ch in _WS_SET:
            prev_ws = True
            continue
        out.append(ch)
        follows.append(1 if prev_ws else 0)
        prev_ws = False
    return "".join(out), follows


def _slices(stripped, follows, max_chars=SLICE_CHARS):
    res = []
    start = 0
    n = len(stripped)
    while start < n:
        end = min(n, start + max_chars)
        if end < n:
            floor = start + max_chars // 2
            i = end
            while i > floor and follows[i] == 1:
                i -= 1
            end = i if i > floor else end
        res.append((start, end))
        start = end
    return res


def remove_token_splitting_spaces(sp, text):
    """The text the runtime scores when whitespace mitigation is on."""
    if not _HAS_WS.search(text):
        return text
    stripped, follows = strip_whitespace(text)
    starts = [0] * len(stripped)
    for a, b in _slices(stripped, follows):
        pos = a
        for piece in sp.encode(stripped[a:b], out_type=str):
            surface = piece.replace(META, "")
            if not surface:
                continue
            if stripped.startswith(surface, pos):
                starts[pos] = 1
                pos += len(surface)
            else:  # cannot align (should not happen with an identity-normalizing tokenizer)
                pos += len(surface)
    out = []
    for j, ch in enumerate(stripped):
        if starts[j] and follows[j]:
            out.append(" ")
        out.append(ch)
    return "".join(out)
