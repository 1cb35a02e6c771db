#!/usr/bin/env python3
"""SentencePiece unigram model -> Hugging Face ``tokenizer.json`` (+ ``tokenizer_config.json``).

The produced tokenizer reproduces ``SentencePieceProcessor.encode(text)`` exactly in the
JS runtime the gateway uses (``@huggingface/tokenizers``), then wraps the ids in
``[CLS] ... [SEP]``.  It relies on the SentencePiece model having been trained with
(see ``train_sentencepiece``):

* ``normalization_rule_name='identity'`` (no precompiled charsmap) and
  ``remove_extra_whitespaces=False``: SentencePiece changes nothing in the text except
  ``' '`` -> ``'\u2581'`` and one ``'\u2581'`` prepended (``add_dummy_prefix``), *always*,
  even before a leading space and even for whitespace-only text.
* ``byte_fallback=False``: characters outside the vocabulary become ``[UNK]``; runs of
  unknown characters fuse into one ``[UNK]`` (SentencePiece and tokenizers.js both do this).
* ids 0..3 = ``[PAD]`` ``[CLS]`` ``[SEP]`` (CONTROL pieces) and ``[UNK]``.

Mapping choices (why not the usual DebertaV2 converter output):

* normalizer = ``Sequence[Prepend('\u2581'), Replace(' ' -> '\u2581')]``.  The usual
  ``Metaspace`` pre-tokenizer does *not* prepend when the text already starts with a space
  (``" a"``), and with ``split=true`` it splits the text, both of which differ from
  SentencePiece.  The pre-tokenizer is a no-op ``Metaspace`` (``prepend_scheme: never``,
  ``split: false``) kept only so tools can read the word marker; the whole text is one
  lattice, as in SentencePiece.
* The special tokens are NOT ``added_tokens``: tokenizers.js splits added tokens out of
  the raw text, so a user typing ``[SEP]`` would inject a real separator, whereas
  SentencePiece never matches CONTROL pieces in text.  Instead they sit in the Unigram
  vocab with a score of -1e6 so that the Viterbi search never picks them for text (any
  path through ordinary pieces or [UNK] scores far higher).  The post-processor still
  emits them by name and they map to ids 0..3 through the vocab.  The very low score
  only moves tokenizers.js's ``unk_score`` (min score - 10), which cannot change a
  segmentation: an unknown character is never covered by any other piece, so every path
  goes through the same unknown node.
"""
import argparse
import json
import os

SPECIAL = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]
PAD_ID, CLS_ID, SEP_ID, UNK_ID = 0, 1, 2, 3
SPECIAL_SCORE = -1.0e6
SCORE_STEP = 1.0 / 16
META = "\u2581"


def train_sentencepiece(texts, model_prefix, vocab_size=8000, character_coverage=0.9995,
                        input_sentence_size=300000, seed_sentencepiece_size=1000000, num_threads=2,
                        hard_vocab_limit=True):
    """Train a unigram SentencePiece model with the settings this converter expects.

    ``texts`` is a list of raw strings (newlines are kept inside a sentence)."""
    import sentencepiece as spm
    spm.set_random_generator_seed(20240601)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_prefix=model_prefix,
        model_type="unigram",
        vocab_size=vocab_size,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        byte_fallback=False,
        split_digits=False,
        pad_id=PAD_ID, pad_piece="[PAD]",
        bos_id=CLS_ID, bos_piece="[CLS]",
        eos_id=SEP_ID, eos_piece="[SEP]",
        unk_id=UNK_ID, unk_piece="[UNK]",
        character_coverage=character_coverage,
        max_sentence_length=1 << 20,
        input_sentence_size=input_sentence_size,
        shuffle_input_sentence=True,
        seed_sentencepiece_size=seed_sentencepiece_size,
        num_threads=num_threads,
        hard_vocab_limit=hard_vocab_limit,
        minloglevel=2,
    )
    path = model_prefix + ".model"
    quantize_scores(path)
    return path


def quantize_scores(model_path, step=SCORE_STEP):
    """Round every NORMAL piece score to a multiple of ``step`` (in place).

    SentencePiece's Viterbi adds scores in float32, tokenizers.js in float64.  When two
    segmentations tie in exact arithmetic (the same pieces in another order, e.g. a run of
    dashes), float32 rounding decides in SentencePiece while tokenizers.js breaks the tie
    by position, so the ids can differ.  With scores on a 1/16 grid every partial path
    score is exact in both (float32 is exact on this grid up to |score| = 2^20, i.e. for
    texts of >100k tokens), and both implementations break exact ties the same way (the
    candidate whose last piece starts earliest), so the two agree.  The quantised model is
    what training uses, so it is the reference, not an approximation."""
    m = _load_proto(model_path)
    for p in m.pieces:
        if p.type == 1:
            p.score = round(p.score / step) * step
    # The trainer records where it wrote the model (a temp dir): drop it so that the same
    # data and seed give a byte-identical spm.model on every run.
    m.trainer_spec.model_prefix = os.path.basename(m.trainer_spec.model_prefix)
    with open(model_path, "wb") as f:
        f.write(m.SerializeToString())


