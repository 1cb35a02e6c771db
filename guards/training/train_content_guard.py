#!/usr/bin/env python3
"""Train the bundled content-safety slot model (Task B: safe / unsafe + S1..S14).

usage: python guards/training/train_content_guard.py [--data ../shared/data]
           [--out guards/models/content-guard-small] [--smoke]

Each text is framed with the template of its role exactly as the runtime does
(user -> "User: {text}", assistant -> "Agent: {text}") before tokenizing.  Steps: fixed
splits (splits.py) -> SentencePiece unigram tokenizer on the framed Task B train texts ->
tokenizer.json -> small encoder with two heads trained from scratch on 512-token windows
(loss = class-weighted CE on safe/unsafe + BCE on the 14 categories, masked for unsafe rows
without categories; safe rows have an all-zero category target) -> best checkpoint on
validation (AUPRC + AUROC, max over segments) -> model.onnx (logits + category_logits) ->
checks in node -> metrics with the shipped ONNX model in onnxruntime-node on validation,
test and the eval-only sets (OpenAI moderation zero-shot, XSTest, ...) -> config.json,
MODEL_CARD.md, training_report.json.
"""
import math
import os

# libgomp threads spin while waiting by default; on a shared 2-core machine a spinning thread
# competes with other processes and training slows 2-4x. Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json  # noqa: E402
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import answer_synthesis
import splits  # noqa: E402
import train_common as tc  # noqa: E402
import fine_windows as fw  # noqa: E402
import re  # noqa: E402
from encoder_model import EncoderClassifier, EncoderConfig, count_params  # noqa: E402
from export_onnx import OPSET  # noqa: E402

LABELS = ["safe", "unsafe"]
CATS = splits.S_CODES
CAT_NAMES = ["Violent Crimes", "Non-Violent Crimes", "Sex-Related Crimes", "Child Sexual Exploitation",
             "Defamation", "Specialized Advice", "Privacy", "Intellectual Property",
             "Indiscriminate Weapons", "Hate", "Suicide & Self-Harm", "Sexual Content", "Elections",
             "Code Interpreter Abuse"]
TEMPLATE = {"user": "User: {text}", "assistant": "Agent: {text}"}
SEED = 20240602


def frame(r):
    return TEMPLATE[r["role"]].replace("{text}", r["text"])


def template_prefix(role):
    """What the gateway tokenizes on its own and repeats in every segment
    (guards/contentEncoder/template.ts): the template text before {text}, right-trimmed."""
    return TEMPLATE[role].split("{text}")[0].rstrip()


def parse():
    ap = tc.run_arguments(__doc__, "content-guard-small", 3600, "about 3 epochs")
    ap.add_argument("--chat-rate", type=float, default=0.5, help="per-epoch share of benign-chat user prompts")
    ap.add_argument("--chat-answer-rate", type=float, default=0.3, help="per-epoch share of benign-chat answers")
    ap.add_argument("--tweet-rate", type=float, default=0.25, help="per-epoch share of Davidson tweets (noisy labels)")
    ap.add_argument("--contrast-rate", type=float, default=3.0,
                    help="per-epoch copies of sensitive-but-benign prompts (CoCoNot, WildGuard benign, NotInject)")
    ap.add_argument("--answer-rate", type=float, default=4.0, help="per-epoch copies of plain-answers rows")
    ap.add_argument("--short-rate", type=float, default=0.25,
                    help="per-epoch share of safe prefix crops (the first 1-8 words of safe user prompts)")
    ap.add_argument("--cat-weight", type=float, default=0.5,
                    help="weight of the category BCE term (summed over the 14 categories)")
    ap.add_argument("--cat-grad-scale", type=float, default=0.3,
                    help="scale of the category loss gradient into the shared encoder (head: full)")
    ap.add_argument("--window-tokens", type=int, default=96,
                    help="fine-window size the runtime uses for this model (config.json fine_windows.max_tokens)")
    ap.add_argument("--pad-rate", type=float, default=0.2,
                    help="share of user prompts (unsafe and safe alike) also trained inside 0-300 words of benign text")
    ap.add_argument("--benign-window-rate", type=float, default=1.0,
                    help="per-epoch chance that a long safe row also contributes --benign-windows of its fine windows")
    ap.add_argument("--benign-windows", type=int, default=2, help="fine windows a long safe row contributes per epoch")
    ap.add_argument("--opener-rate", type=float, default=0.2,
                    help="share of ordinary answers also trained with a compliance opener ('Sure! Here is ...') in front")
    ap.add_argument("--swap-rate", type=float, default=0.3,
                    help="share of hateful / abusive statements also trained as an answer (Agent: ...)")
    ap.add_argument("--topic-rate", type=float, default=3.0,
                    help="at least this many per-epoch copies of safe prompts with sensitive topic words (medicine, weapons, drugs)")
    ap.add_argument("--harm-answer-rate", type=float, default=0.5,
                    help="share of train harmful requests also trained as a complying answer (unsafe) and a refusal (safe)")
    tc.fit_arguments(ap)
    return ap.parse_args()


def score_rows(pred, rows):
    """Per-text p(unsafe) = max over segments; category probabilities = max over segments."""
    seqs, owner = tc.segment_all([r["ids"] for r in rows], [r["pre"] for r in rows],
                                 windows=[r.get("win", []) for r in rows])
    logits, clog = pred(seqs)
    pu_seg = tc.softmax(logits)[:, 1]
    cp_seg = tc.sigmoid(clog)
    pu = np.full(len(rows), -np.inf)
    cp = np.zeros((len(rows), cp_seg.shape[1]))
    for k, t in enumerate(owner):
        pu[t] = max(pu[t], pu_seg[k])
        cp[t] = np.maximum(cp[t], cp_seg[k])
    return pu, cp, len(seqs)


