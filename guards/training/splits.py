#!/usr/bin/env python3
"""Fixed train/validation/test/eval_only splits of the shared guard data.

Implements ../shared/data/SPLITS.md exactly:

1. norm(text): NFKC, collapse whitespace to single spaces, strip, lowercase.
2. key: ``g:<dataset>:<group>`` when the record has a group, else ``t:<norm>``.
3. bucket = int(sha256(key).hexdigest()[:8], 16) % 100:
   0-79 train, 80-89 validation, 90-99 test.
4. the same normalised text in several splits -> every copy moves to the
   latest one (test > validation > train).
5. eval-only sets (xstest, simplesafetytests, openai-moderation,
   safety-tuned-llamas, dices, MaliciousInstruct rows of harmful-behaviors) form
   the separate ``eval_only`` partition.

Task A / Task B assembly (SPLITS.md sections 2 and 3) is in ``task_a`` and
``task_b``.  Dataset name = folder name under the data directory.

``/usr/bin/python3 guards/training/splits.py --check`` prints the count tables
and asserts they equal SPLITS.md's.
"""
import argparse
import collections
import hashlib
import json
import os
import re
import sys
import unicodedata

SPLITS = ("train", "validation", "test")
EVAL_ONLY = "eval_only"
SPLIT_ORDER = {"train": 0, "validation": 1, "test": 2}
EVAL_ONLY_SETS = {"xstest", "simplesafetytests", "openai-moderation", "safety-tuned-llamas", "dices"}
S_CODES = ["S%d" % i for i in range(1, 15)]
A_LABELS = ["benign", "injection", "jailbreak"]

DEFAULT_DATA = "../shared/data"

_WS = re.compile(r"\s+")


def norm(text):
    """common.norm: NFKC, whitespace collapsed to single spaces, strip, lowercase."""
    t = unicodedata.normalize("NFKC", text)
    t = _WS.sub(" ", t).strip()
    return t.lower()


def split_key(rec, dataset, normed=None):
    g = rec.get("group")
    if g is not None and g != "":
        return "g:%s:%s" % (dataset, g)
    return "t:%s" % (normed if normed is not None else norm(rec["text"]))


def bucket_split(key):
    b = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 100
    if b < 80:
        return "train"
    if b < 90:
        return "validation"
    return "test"


def is_malicious_instruct(rec):
    """MaliciousInstruct rows of harmful-behaviors: read from MaliciousInstruct.txt,
    orig_label 'maliciousinstruct'.  (StrongREJECT rows whose orig_label merely ends
    in '|MaliciousInstruct' are StrongREJECT's own rows and are not eval-only.)"""
    return rec.get("orig_label") == "maliciousinstruct" or rec.get("source", "").endswith(
        ":data/MaliciousInstruct.txt")


def is_coconot_wildchat(rec):
    """CoCoNot's 71 WildChat rows: excluded from Task A (SPLITS.md section 2)."""
    return rec.get("dataset") == "coconot" and (rec.get("orig_label") or "").endswith("|wildchats")


def is_eval_only(rec, dataset):
    if dataset in EVAL_ONLY_SETS:
        return True
    return dataset == "harmful-behaviors" and is_malicious_instruct(rec)


def resolve_data_dir(data):
    """``data`` is taken relative to the repo root when not absolute and not found."""
    if os.path.isabs(data) or os.path.isdir(data):
        return data
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    cand = os.path.join(root, data)
    return cand


def load_all(data=DEFAULT_DATA):
    """Every record of every dataset folder, with ``dataset``, ``norm`` and ``split`` set."""
    data = resolve_data_dir(data)
    recs = []
    for name in sorted(os.listdir(data)):
        path = os.path.join(data, name, name + ".jsonl")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                r["dataset"] = name
                r["norm"] = norm(r["text"])
                if is_eval_only(r, name):
                    r["split"] = EVAL_ONLY
                else:
                    r["split"] = bucket_split(split_key(r, name, r["norm"]))
                recs.append(r)
    # Rule 4: the same normalised text in more than one split -> latest split wins.
    latest = {}
    for r in recs:
        if r["split"] == EVAL_ONLY:
            continue
        s = latest.get(r["norm"])
        if s is None or SPLIT_ORDER[r["split"]] > SPLIT_ORDER[s]:
            latest[r["norm"]] = r["split"]
    moved = 0
    for r in recs:
        if r["split"] == EVAL_ONLY:
            continue
        s = latest[r["norm"]]
        if s != r["split"]:
            r["split"] = s
            moved += 1
    load_all.moved = moved
    return recs


def task_a(recs):
    """Task A rows: dicts with text, role, label (benign/injection/jailbreak), split, dataset."""
    out = []
    for r in recs:
        if r["task"] == "A":
            lab = r["label"]
        elif r["task"] == "B":
            if r["dataset"] == "ailuminate-demo" and "persona=skilled" in (r.get("orig_label") or ""):
                continue
            if is_coconot_wildchat(r):  # real WildChat prompts, some of them jailbreak set-ups
                continue
            if r["role"] in ("user", "document", "tool"):
                lab = "benign"
            elif r["role"] == "assistant" and r["dataset"] == "benign-chat":
                lab = "benign"
            else:
                continue
        else:
            continue
        out.append({"text": r["text"], "role": r["role"], "label": lab, "split": r["split"],
                    "dataset": r["dataset"], "id": r["id"], "categories": r.get("categories", []),
                    "source": r.get("source", ""), "group": r.get("group"),
                    "orig_label": r.get("orig_label"), "orig_task_label": r["label"]})
    return out