def _load_proto(model_path):
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    with open(model_path, "rb") as f:
        m.ParseFromString(f.read())
    return m


def check_model(m):
    ns = m.normalizer_spec
    problems = []
    if m.trainer_spec.model_type != 1:
        problems.append("model_type must be UNIGRAM")
    if len(ns.precompiled_charsmap) != 0 or ns.name not in ("identity", ""):
        problems.append("normalization_rule_name must be 'identity'")
    if ns.remove_extra_whitespaces:
        problems.append("remove_extra_whitespaces must be False")
    if not ns.add_dummy_prefix or not ns.escape_whitespaces:
        problems.append("add_dummy_prefix and escape_whitespaces must be True")
    if m.trainer_spec.byte_fallback:
        problems.append("byte_fallback must be False")
    if m.trainer_spec.treat_whitespace_as_suffix:
        problems.append("treat_whitespace_as_suffix must be False")
    for i, p in enumerate(SPECIAL):
        if m.pieces[i].piece != p:
            problems.append("piece %d must be %s, is %r" % (i, p, m.pieces[i].piece))
    if m.pieces[UNK_ID].type != 2:  # UNKNOWN
        problems.append("[UNK] must be SentencePiece's unk piece")
    for i in range(UNK_ID):
        if m.pieces[i].type != 3:  # CONTROL
            problems.append("%s must be a CONTROL piece" % SPECIAL[i])
    for i in range(4, len(m.pieces)):
        sc = m.pieces[i].score
        if sc != round(sc / SCORE_STEP) * SCORE_STEP:
            problems.append("piece scores must be on the 1/16 grid (run quantize_scores)")
            break
    for i in range(4, len(m.pieces)):
        if m.pieces[i].type != 1:  # NORMAL
            problems.append("piece %d (%r) has type %d; only NORMAL pieces are supported"
                            % (i, m.pieces[i].piece, m.pieces[i].type))
            break
    if problems:
        raise ValueError("unsupported SentencePiece model: " + "; ".join(problems))


def convert(model_path, model_max_length=512):
    """Return (tokenizer_json_dict, tokenizer_config_dict) for a SentencePiece model file."""
    m = _load_proto(model_path)
    check_model(m)
    vocab = []
    for i, p in enumerate(m.pieces):
        if i < UNK_ID:
            vocab.append([p.piece, SPECIAL_SCORE])
        elif i == UNK_ID:
            vocab.append([p.piece, 0.0])
        else:
            vocab.append([p.piece, float(p.score)])

    def special(tok, tid):
        return {"id": tid, "ids": [tid], "tokens": [tok]}

    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": META},
                {"type": "Replace", "pattern": {"String": " "}, "content": META},
            ],
        },
        # A no-op (no prepend, no split): it only tells tools where the word marker is, e.g.
        # the gateway's whitespace-attack alignment reads the replacement from here.
        "pre_tokenizer": {"type": "Metaspace", "replacement": META, "prepend_scheme": "never", "split": False},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
            ],
            "special_tokens": {
                "[CLS]": special("[CLS]", CLS_ID),
                "[SEP]": special("[SEP]", SEP_ID),
            },
        },
        "decoder": {
            "type": "Metaspace",
            "replacement": META,
            "prepend_scheme": "always",
            "split": False,
        },
        "model": {
            "type": "Unigram",
            "unk_id": UNK_ID,
            "vocab": vocab,
            "byte_fallback": False,
        },
    }
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model_max_length,
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "unk_token": "[UNK]",
        "bos_token": "[CLS]",
        "eos_token": "[SEP]",
        "padding_side": "right",
        "truncation_side": "right",
        "do_lower_case": False,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        "special_token_ids": {"[PAD]": PAD_ID, "[CLS]": CLS_ID, "[SEP]": SEP_ID, "[UNK]": UNK_ID},
        "note": ("SentencePiece unigram (identity normalization, dummy prefix) converted by "
                 "guards/training/sp_tokenizer_json.py; the special tokens are vocab entries, "
                 "not added_tokens, so their literal text in an input is never a special token. "
                 "The gateway applies NFKC and zero-width removal before tokenizing."),
    }
    return tok, cfg


def write(model_path, out_dir, model_max_length=512):
    tok, cfg = convert(model_path, model_max_length)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description="convert a SentencePiece unigram model to tokenizer.json")
    ap.add_argument("model", help="path to the .model file")
    ap.add_argument("out_dir")
    ap.add_argument("--max-length", type=int, default=512)
    args = ap.parse_args()
    write(args.model, args.out_dir, args.max_length)


if __name__ == "__main__":
    main()