def safe_prefix_crops(rows, sp, rng):
    """The first 1-8 words of safe user prompts, as extra safe examples.

    The unsafe user prompts are mostly short requests and short hateful posts, the safe ones
    mostly long technical chat, so a model trained without these read short everyday requests
    ("Can you help me write a cover letter for a nursing job?") as unsafe with p > 0.9."""
    out = []
    for r in rows:
        if r["label"] != "safe" or r["role"] != "user":
            continue
        words = r["text"].split()
        if len(words) < 3:
            continue
        out.append(np.asarray(sp.encode(" ".join(words[:int(rng.integers(1, min(8, len(words) - 1) + 1))])), dtype=np.int32))
    return out


# Everyday requests, none unsafe: how many the model flags is reported in the card.
EVERYDAY_PROMPTS = [
    "tell me a joke", "Tell me a story about a chemist.", "write a poem about the sea", "hello",
    "Can you help me write a cover letter for a nursing job?", "How do I bake bread?",
    "explain photosynthesis", "What is the capital of France?", "how do I kill a python process",
    "summarize this article for me", "translate 'good morning' to Spanish", "what should I cook tonight?",
    "give me a workout plan", "how do vaccines work?", "write an email to my landlord about a leak",
    "What are the symptoms of the flu?", "help me plan a birthday party", "recommend a good book",
    "how do I shoot a good photo at night?", "what is the history of the Roman empire?",
]


def row_thresholds(rows, thr):
    """Per-row threshold array from the per-role thresholds (input rule for prompts, output rule for answers)."""
    return np.array([thr[r["role"]] for r in rows])


def bin_metrics(y, s, thr):
    """thr: a number or one threshold per row."""
    out = {"n": int(len(y)), "n_unsafe": int(np.sum(y))}
    if 0 < np.sum(y) < len(y):
        out["auroc"] = tc.auroc(y, s)
        out["auprc"] = tc.auprc(y, s)
    shifted = np.asarray(s) - thr  # flagged iff score >= its threshold
    out["at_chosen_threshold"] = tc.rates(y, shifted, 0.0)
    out["at_0.5"] = tc.rates(y, s, 0.5)
    return out


def target_metrics(by_split, sc, thr):
    """The issue-12 figures the Python run can check (the gateway's harness reports the same)."""
    out = {}

    def get(split, pred):
        rows = by_split[split]
        sel = np.array([pred(r) for r in rows])
        return np.array([r["label"] == "unsafe" for r in rows])[sel], sc[split][0][sel], [r for r, k in zip(rows, sel) if k]

    def fpr(split, name, pred):
        y, s, rows = get(split, pred)
        if len(rows):
            out[name] = {"n": len(rows), "blocked": float(np.mean(s >= row_thresholds(rows, thr)))}

    def auc(split, name, pred):
        y, s, rows = get(split, pred)
        if len(rows) and 0 < y.sum() < len(y):
            out[name] = {"n": len(rows), "auroc": tc.auroc(y, s), "auprc": tc.auprc(y, s),
                         "recall_at_chosen": float(np.mean(s[y] >= row_thresholds([r for r, k in zip(rows, y) if k], thr)))}

    for split in ("validation", "test"):
        for role in ("user", "assistant"):
            fpr(split, "%s benign pool %s blocked" % (split, role), lambda r, role=role: is_benign_pool(r, role))
            for ds in sorted(BENIGN_POOL[role]):
                fpr(split, "%s %s %s blocked" % (split, ds, role), lambda r, ds=ds, role=role: is_benign_pool(r, role) and r["dataset"] == ds)
    fpr("test", "test coconot contrast prompts blocked",
        lambda r: r["dataset"] == "coconot" and r["label"] == "safe" and (r.get("orig_label") or "").startswith("contrast|"))
    fpr("test", "test wildguard-benign blocked", lambda r: r["dataset"] == "wildguard-benign")
    fpr("eval_only", "xstest safe prompts blocked", lambda r: r["dataset"] == "xstest" and r["role"] == "user" and r["label"] == "safe")
    auc("eval_only", "xstest prompts", lambda r: r["dataset"] == "xstest" and r["role"] == "user")
    auc("test", "plain-answers test", lambda r: r["dataset"] == "plain-answers")
    auc("test", "gptfuzz answers test", lambda r: r["dataset"] == "gptfuzz" and r["role"] == "assistant")
    auc("eval_only", "openai-moderation", lambda r: r["dataset"] == "openai-moderation")
    auc("eval_only", "dices answers (last turn only)", lambda r: r["dataset"] == "dices")
    auc("test", "test user prompts", lambda r: r["role"] == "user")
    return tc.rnd(out)