def task_b(recs):
    """Task B rows: text, role, label (safe/unsafe), categories (S-codes), split, dataset."""
    out = []
    for r in recs:
        if r["task"] != "B" or r["label"] not in ("safe", "unsafe"):
            continue
        cats = [c for c in r.get("categories", []) if c in S_CODES]
        out.append({"text": r["text"], "role": r["role"], "label": r["label"], "categories": cats,
                    "split": r["split"], "dataset": r["dataset"], "id": r["id"],
                    "source": r.get("source", ""), "group": r.get("group"),
                    "orig_label": r.get("orig_label")})
    return out


# ---------------------------------------------------------------- expected tables (SPLITS.md)
EXPECTED_A = {
    "train": {"benign": 33235, "injection": 1246, "jailbreak": 1982},
    "validation": {"benign": 4288, "injection": 126, "jailbreak": 246},
    "test": {"benign": 4168, "injection": 148, "jailbreak": 222},
    "eval_only": {"benign": 5446, "injection": 0, "jailbreak": 0},
}
EXPECTED_B = {  # safe, unsafe, assistant safe, assistant unsafe
    "train": (26954, 8761, 11901, 2115),
    "validation": (3460, 1048, 1515, 189),
    "test": (3323, 975, 1399, 185),
    "eval_only": (6718, 4192, 5168, 296),
}
EXPECTED_B_CATS = {
    "train": [637, 2066, 166, 182, 289, 379, 722, 289, 249, 1930, 204, 314, 70, 390, 1011],
    "validation": [80, 162, 25, 17, 26, 42, 90, 66, 24, 228, 23, 51, 10, 54, 168],
    "test": [77, 171, 23, 22, 22, 51, 55, 42, 26, 233, 32, 34, 6, 45, 148],
}


def count_a(rows):
    t = {s: {l: 0 for l in A_LABELS} for s in SPLITS + (EVAL_ONLY,)}
    for r in rows:
        t[r["split"]][r["label"]] += 1
    return t


def count_b(rows):
    t = {}
    cats = {}
    for s in SPLITS + (EVAL_ONLY,):
        t[s] = [0, 0, 0, 0]
        cats[s] = [0] * 15
    for r in rows:
        c = t[r["split"]]
        u = r["label"] == "unsafe"
        c[1 if u else 0] += 1
        if r["role"] == "assistant":
            c[3 if u else 2] += 1
        if u:
            for code in r["categories"]:
                cats[r["split"]][S_CODES.index(code)] += 1
            if not r["categories"]:
                cats[r["split"]][14] += 1
    return {k: tuple(v) for k, v in t.items()}, cats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--check", action="store_true", help="print count tables and assert SPLITS.md's")
    args = ap.parse_args()
    recs = load_all(args.data)
    a = task_a(recs)
    b = task_b(recs)
    ta = count_a(a)
    tb, tc = count_b(b)
    print("records: %d   moved by rule 4: %d" % (len(recs), load_all.moved))
    print("\nTask A")
    print("%-11s %8s %9s %9s" % ("split", "benign", "injection", "jailbreak"))
    for s in SPLITS + (EVAL_ONLY,):
        print("%-11s %8d %9d %9d" % (s, ta[s]["benign"], ta[s]["injection"], ta[s]["jailbreak"]))
    print("\nTask B")
    print("%-11s %6s %6s %10s %12s" % ("split", "safe", "unsafe", "asst safe", "asst unsafe"))
    for s in SPLITS + (EVAL_ONLY,):
        print("%-11s %6d %6d %10d %12d" % ((s,) + tb[s]))
    print("\nTask B unsafe rows per S-code")
    print("%-11s " % "split" + " ".join("%5s" % c for c in S_CODES + ["none"]))
    for s in SPLITS:
        print("%-11s " % s + " ".join("%5d" % n for n in tc[s]))
    if args.check:
        ok = True
        for s in EXPECTED_A:
            if ta[s] != EXPECTED_A[s]:
                print("MISMATCH Task A %s: got %s expected %s" % (s, ta[s], EXPECTED_A[s]))
                ok = False
        for s in EXPECTED_B:
            if tb[s] != EXPECTED_B[s]:
                print("MISMATCH Task B %s: got %s expected %s" % (s, tb[s], EXPECTED_B[s]))
                ok = False
        for s in EXPECTED_B_CATS:
            if tc[s] != EXPECTED_B_CATS[s]:
                print("MISMATCH Task B S-codes %s: got %s expected %s" % (s, tc[s], EXPECTED_B_CATS[s]))
                ok = False
        assert ok, "split counts differ from SPLITS.md"
        print("\nOK: counts equal SPLITS.md (Task A, Task B, S-codes)")


if __name__ == "__main__":
    main()