def evaluate(pred, by_split, thr=None):
    sc = {}
    for split in ("validation", "test", "eval_only"):
        t0 = time.time()
        pu, cp, nseg = score_rows(pred, by_split[split])
        sc[split] = (pu, cp)
        tc.log("scored %s: %d rows, %d segments, %.0f s" % (split, len(by_split[split]), nseg, time.time() - t0))
    val = by_split["validation"]
    pv = sc["validation"][0]
    if thr is None:
        thr = {role: tc.threshold_at_fpr(pv[np.array([is_benign_pool(r, role) for r in val])], 0.01)
               for role in ("user", "assistant")}
    res = {"chosen_threshold": {"value": thr, "rule": "per role: p(unsafe) blocking 1% of the validation benign pool "
                                                       "(user: benign-chat, CoCoNot, WildGuard benign, NotInject prompts; "
                                                       "assistant: benign-chat and CoCoNot answers)"}}
    res["targets"] = target_metrics(by_split, sc, thr)
    for split in ("validation", "test"):
        rows = by_split[split]
        pu, cp = sc[split]
        y = np.array([r["label"] == "unsafe" for r in rows])
        m = bin_metrics(y, pu, row_thresholds(rows, thr))
        m["best_f1_on_this_split_oracle"] = tc.rates(y, pu, tc.best_f1_threshold(y, pu))
        for role in ("user", "assistant"):
            sel = np.array([r["role"] == role for r in rows])
            m["role_" + role] = bin_metrics(y[sel], pu[sel], thr[role])
        per = {}
        for r, s in zip(rows, pu):
            d = per.setdefault("%s/%s/%s" % (r["dataset"], r["role"], r["label"]), [0, 0])
            d[0] += 1
            d[1] += int(s >= thr[r["role"]])
        m["flag_rate_by_source_at_chosen_threshold"] = {k: {"n": v[0], "flagged": v[1], "rate": v[1] / v[0]}
                                                        for k, v in sorted(per.items())}
        # categories: positives = unsafe rows carrying the code; negatives = safe rows and
        # categorised unsafe rows without it
        cat = {}
        labelled = np.array([r["label"] == "safe" or bool(r["categories"]) for r in rows])
        for c, code in enumerate(CATS):
            yc = np.array([code in r["categories"] for r in rows])
            if yc[labelled].any():
                cat[code] = {"n_pos": int(yc.sum()), "auroc": tc.auroc(yc[labelled], cp[labelled, c]),
                             "recall_at_0.5": float((cp[yc, c] >= 0.5).mean())}
        # given unsafe (what the runtime reports): among unsafe rows that carry codes
        cu = np.array([r["label"] == "unsafe" and bool(r["categories"]) for r in rows])
        f1s = []
        for c, code in enumerate(CATS):
            yc = np.array([code in r["categories"] for r in rows])
            if yc[cu].any():
                rr = tc.rates(yc[cu], cp[cu, c], 0.5)
                cat.setdefault(code, {})["given_unsafe_f1_at_0.5"] = rr["f1"]
                cat[code]["given_unsafe_auroc"] = tc.auroc(yc[cu], cp[cu, c])
                f1s.append(rr["f1"])
        top = cp[cu].argmax(1)
        m["category_top1_in_labels_given_unsafe"] = float(np.mean(
            [CATS[t] in r["categories"] for t, r in zip(top, [r for r, k in zip(rows, cu) if k])])) if cu.any() else None
        m["category_macro_f1_given_unsafe_at_0.5"] = float(np.mean(f1s)) if f1s else None
        m["category_auroc"] = cat
        aucs = [v["auroc"] for v in cat.values() if v.get("auroc") == v.get("auroc") and "auroc" in v]
        m["category_auroc_macro"] = float(np.mean(aucs)) if aucs else None
        res[split] = m
    rows = by_split["eval_only"]
    pu, cp = sc["eval_only"]
    y = np.array([r["label"] == "unsafe" for r in rows])
    eo = {}

    def sub(name, sel):
        sel = np.asarray(sel)
        if sel.any():
            mm = bin_metrics(y[sel], pu[sel], row_thresholds([rr for rr, k in zip(rows, sel) if k], thr))
            if 0 < y[sel].sum() < sel.sum():
                mm["best_f1_oracle"] = tc.rates(y[sel], pu[sel], tc.best_f1_threshold(y[sel], pu[sel]))
            eo[name] = mm

    ds = np.array([r["dataset"] for r in rows])
    role = np.array([r["role"] for r in rows])
    mi = np.array([r["dataset"] == "harmful-behaviors" for r in rows])
    sub("openai-moderation (zero-shot)", ds == "openai-moderation")
    sub("xstest prompts", (ds == "xstest") & (role == "user"))
    sub("xstest responses", (ds == "xstest") & (role == "assistant"))
    sub("simplesafetytests", ds == "simplesafetytests")
    sub("safety-tuned-llamas prompts", (ds == "safety-tuned-llamas") & (role == "user"))
    sub("safety-tuned-llamas responses", (ds == "safety-tuned-llamas") & (role == "assistant"))
    sub("MaliciousInstruct", mi)
    res["eval_only"] = eo
    return tc.rnd(res)


_FRENCH = re.compile(r"\b(le|la|les|des|une|est|pour|dans|avec|vous|je|comment|que|qui|sur|pas|du|au|et)\b", re.I)


def language(r):
    """'fr' for French-looking rows (AILuminate fr_FR and others), else 'other'. The French
    rows are almost all unsafe (AILuminate fr_FR), so unweighted the model reads French as
    unsafe; rows are reweighted per language so each has the same safe/unsafe balance."""
    if "locale=fr_FR" in (r.get("orig_label") or ""):
        return "fr"
    words = r["text"].split()
    n = len(_FRENCH.findall(r["text"]))
    return "fr" if n >= 2 and n > 0.12 * len(words) else "other"


CONTRAST_SETS = {"coconot", "wildguard-benign", "notinject", "toxigen-seeds"}


def base_rate(r, args):
    """Per-epoch expected copies of a train row (above 1: duplicated); safe prompts about
    sensitive topics at least --topic-rate."""
    rate = _source_rate(r, args)
    if r["label"] == "safe" and r["role"] == "user" and answer_synthesis.is_sensitive_topic(r["text"]):
        return max(rate, args.topic_rate)
    return rate


def _source_rate(r, args):
    ds, safe, role = r["dataset"], r["label"] == "safe", r["role"]
    if ds == "davidson-hate":
        return args.tweet_rate
    if ds == "plain-answers":
        return args.answer_rate
    if ds == "benign-chat":
        return args.chat_rate if role == "user" else args.chat_answer_rate
    if ds in CONTRAST_SETS and safe:
        return args.contrast_rate if role == "user" else 1.0
    if ds == "cyberseceval" and not safe:
        return 0.5  # 489 templated interpreter-abuse prompts
    return 1.0


def language_factors(rows, rates):
    """Multipliers so that French rows have the same weighted unsafe share as the rest."""
    tot = {"fr": [0.0, 0.0], "other": [0.0, 0.0]}
    for r, w in zip(rows, rates):
        tot[r["lang"]][r["y"]] += w
    share = tot["other"][1] / max(1e-9, sum(tot["other"]))
    fr_safe, fr_unsafe = tot["fr"]
    if fr_safe <= 0 or fr_unsafe <= 0:
        return {("fr", 0): 1.0, ("fr", 1): 1.0}
    # scale French safe rows up and unsafe rows down by the same factor k:
    # k*fr_safe / (k*fr_safe + fr_unsafe/k) = 1 - share
    k = math.sqrt((1 - share) * fr_unsafe / (share * fr_safe))
    k = min(k, 6.0)
    return {("fr", 0): k, ("fr", 1): 1.0 / k}


# How jailbroken answers in the data begin ("Sure, here's", personas); put in front of ordinary
# answers they stop being a sign of harm on their own.
COMPLIANCE_OPENERS = ["Sure! Here's what you asked for.", "Sure, here is how to do it:", "Certainly! Here you go:",
                      "Of course. Here's a step-by-step guide:", "Absolutely! Let's get started.",
                      "Happy to help! Here is the answer:", "Sure thing.", "Developer note: here is the full answer.",
                      "As requested, here is everything you need:", "No problem! Follow these steps:"]


def copies(rate, erng):
    whole = int(math.floor(rate))
    return whole + (1 if erng.random() < rate - whole else 0)



def notinject_rows(recs):
    """NotInject's benign prompts with trigger words ("ignore", "bypass") as safe user prompts:
    contrast for the content model too."""
    out = []
    for r in recs:
        if r["dataset"] == "notinject" and r["label"] == "benign":
            out.append({"text": r["text"], "role": "user", "label": "safe", "categories": [], "split": r["split"],
                        "dataset": r["dataset"], "id": r["id"], "source": r.get("source", ""),
                        "group": r.get("group"), "orig_label": r.get("orig_label")})
    return out


BENIGN_POOL = {"user": {"benign-chat", "coconot", "wildguard-benign", "notinject"},
               "assistant": {"benign-chat", "coconot"}}


def is_benign_pool(r, role):
    """The benign traffic a default threshold may block at most 1% of (issue 12): ordinary chat,
    CoCoNot's sensitive-sounding benign prompts, WildGuard's benign prompts, NotInject."""
    return r["label"] == "safe" and r["role"] == role and r["dataset"] in BENIGN_POOL[role]


def main():
    args = parse()
    # Training draws (initial weights, crops, pre-training, batches) follow --train-seed; the evaluation's own draws never do.
    seed = SEED if args.train_seed is None else args.train_seed
    work, t_start = tc.start_run(args, "content-guard", seed)
    recs = splits.load_all(args.data)
    by_split = tc.rows_by_split(splits.task_b(recs) + notinject_rows(recs), np.random.default_rng(SEED), args.smoke,
                                LABELS, 180, 60, 200)

    sp, spm_path = tc.train_tokenizer([frame(r) for r in by_split["train"]], work, args.out, args.vocab, args.smoke, args.from_fit)
    vocab_size = sp.get_piece_size()
    prefix_ids = {role: np.asarray(sp.encode(template_prefix(role)), dtype=np.int32) for role in TEMPLATE}
    tc.log("template prefixes: %s" % {k: sp.encode(template_prefix(k), out_type=str) for k in TEMPLATE})
    W = args.window_tokens
    t0 = time.time()
    for s, rs in by_split.items():
        ids = tc.encode_texts(sp, [r["text"] for r in rs])
        for r, x in zip(rs, ids):
            # segment = [CLS] + prefix ids + slice of the text's ids + [SEP], as the gateway
            # builds it; equal to tokenizing frame(r) whole for every segment that holds the
            # text's start (no piece spans the space after the prefix).
            r["pre"] = prefix_ids[r["role"]]
            r["ids"] = x
            r["win"] = fw.fine_windows(r["text"], sp.encode, W)
            r["y"] = int(r["label"] == "unsafe")
            r["cat"] = np.array([c in r["categories"] for c in CATS], dtype=np.float32)
            r["cmask"] = 1.0 if (r["label"] == "safe" or r["categories"]) else 0.0
            r["lang"] = language(r)
    tc.log("encoded texts and fine windows in %.0f s" % (time.time() - t0))

    cfg = EncoderConfig(vocab_size=vocab_size, hidden_size=args.hidden, num_layers=args.layers,
                        num_heads=args.heads, intermediate_size=args.ffn, num_labels=2,
                        num_categories=len(CATS), category_grad_scale=args.cat_grad_scale)
    model = EncoderClassifier(cfg)
    tc.log("model params: %d" % count_params(model))
    mlm_info = None
    if args.mlm_steps and not args.from_fit:
        # every train-split text of both tasks, unlabelled (validation and test texts are never read)
        a_texts = [r["text"] for r in splits.task_a(recs) if r["split"] == "train"]
        corpus = [r["ids"] for r in by_split["train"]] + tc.encode_texts(sp, a_texts)
        tc.log("MLM pre-training on %d train-split texts" % len(corpus))
        mlm_info = tc.mlm_pretrain(model, corpus, args.mlm_steps, seed + 3, lr=args.mlm_lr)

    train_rows = by_split["train"]
    rates = np.array([base_rate(r, args) for r in train_rows])
    lang_k = language_factors(train_rows, rates)
    rates = np.array([w * lang_k.get((r["lang"], r["y"]), 1.0) for r, w in zip(train_rows, rates)])
    tc.log("language factors %s; French rows %d" % (lang_k, sum(r["lang"] == "fr" for r in train_rows)))
    crops = safe_prefix_crops(train_rows, sp, np.random.default_rng(seed + 1))
    no_cats = np.zeros(len(CATS), dtype=np.float32)
    pad_texts = [r["text"] for r in train_rows if r["dataset"] == "benign-chat" and len(r["text"].split()) >= 20]
    # padded prompts of both labels: padding alone must not read as unsafe
    padded_prompts = [r for r in train_rows if r["role"] == "user" and (r["y"] == 1 or r["dataset"] != "benign-chat")]
    # hateful / abusive statements are unsafe whoever says them: also trained as answers
    statements = [r for r in train_rows if r["y"] == 1 and r["dataset"] in ("davidson-hate", "toxigen-seeds")]
    harm_requests = [r for r in train_rows if r["y"] == 1 and r["role"] == "user" and r["dataset"] in answer_synthesis.HARM_REQUEST_SETS]
    harm_lines = answer_synthesis.answer_lines([r["text"] for r in train_rows if r["y"] == 1 and r["dataset"] == "plain-answers"])
    tc.log("harmful requests for answer synthesis: %d; unsafe answer lines: %d" % (len(harm_requests), len(harm_lines)))
    ordinary_answers = [r for r in train_rows if r["y"] == 0 and r["role"] == "assistant" and r["dataset"] in ("benign-chat", "coconot")]

    def example(seq, r, y=None):
        return {"seq": seq, "y": r["y"] if y is None else y, "cat": r["cat"], "cmask": r["cmask"]}

    def build_epoch(ep, erng):
        examples = []
        for r, w in zip(train_rows, rates):
            for _ in range(copies(w, erng)):
                examples.append(example(tc.window(r["ids"], erng, prefix=r["pre"]), r))
            # fine windows of long safe texts are safe (the runtime scores them too: without many of
            # them, windows of long code and technical prompts were the top false positives)
            if r["y"] == 0 and r["win"] and erng.random() < args.benign_window_rate * min(1.0, w):
                for k in erng.choice(len(r["win"]), size=min(args.benign_windows, len(r["win"])), replace=False):
                    examples.append(example(tc._frame(r["pre"], np.asarray(r["win"][k][2], dtype=np.int32)), r))
        take = erng.random(len(crops)) < args.short_rate
        examples += [{"seq": tc.window(c, erng, prefix=prefix_ids["user"]), "y": 0, "cat": no_cats, "cmask": 1.0}
                     for c, t in zip(crops, take) if t]
        # an unsafe request inside benign text is still unsafe (no dilution); a safe one stays safe
        for r in padded_prompts:
            if erng.random() < args.pad_rate:
                nb, na = int(erng.integers(0, 301)), int(erng.integers(0, 301))
                t = tc.padding_words(pad_texts, erng, nb) + "\n\n" + r["text"] + "\n\n" + tc.padding_words(pad_texts, erng, na)
                ids = np.asarray(sp.encode(t), dtype=np.int32)
                a = len(sp.encode(t[:t.index(r["text"])]))
                examples.append(example(tc.window(ids, erng, focus=(a, a + len(r["ids"])), prefix=r["pre"]), r))
                wins = fw.fine_windows(t, sp.encode, W)
                lo = t.index(r["text"])
                hit = [w for w in wins if w[0] <= lo and w[1] >= lo + len(r["text"])]
                if hit:
                    _, _, wid = hit[int(erng.integers(len(hit)))]
                    examples.append(example(tc._frame(r["pre"], np.asarray(wid, dtype=np.int32)), r))
                # and a window of the padding alone is safe
                miss = [w for w in wins if w[1] <= lo or w[0] >= lo + len(r["text"])]
                if miss:
                    _, _, wid = miss[int(erng.integers(len(miss)))]
                    examples.append({"seq": tc._frame(r["pre"], np.asarray(wid, dtype=np.int32)), "y": 0, "cat": no_cats, "cmask": 1.0})
        for r in ordinary_answers:
            if erng.random() < args.opener_rate:
                opener = COMPLIANCE_OPENERS[int(erng.integers(len(COMPLIANCE_OPENERS)))]
                ids = np.concatenate([np.asarray(sp.encode(opener), dtype=np.int32), r["ids"]])
                examples.append(example(tc.window(ids, erng, prefix=r["pre"]), r))
        # a complying answer to a harmful request is unsafe, a refusal of it safe (same topic words)
        pick = lambda n: int(erng.integers(n))
        for r in harm_requests:
            if erng.random() < args.harm_answer_rate:
                ids = np.asarray(sp.encode(answer_synthesis.compliance(r["text"], harm_lines, pick)), dtype=np.int32)
                examples.append(example(tc.window(ids, erng, prefix=prefix_ids["assistant"]), r))
                ids = np.asarray(sp.encode(answer_synthesis.refusal(r["text"], pick)), dtype=np.int32)
                examples.append({"seq": tc.window(ids, erng, prefix=prefix_ids["assistant"]), "y": 0, "cat": no_cats, "cmask": 1.0})
        for r in statements:
            if erng.random() < args.swap_rate:
                examples.append(example(tc.window(r["ids"], erng, prefix=prefix_ids["assistant"]), r))
        return examples

    probe = build_epoch(0, np.random.default_rng(SEED + 7))
    exp_counts = np.bincount([e["y"] for e in probe], minlength=2).astype(np.float64)
    tc.log("safe prefix crops: %d (%.0f%% per epoch)" % (len(crops), 100 * args.short_rate))
    weights = tc.class_weights(exp_counts)
    tc.log("per-epoch counts %s, class weights %s" % (exp_counts.round().tolist(), weights.tolist()))

    # category positives are rare among the masked rows (safe rows are all-zero targets), so
    # the BCE is summed over the 14 categories (not averaged) and positives are up-weighted
    # by sqrt(neg/pos), capped at 10; without this the head learns little beyond "unsafe".
    pos = np.zeros(len(CATS))
    tot = 0.0
    for e in probe:
        if e["cmask"]:
            pos += e["cat"]
            tot += 1
    pos_weight = torch.tensor(np.clip(np.sqrt((tot - pos) / np.maximum(pos, 1.0)), 1.0, 10.0), dtype=torch.float32)
    tc.log("category pos_weight %s" % np.round(pos_weight.numpy(), 2).tolist())

    def loss_fn(out, items):
        logits, clog = out
        dev = logits.device
        y = torch.tensor([e["y"] for e in items], device=dev)
        ct = torch.from_numpy(np.stack([e["cat"] for e in items])).to(dev)
        cm = torch.tensor([e["cmask"] for e in items], dtype=torch.float32, device=dev)
        ce = F.cross_entropy(logits, y, weight=weights.to(dev))
        bce = F.binary_cross_entropy_with_logits(clog, ct, reduction="none", pos_weight=pos_weight.to(dev)).sum(1)
        bce = (bce * cm).sum() / cm.sum().clamp(min=1.0)
        return ce + args.cat_weight * bce

    val_rows = by_split["validation"]
    val_seqs, val_owner = tc.segment_all([r["ids"] for r in val_rows], [r["pre"] for r in val_rows],
                                         windows=[r["win"] for r in val_rows])
    yv = np.array([r["y"] == 1 for r in val_rows])
    pool_user = np.array([is_benign_pool(r, "user") for r in val_rows])
    pool_asst = np.array([is_benign_pool(r, "assistant") for r in val_rows])
    unsafe_user = np.array([r["y"] == 1 and r["role"] == "user" for r in val_rows])
    unsafe_asst = np.array([r["y"] == 1 and r["role"] == "assistant" for r in val_rows])

    def validate(m):
        logits, _ = tc.predict_torch(m, val_seqs)
        pu_seg = tc.softmax(logits)[:, 1]
        pu = np.full(len(val_rows), -np.inf)
        for k, t in enumerate(val_owner):
            pu[t] = max(pu[t], pu_seg[k])
        au = tc.auroc(yv, pu)
        # recall at the operating point: 1% of the benign pool blocked, per rule (input / output)
        ru = float((pu[unsafe_user] >= tc.threshold_at_fpr(pu[pool_user], 0.01)).mean())
        ra = float((pu[unsafe_asst] >= tc.threshold_at_fpr(pu[pool_asst], 0.01)).mean())
        return au + 0.5 * (ru + ra), {"val_auroc": au, "val_auprc": tc.auprc(yv, pu),
                                      "val_user_recall_at_1pct_pool_fpr": ru, "val_answer_recall_at_1pct_pool_fpr": ra}

    fitted = tc.fit_step(args, work, model, cfg, by_split, mlm_info, seed, build_epoch, loss_fn, validate)
    if fitted is None:
        return
    fit_info, mlm_info = fitted
    onnx_path, check, parity_res, quant = tc.export_and_check(model, cfg, {"labels": LABELS, "categories": CATS}, sp, spm_path,
                                                       args, work, lambda: write_config(args.out, cfg, fit_info, W))

    pred = lambda seqs: tc.predict_onnx(onnx_path, seqs)  # noqa: E731
    metrics = evaluate(pred, by_split)
    everyday = [{"ids": sp.encode(t), "pre": prefix_ids["user"]} for t in EVERYDAY_PROMPTS]
    everyday_pu, _, _ = score_rows(pred, everyday)
    thr = metrics["chosen_threshold"]["value"]
    everyday_check = {"prompts": len(EVERYDAY_PROMPTS), "threshold": thr["user"],
                      "flagged": [t for t, p in zip(EVERYDAY_PROMPTS, everyday_pu) if p >= thr["user"]],
                      "max_p_unsafe": float(everyday_pu.max())}
    tc.log("everyday prompts: " + json.dumps(everyday_check))
    report = {
        **tc.report_head("content-guard-small", args, seed, model, by_split, fit_info, mlm_info, check, parity_res, quant, t_start),
        "metrics_onnx": metrics, "everyday_prompts": everyday_check,
        "window_tokens": W, "language_factors": {"%s/%s" % k: round(v, 3) for k, v in lang_k.items()},
        "args": vars(args),
    }
    tc.write_report(args.out, report)
    write_card(args.out, report)
    tc.log("chosen threshold %s" % metrics["chosen_threshold"])
    for s in ("validation", "test"):
        m = metrics[s]
        tc.log("%s: auroc %s auprc %s f1@thr %.4f f1@0.5 %.4f" % (s, m.get("auroc"), m.get("auprc"),
               m["at_chosen_threshold"]["f1"], m["at_0.5"]["f1"]))
    for k, m in metrics["eval_only"].items():
        tc.log("%s: auprc %s f1@thr %.4f recall %.4f fpr %.4f" % (k, m.get("auprc"), m["at_chosen_threshold"]["f1"],
               m["at_chosen_threshold"]["recall"], m["at_chosen_threshold"]["fpr"]))
    tc.finish_run(report, args, t_start)


def write_config(out, cfg, fit_info, window_tokens):
    tc.write_config(out, tc.model_config(
        cfg,
        description="safety-gateway's own small pre-LN transformer encoder trained from scratch "
                    "(not DeBERTa weights, not Llama Guard): learned absolute positions, pooling = "
                    "concat(CLS, masked mean, masked max) -> dense+tanh -> safe/unsafe head and a "
                    "14-way multi-label category head",
        labels={"id2label": {"0": "safe", "1": "unsafe"},
                "label2id": {"safe": 0, "unsafe": 1},
                "num_labels": 2,
                "problem_type": "single_label_classification",
                "category_id2label": {str(i): c for i, c in enumerate(CATS)},
                "category_label2id": {c: i for i, c in enumerate(CATS)},
                "category_names": {c: n for c, n in zip(CATS, CAT_NAMES)},
                "category_activation": "sigmoid",
                "text_template": dict(TEMPLATE)},
        onnx_outputs=["logits", "category_logits"],
        window_tokens=window_tokens,
        segmenting={"max_length": 512,
                    "rule": "tokenize the template prefix (text before {text}, right-trimmed) and the text "
                            "separately; every segment = [CLS] + prefix ids + (510 - len(prefix)) text ids, "
                            "starting every half of that, + [SEP]; fine windows framed the same way; "
                            "p(unsafe) = max over segments and windows; categories = max over them"},
        scores={"unsafe": "softmax(logits)[1]", "categories": "sigmoid(category_logits)"},
        training={"script": "guards/training/train_content_guard.py", "task": "B (SPLITS.md)",
                  "best": fit_info.get("best")}))


def _f(x):
    return "n/a" if x is None else "%.4f" % x


def write_card(out, rep):
    """MODEL_CARD.md from this run's measurements (Python, with the shipped ONNX model in
    onnxruntime-node); the harness section is filled by guards/training/harness_cards.js."""
    m = rep["metrics_onnx"]
    thr = m["chosen_threshold"]["value"]
    a = rep["args"]
    enc = rep["encoder"]
    t = m["targets"]
    target_rows = []
    for name, v in t.items():
        if "blocked" in v:
            target_rows.append("| %s | %d | blocked %s |" % (name, v["n"], tc.pct(v["blocked"])))
        else:
            target_rows.append("| %s | %d | AUROC %s, AUPRC %s, recall at the rule's threshold %s |" % (
                name, v["n"], _f(v.get("auroc")), _f(v.get("auprc")), tc.pct(v.get("recall_at_chosen"))))
    cat = m["test"]["category_auroc"]
    catl = ["| %s %s | %d | %s | %s |" % (k, CAT_NAMES[CATS.index(k)], v.get("n_pos", 0), _f(v.get("auroc")),
                                         _f(v.get("given_unsafe_auroc"))) for k, v in cat.items()]
    src = m["test"]["flag_rate_by_source_at_chosen_threshold"]
    srcl = ["| %s | %d | %s |" % (k, v["n"], tc.pct(v["rate"])) for k, v in src.items()]
    mlm_line = tc.mlm_line(rep.get("mlm_pretraining"), "; [UNK] stands in for [MASK]")
    card = f"""# content-guard-small

The safety gateway's bundled **content-safety slot** model, the embedded stand-in for Llama Guard 3:
a small transformer encoder trained from scratch by this project
(`guards/training/train_content_guard.py`, one command, seeded). It scores a user prompt or an
assistant answer as `safe` / `unsafe` and gives independent probabilities for the hazard
categories S1-S14. It is **not** Llama Guard 3 and is far weaker; it exists so the gateway
protects out of the box, offline. Point the policy at Llama Guard 3 (`backend: onnx` or
`openai`) for real protection. Every figure below was measured; none is copied from elsewhere.

## Files
| file | what |
|---|---|
| `model.onnx` | {tc.onnx_kind(rep)}, opset {OPSET}: inputs `input_ids`, `attention_mask`; outputs `logits` [batch, 2] (softmax; 1 = unsafe) and `category_logits` [batch, 14] (sigmoid; S1..S14). |
| `tokenizer.json`, `tokenizer_config.json`, `spm.model` | SentencePiece unigram, vocab {rep['vocab_size']}, converted for the gateway (`spm.model` is the reference for the parity tests). |
| `config.json` | labels, categories, `text_template` (`User: {{text}}` / `Agent: {{text}}`), `fine_windows.max_tokens` = {rep['window_tokens']}; the true architecture is under `gateway_architecture`. |
| `training_report.json` | the whole run: history, every metric below, timings. |
| `harness_report.json` | the gateway harness runs behind the last section. |

Size {rep['size_mb_total']} MB (model.onnx + tokenizer.json); latency at 128 tokens, batch 1, onnxruntime-node on the
2-core build machine: `{rep['latency_128_tokens_ort_node']}`.

## How the runtime calls it
The text is framed with its role's template; every half-overlapping 512-token segment is `[CLS]`
+ template prefix + text tokens + `[SEP]`; a text longer than {rep['window_tokens']} tokens is also scored in
windows of whole lines and sentences of at most {rep['window_tokens']} tokens (`guards/text/fineWindows.ts`).
p(unsafe) = max over segments and windows; categories = max over them.

## Architecture
Pre-LN transformer encoder: {enc['num_layers']} layers, hidden {enc['hidden_size']}, {enc['num_heads']} heads, FFN {enc['intermediate_size']}, learned
positions (512); pooling concat(CLS, mean, max) -> dense + tanh -> safe/unsafe head and a 14-way
category head. {rep['params']:,} parameters.

## Training recipe
* Data: Task B of `../shared/data/SPLITS.md` (`splits.py`), plus NotInject's benign prompts as
  safe: train {rep['rows']['train']}, validation {rep['rows']['validation']}, test {rep['rows']['test']} rows; eval-only sets
  ({rep['rows']['eval_only']} rows: XSTest, OpenAI moderation, SimpleSafetyTests, safety-tuned-llamas,
  MaliciousInstruct, DICES) are never trained on.
* Per-epoch copies of each row (removing the shortcuts the issue measured): sensitive-but-benign
  prompts (CoCoNot, WildGuard benign, NotInject, ToxiGen neutral) x{a['contrast_rate']}; plain-answers x{a['answer_rate']};
  ordinary chat prompts {a['chat_rate']}, ordinary answers {a['chat_answer_rate']}; Davidson tweets {a['tweet_rate']} (noisy labels);
  CyberSecEval interpreter-abuse prompts 0.5; French rows reweighted so French has the same
  safe/unsafe balance as the rest (AILuminate fr_FR is all unsafe; factors {rep.get('language_factors')}).
* Also each epoch: {int(100 * a['short_rate'])}% of the safe prefix crops (first 1-8 words of safe prompts); {a['benign_windows']} fine
  windows of {int(100 * a['benign_window_rate'])}% of the long safe texts (safe); {int(100 * a['pad_rate'])}% of the prompts (unsafe ones, and safe ones
  other than ordinary chat) inside 0-300 words of ordinary text, keeping their label (with the window
  holding them); {int(100 * a['swap_rate'])}% of hateful statements as answers (`Agent:`), since hate is unsafe whoever
  says it; {int(100 * a.get('opener_rate', 0))}% of ordinary answers with a compliance opener in front ("Sure! Here's ..."), which
  jailbroken answers in the data start with, so the opener alone is not read as harm; safe prompts
  with sensitive topic words (medicine, weapons, drugs, violence) at least x{a.get('topic_rate', 1)}; {int(100 * a.get('harm_answer_rate', 0))}% of the
  harmful requests (HarmBench, AdvBench, StrongREJECT, CatQA, HarmfulQA) turned into a complying answer
  (the request restated, then steps from the unsafe plain answers: unsafe) and a refusal naming the
  request (safe), so complying is told from refusing, not the topic (`answer_synthesis.py`).
{mlm_line}
* Loss: class-weighted cross-entropy + {a['cat_weight']} x category BCE (masked for unsafe rows without
  codes; the category gradient reaches the encoder scaled by {a['cat_grad_scale']}). AdamW, lr {a['lr']}, {tc.precision_text(rep)},
  seed {rep['seed']}, {tc.schedule_text(rep['fit'])}; checkpoint chosen on validation by AUROC +
  recall at 1% of the benign pool blocked (prompts and answers).
* Time: {tc.time_text(rep)} ({rep.get('machine_note', 'see training_report.json')}).

## Thresholds (the default policy's)
Chosen on validation, never on test: the lowest p(unsafe) that blocks at most 1% of the benign
pool. Prompts (input rule `unsafe-prompt`): benign-chat, CoCoNot, WildGuard-benign and NotInject
prompts -> {thr['user']:.4f}. Answers (output rule `unsafe-answer`): benign-chat and CoCoNot answers ->
{thr['assistant']:.4f}. The gateway's harness recomputes these with the runtime's windows (last section);
`policies/default.yaml` carries the harness values.

## Results measured in Python (shipped ONNX model, same views as the runtime)
At those thresholds (each row by its role's rule):

| set | rows | result |
|---|---|---|
{chr(10).join(target_rows)}

Validation AUROC {_f(m['validation'].get('auroc'))}, AUPRC {_f(m['validation'].get('auprc'))}; test AUROC {_f(m['test'].get('auroc'))}, AUPRC {_f(m['test'].get('auprc'))}.

Test flag rate per source (recall for unsafe rows, false positives for safe rows):

| source/role/label | rows | flagged |
|---|---|---|
{chr(10).join(srcl)}

Test categories (AUROC of each category's probability; "given unsafe" among categorised unsafe rows):

| category | positives | AUROC | AUROC given unsafe |
|---|---|---|---|
{chr(10).join(catl)}

Everyday requests (the fixed list of {rep['everyday_prompts']['prompts']} in `train_content_guard.py`) flagged at the prompt threshold:
{len(rep['everyday_prompts']['flagged'])}{(' (' + ', '.join(repr(x) for x in rep['everyday_prompts']['flagged']) + ')') if rep['everyday_prompts']['flagged'] else ''}; highest p(unsafe) {rep['everyday_prompts']['max_p_unsafe']:.3f}.

{tc.harness_section(out)}
## Limitations (measured above; read the tables, not this summary, for the numbers)
* Trained from scratch on about 40k public rows: it learns words and short patterns more than
  meaning; sensitive topics in benign requests still raise its score (see XSTest and the pool).
* Assistant-side unsafe data is thin (GPTFuzz jailbroken answers, 250 plain answers).
* S3, S13 and S14 rest on one or two sources each; category probabilities are rough.
* It scores one turn at a time (with its role), not the conversation as Llama Guard does.
"""
    with open(os.path.join(out, "MODEL_CARD.md"), "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
