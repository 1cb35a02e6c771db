"""Shared training / evaluation machinery for the bundled guard models.

Trains on the CPU by default (--device cpu); --device cuda (or auto) runs pre-training and
fine-tuning on a GPU under bf16 autocast, everything else (data, tokenizer, export, checks,
evaluation) stays on the CPU. --stop-after-fit and --from-fit split a run in two, so the fit can
run on a GPU machine that has no node (the checks and the evaluation need onnxruntime-node) and
the rest where the repo is built. On the CPU, precision follows the CPU (--precision auto): where it computes bf16 in hardware
(AVX512-BF16, AMX), training runs under bf16 autocast (oneDNN kernels, fp32 master weights and
fp32 softmax/LayerNorm/loss), ~15x faster than fp32 on the first build machine (torch 1.13 with
the reference BLAS); on a CPU without it (AVX2 only, such as the AMD EPYC build machine) PyTorch
emulates bf16 at about 1 GFLOPS, over 100x slower than its fp32 matmuls there, so it trains in
fp32. The two paths give different weights: a recipe reproduces a model on the same CPU type and
thread count. Checkpoint selection uses the same precision for inference; the final metrics are measured on the shipped ONNX
model (int8 weights, quantize_onnx.py) with onnxruntime-node (ort_infer.js), i.e. exactly what
the gateway runs.
"""
import argparse
import copy
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

PAD, CLS, SEP, UNK = 0, 1, 2, 3
MAX_LEN = 512
MAX_CONTENT = MAX_LEN - 2


# Whether matmuls run under bf16 autocast, and where pre-training and fine-tuning run: set once per
# run by start_run from --precision and --device.
BF16 = False
DEVICE = torch.device("cpu")


def native_bf16():
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX-BF16)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def setup(seed, threads=2):
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------- tokens
def encode_texts(sp, texts):
    out = sp.encode(list(texts))
    return [np.asarray(x, dtype=np.int32) for x in out]


def _frame(prefix, chunk):
    pre = prefix if prefix is not None else []
    return np.concatenate([[CLS], pre, chunk, [SEP]]).astype(np.int32)


def segment_starts(n, capacity):
    """Starts of the runtime's 512-token segments: one segment when the text fits, else
    segments every capacity // 2 tokens (half overlap) until one reaches the end, so nothing
    that straddles a boundary is cut in two (guards/text/segments.ts)."""
    if n <= capacity:
        return [0]
    stride = max(1, capacity // 2)
    starts = []
    s = 0
    while True:
        starts.append(s)
        if s + capacity >= n:
            return starts
        s += stride


def segments(ids, max_content=MAX_CONTENT, prefix=None):
    """Runtime segmentation: half-overlapping token slices, each framed [CLS] (prefix) slice [SEP].

    prefix = the template's prefix ids (content model), repeated in every segment as the
    gateway does; slices then hold max_content - len(prefix) tokens."""
    max_content -= 0 if prefix is None else len(prefix)
    if len(ids) == 0:
        return [_frame(prefix, ids)]
    return [_frame(prefix, ids[i:i + max_content]) for i in segment_starts(len(ids), max_content)]


def runtime_views(ids, windows, prefix=None):
    """Everything the runtime scores for one text: its segments plus its fine windows
    (fine_windows.fine_windows output), each framed like a segment."""
    return segments(ids, prefix=prefix) + [_frame(prefix, np.asarray(w, dtype=np.int32)) for _, _, w in windows]


def window(ids, rng, focus=None, max_content=MAX_CONTENT, p_first=0.5, prefix=None):
    """One training window (framed like a runtime segment) of at most max_content tokens.

    focus = (start, end) token span that must lie inside the window when possible."""
    max_content -= 0 if prefix is None else len(prefix)
    n = len(ids)
    if n <= max_content:
        s = 0
    elif focus is not None:
        fs, fe = focus
        lo = max(0, min(fe, n) - max_content)
        hi = min(fs, n - max_content)
        s = int(rng.integers(lo, hi + 1)) if hi >= lo else max(0, min(fs, n - max_content))
    elif rng.random() < p_first:
        s = 0
    else:
        s = int(rng.integers(0, n - max_content + 1))
    return _frame(prefix, ids[s:s + max_content])


def pad_batch(seqs):
    L = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), L), dtype=np.int64)
    mask = np.zeros((len(seqs), L), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def make_batches(lengths, rng, token_budget, max_batch, pool=4096):
    """Length-bucketed batches (padded tokens <= token_budget), in random order."""
    idx = rng.permutation(len(lengths))
    batches = []
    for p in range(0, len(idx), pool):
        chunk = sorted(idx[p:p + pool].tolist(), key=lambda i: lengths[i])
        cur, curmax = [], 0
        for i in chunk:
            m = max(curmax, lengths[i])
            if cur and (m * (len(cur) + 1) > token_budget or len(cur) >= max_batch):
                batches.append(cur)
                cur, m = [], lengths[i]
            cur.append(i)
            curmax = m
        if cur:
            batches.append(cur)
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


# ----------------------------------------------------------------------------- inference
@torch.no_grad()
def predict_torch(model, seqs, token_budget=16384, max_batch=256, bf16=None):
    """Raw head outputs for wrapped sequences: (logits [n, C], category_logits [n, K] or None)."""
    model.eval()
    dev = next(model.parameters()).device
    order = np.argsort([len(s) for s in seqs], kind="stable")
    n = len(seqs)
    logits = None
    cats = None
    i = 0
    while i < n:
        L = len(seqs[order[i]])
        j = i
        while j < n and (j - i + 1) * max(L, len(seqs[order[j]])) <= token_budget and j - i < max_batch:
            L = max(L, len(seqs[order[j]]))
            j += 1
        j = max(j, i + 1)
        idx = order[i:j]
        ids, mask = pad_batch([seqs[k] for k in idx])
        with torch.autocast(dev.type, enabled=BF16 if bf16 is None else bf16, dtype=torch.bfloat16):
            out = model(ids.to(dev), mask.to(dev))
        if isinstance(out, tuple):
            lo, co = out[0].float().cpu().numpy(), out[1].float().cpu().numpy()
        else:
            lo, co = out.float().cpu().numpy(), None
        if logits is None:
            logits = np.zeros((n, lo.shape[1]), dtype=np.float32)
            if co is not None:
                cats = np.zeros((n, co.shape[1]), dtype=np.float32)
        logits[idx] = lo
        if co is not None:
            cats[idx] = co
        i = j
    return logits, cats


def predict_onnx(onnx_path, seqs, token_budget=16384):
    """Run the exported model in onnxruntime-node (ort_infer.js); returns like predict_torch."""
    with tempfile.TemporaryDirectory() as td:
        inp = os.path.join(td, "in.bin")
        outp = os.path.join(td, "out.bin")
        with open(inp, "wb") as f:
            f.write(struct.pack("<i", len(seqs)))
            f.write(np.asarray([len(s) for s in seqs], dtype="<i4").tobytes())
            for s in seqs:
                f.write(np.asarray(s, dtype="<i4").tobytes())
        res = subprocess.run(["node", os.path.join(HERE, "ort_infer.js"), onnx_path, inp, outp, str(token_budget)],
                             cwd=REPO, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("ort_infer.js failed: " + res.stderr[-2000:])
        meta = json.loads(res.stdout.strip().splitlines()[-1])
        raw = np.fromfile(outp, dtype="<f4")
    widths = meta["widths"]
    arr = raw.reshape(len(seqs), sum(widths))
    logits = arr[:, :widths[0]]
    cats = arr[:, widths[0]:] if len(widths) > 1 else None
    return logits, cats


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def per_text(seg_owner, n_texts, values, reduce_key):
    """Reduce per-segment rows to per-text rows: for each text take the segment with the
    highest reduce_key (the runtime's max over segments)."""
    best = np.full(n_texts, -np.inf)
    pick = np.zeros(n_texts, dtype=np.int64)
    for k, t in enumerate(seg_owner):
        if reduce_key[k] > best[t]:
            best[t] = reduce_key[k]
            pick[t] = k
    return [v[pick] if v is not None else None for v in values]


def segment_all(id_lists, prefixes=None, windows=None):
    """All scored sequences of many texts and the text each belongs to. ``windows`` (one list
    per text, fine_windows output) adds the fine windows the runtime also scores."""
    seqs, owner = [], []
    for t, ids in enumerate(id_lists):
        pre = None if prefixes is None else prefixes[t]
        views = runtime_views(ids, windows[t], pre) if windows is not None else segments(ids, prefix=pre)
        for s in views:
            seqs.append(s)
            owner.append(t)
    return seqs, np.asarray(owner)


# ----------------------------------------------------------------------------- metrics
def auroc(y, s):
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    npos, nneg = y.sum(), (~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ss = s[order]
    i = 0
    while i < len(ss):  # average ranks for ties
        j = i
        while j + 1 < len(ss) and ss[j + 1] == ss[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return float((ranks[y].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))


def auprc(y, s):
    """Average precision (sklearn definition)."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(~ys)
    last = np.r_[np.nonzero(np.diff(ss))[0], len(ss) - 1]  # distinct thresholds
    tp, fp = tp[last], fp[last]
    prec = tp / (tp + fp)
    rec = tp / y.sum()
    rec_prev = np.r_[0, rec[:-1]]
    return float(np.sum((rec - rec_prev) * prec))


def threshold_at_fpr(neg_scores, fpr):
    """Smallest threshold t (flag = score >= t) whose FPR on neg_scores is <= fpr."""
    neg = np.sort(np.asarray(neg_scores, dtype=np.float64))[::-1]
    k = int(math.floor(fpr * len(neg)))
    if k >= len(neg):
        return float(neg[-1])
    return float(np.nextafter(neg[k], np.inf))


def rates(y, s, thr):
    y = np.asarray(y).astype(bool)
    f = np.asarray(s) >= thr
    tp = int((f & y).sum())
    fp = int((f & ~y).sum())
    fn = int((~f & y).sum())
    tn = int((~f & ~y).sum())
    rec = tp / max(1, tp + fn)
    prec = tp / max(1, tp + fp)
    f1 = 2 * prec * rec / max(1e-12, prec + rec)
    return {"threshold": thr, "recall": rec, "precision": prec, "f1": f1,
            "fpr": fp / max(1, fp + tn), "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def best_f1_threshold(y, s):
    y = np.asarray(y).astype(bool)
    best = (0.0, 0.5)
    for t in np.unique(np.round(np.asarray(s, dtype=np.float64), 4)):
        r = rates(y, s, t)
        if r["f1"] > best[0]:
            best = (r["f1"], float(t))
    return best[1]


def rnd(x, k=4):
    if isinstance(x, dict):
        return {a: rnd(b, k) for a, b in x.items()}
    if isinstance(x, (list, tuple)):
        return [rnd(b, k) for b in x]
    if isinstance(x, (float, np.floating)):
        if math.isnan(x):
            return None
        if x != 0 and abs(x) < 10 ** -k:  # keep tiny values (e.g. layer_norm_eps) significant
            return float("%.{}g".format(k) % x)
        return round(float(x), k)
    if isinstance(x, np.integer):
        return int(x)
    return x


# ----------------------------------------------------------------------------- training
def fit(model, build_epoch, loss_fn, validate, steps, lr=1e-3, warmup_frac=0.06, weight_decay=0.01,
        token_budget=6144, max_batch=64, seed=0, evals_per_epoch=1, min_lr_frac=0.05):
    """Generic loop.

    build_epoch(epoch, rng) -> list of examples (dict with 'seq' wrapped ids + task fields)
    loss_fn(outputs, examples) -> scalar loss
    validate(model) -> (selection_score, details_dict); the best state is kept.

    Schedule: linear warm-up then cosine decay over exactly ``steps`` optimizer steps, running as
    many (seeded, resampled) epochs as that takes; validation after every 1/evals_per_epoch of an
    epoch and at the last step.  Nothing depends on the clock, so a seed and the arguments fix the
    weights: the same command reproduces the same model on any machine with the same threads.
    """
    rng = np.random.default_rng(seed)
    model.to(DEVICE)
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "ln" in n or n.startswith("pos") else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98), eps=1e-6)
    t0 = time.time()
    total = max(1, int(steps))
    warm = max(1, int(warmup_frac * total))

    def lr_at(step):
        if step < warm:
            return lr * (step + 1) / warm
        q = min(1.0, max(0.0, (step - warm) / max(1, total - warm)))
        return lr * (min_lr_frac + (1 - min_lr_frac) * 0.5 * (1 + math.cos(math.pi * q)))

    best = (-1e9, None, None)
    history = []
    step = 0
    ep = 0
    epoch_batches = []
    while step < total:
        ex = build_epoch(ep, rng)
        batches = make_batches([len(e["seq"]) for e in ex], rng, token_budget, max_batch)
        epoch_batches.append(len(batches))
        eval_at = set(int(len(batches) * (k + 1) / evals_per_epoch) - 1 for k in range(evals_per_epoch))
        model.train()
        run_loss, run_n, ntok, te = 0.0, 0, 0, time.time()
        for bi, b in enumerate(batches):
            items = [ex[i] for i in b]
            ids, mask = pad_batch([e["seq"] for e in items])
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            with torch.autocast(DEVICE.type, enabled=BF16, dtype=torch.bfloat16):
                out = model(ids.to(DEVICE), mask.to(DEVICE))
            out = tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()
            loss = loss_fn(out, items)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            run_loss += float(loss.detach()) * len(b)
            run_n += len(b)
            ntok += int(mask.sum())
            if step % 50 == 0:
                el = time.time() - te
                log("ep %d step %d/%d loss %.4f lr %.2e %.0f tok/s elapsed %.1f min"
                    % (ep, step, total, run_loss / max(1, run_n), lr_at(step), ntok / max(el, 1e-6),
                       (time.time() - t0) / 60))
            last = step >= total
            if bi in eval_at or last:
                score, details = validate(model)
                model.train()
                rec = {"epoch": ep, "step": step, "train_loss": run_loss / max(1, run_n), "val_score": score,
                       "minutes": (time.time() - t0) / 60}
                rec.update(details)
                history.append(rnd(rec))
                log("VALID", json.dumps(rnd(rec)))
                if score > best[0]:
                    best = (score, copy.deepcopy(model.state_dict()), rec)
            if last:
                break
        ep += 1
    model.load_state_dict(best[1])
    # Export, checks and evaluation run on the CPU whatever trained the model.
    model.cpu()
    log("best checkpoint: epoch %d step %d val_score %.4f" % (best[2]["epoch"], best[2]["step"], best[0]))
    return {"history": history, "best": rnd(best[2]), "train_minutes": round((time.time() - t0) / 60, 2),
            "device": DEVICE.type, "precision": "bf16" if BF16 else "fp32", "steps": step, "epochs_done": round(ep - 1 + (step - sum(epoch_batches[:-1])) / max(1, epoch_batches[-1]), 2)}


def schedule_text(fit_info):
    """The model card's words for what fit() ran."""
    return "cosine schedule over {} steps ({:.1f} epochs)".format(fit_info["steps"], fit_info["epochs_done"])


def class_weights(counts, power=0.5):
    counts = np.asarray(counts, dtype=np.float64)
    w = (counts.sum() / np.maximum(counts, 1)) ** power
    return torch.tensor(w / w[0], dtype=torch.float32)


def file_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def save_checkpoint(path, model, cfg, extra=None):
    ck = {"encoder": dict(cfg), "state_dict": model.state_dict()}
    if extra:
        ck.update(extra)
    torch.save(ck, path)


HARNESS_HEADING = "## Results from the TypeScript evaluation harness"
HARNESS_BEGIN = "<!-- harness:begin (written by guards/training/harness_cards.js; do not edit by hand) -->"
HARNESS_END = "<!-- harness:end -->"


def harness_section(out):
    """The model card's harness section for a freshly trained model: empty until
    `node guards/training/harness_cards.js` measures this model through the gateway (figures
    of the model that was here before would describe another model)."""
    return (HARNESS_HEADING + "\n" + HARNESS_BEGIN + "\n_Not measured yet: run `npm run build && node "
            "guards/training/harness_cards.js --model " + os.path.basename(os.path.normpath(out)) + "`._\n" + HARNESS_END + "\n")


# ----------------------------------------------------------------------------- pre-training
def mlm_pretrain(model, id_lists, steps, seed, lr=1e-3, seq_len=128, batch=64, mask_rate=0.15,
                 warmup_frac=0.06, weight_decay=0.01):
    """Masked-language-model pre-training of the encoder on unlabelled train-split texts, before
    fine-tuning: no pretrained weights can be had here, so the encoder first learns how words are
    used in context from the texts themselves (the [UNK] id stands in for [MASK], which these
    tokenizers do not have). Fixed steps and a seeded sampler, like fit()."""
    from encoder_model import MaskedLMHead
    head = MaskedLMHead(model).to(DEVICE)
    rng = np.random.default_rng(seed)
    lengths = np.array([len(x) for x in id_lists], dtype=np.float64)
    keep = np.nonzero(lengths >= 4)[0]
    # texts drawn in proportion to their length (capped), so long answers do not dominate
    p = np.minimum(lengths[keep], seq_len)
    p = p / p.sum()
    vocab = model.cfg.vocab_size
    decay, no_decay = [], []
    for n, prm in head.named_parameters():
        (no_decay if prm.ndim < 2 or "ln" in n or n.endswith("bias") or "pos" in n else decay).append(prm)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98), eps=1e-6)
    warm = max(1, int(warmup_frac * steps))
    t0 = time.time()
    run = 0.0
    head.train()
    for step in range(steps):
        lr_now = lr * (step + 1) / warm if step < warm else lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
        for g in opt.param_groups:
            g["lr"] = lr_now
        seqs = []
        for t in rng.choice(keep, size=batch, p=p):
            ids = id_lists[t]
            n = seq_len - 2
            s = int(rng.integers(0, len(ids) - n + 1)) if len(ids) > n else 0
            seqs.append(_frame(None, ids[s:s + n]))
        ids, mask = pad_batch(seqs)
        target = ids.clone()
        cand = (mask == 1) & (ids > UNK)
        pick = cand & (torch.from_numpy(rng.random(ids.shape)) < mask_rate)
        pos = pick.nonzero()
        if len(pos) == 0:
            continue
        r = torch.from_numpy(rng.random(len(pos)))
        inp = ids.clone()
        rows, cols = pos[:, 0], pos[:, 1]
        inp[rows[r < 0.8], cols[r < 0.8]] = UNK
        rnd_sel = (r >= 0.8) & (r < 0.9)
        inp[rows[rnd_sel], cols[rnd_sel]] = torch.from_numpy(rng.integers(4, vocab, int(rnd_sel.sum())))
        with torch.autocast(DEVICE.type, enabled=BF16, dtype=torch.bfloat16):
            logits = head(inp.to(DEVICE), mask.to(DEVICE), pos.to(DEVICE))
        loss = F.cross_entropy(logits.float(), target[rows, cols].to(DEVICE))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        opt.step()
        run = 0.98 * run + 0.02 * float(loss.detach()) if step else float(loss.detach())
        if (step + 1) % 100 == 0:
            log("mlm step %d/%d loss %.3f lr %.2e elapsed %.1f min" % (step + 1, steps, run, lr_now, (time.time() - t0) / 60))
    return {"steps": steps, "final_loss": round(run, 4), "minutes": round((time.time() - t0) / 60, 2), "seq_len": seq_len,
            "batch": batch, "mask_rate": mask_rate}


# ---- the run skeleton both training scripts share: start, rows, tokenizer, export and checks, report

SPLIT_NAMES = ("train", "validation", "test", "eval_only")


def run_arguments(doc, model_name, steps, epochs):
    """The options both training scripts open with (data, out, work, smoke, schedule, size);
    each script adds its own, then fit_arguments()."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=splits_data_default())
    ap.add_argument("--out", default=os.path.join(REPO, "guards", "models", model_name))
    ap.add_argument("--work", default=None, help="scratch dir for spm.model / checkpoint (default: temp)")
    ap.add_argument("--smoke", action="store_true", help="a few hundred rows, ~1 minute, into a temp dir")
    ap.add_argument("--steps", type=int, default=steps,
                    help="optimizer steps; the cosine schedule spans exactly these (%s)" % epochs)
    ap.add_argument("--lr", type=float, default=7e-4)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=768)
    return ap


def fit_arguments(ap):
    """Pre-training, batching and threads, after each script's own options."""
    ap.add_argument("--mlm-steps", type=int, default=1500,
                    help="masked-language-model pre-training steps on unlabelled train-split texts before fine-tuning")
    ap.add_argument("--mlm-lr", type=float, default=1e-3)
    ap.add_argument("--token-budget", type=int, default=6144)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                    help="bf16 autocast or fp32; auto: bf16 where the CPU computes it in hardware (AVX512-BF16, AMX), "
                         "else fp32 (emulated bf16 is over 100x slower on an AVX2-only CPU)")
    ap.add_argument("--no-quantize", action="store_true",
                    help="ship the float32 model.onnx (default: int8 weights, quantize_onnx.py)")
    ap.add_argument("--train-seed", type=int, default=None,
                    help="seed of the training draws (initial weights, crops, pre-training, batches; default: the recipe's); "
                         "the evaluation's synthetic documents and padding keep theirs, so two seeds are compared on the same cases")
    ap.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu",
                    help="where pre-training and fine-tuning run (auto: cuda when PyTorch sees a GPU); "
                         "on cuda under bf16 autocast unless --precision fp32. The rest of the run stays on the CPU")
    ap.add_argument("--stop-after-fit", action="store_true",
                    help="save the fitted model and its tokenizer to --work (fit.pt, spm.model) and stop: for a GPU "
                         "machine without node; finish elsewhere with --from-fit")
    ap.add_argument("--from-fit", metavar="DIR",
                    help="a --stop-after-fit run's --work folder: its tokenizer and weights instead of training them; "
                         "the export, checks, evaluation and card as usual (same data and arguments)")


def splits_data_default():
    import splits
    return splits.DEFAULT_DATA


def start_run(args, name, seed):
    """Seeds and threads; --smoke caps (a temp --out, 40 steps, vocab 2000, at most 20 MLM steps);
    the work and out dirs. Returns (work dir, start time)."""
    setup(seed, args.threads)
    global BF16, DEVICE
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda":
        # Seeded like the CPU, but GPU kernels give other weights than the CPU's, and are not
        # bitwise deterministic either (atomic adds in the embedding and gather backward passes).
        torch.cuda.manual_seed_all(seed)
        log("device cuda: %s" % torch.cuda.get_device_name(0))
    BF16 = args.precision == "bf16" or (args.precision == "auto" and (DEVICE.type == "cuda" or native_bf16()))
    # The report's args say which precision ran, not just "auto".
    args.precision = "bf16" if BF16 else "fp32"
    log("precision %s (CPU bf16 in hardware: %s)" % (args.precision, native_bf16()))
    t_start = time.time()
    if args.smoke:
        args.out = tempfile.mkdtemp(prefix=name + "-smoke-")
        args.steps, args.vocab, args.mlm_steps = 40, 2000, min(args.mlm_steps, 20)
    work = args.work or tempfile.mkdtemp(prefix=name + "-work-")
    os.makedirs(work, exist_ok=True)
    if args.stop_after_fit:
        # Nothing of a fit goes into --out (by default the shipped model's folder): its tokenizer
        # beside the old model.onnx would no longer match it.
        args.out = os.path.join(work, "out")
    os.makedirs(args.out, exist_ok=True)
    log("out=%s work=%s" % (args.out, work))
    return work, t_start


FIT_FILE = "fit.pt"
# Arguments that say where and how a run ran, not what it trains on: free to differ between --stop-after-fit and --from-fit.
RUN_PLACE_ARGS = {"device", "threads", "precision", "work", "out", "data", "from_fit", "stop_after_fit", "no_quantize"}


def rows_digest(by_split):
    """SHA-256 over every split's rows (split, label, text), so --from-fit knows it reads the fit's data."""
    import hashlib
    h = hashlib.sha256()
    for name in sorted(by_split):
        for r in by_split[name]:
            h.update(("%s\x00%s\x00%s\x01" % (name, r.get("label"), r["text"])).encode("utf-8"))
    return h.hexdigest()


def save_fit(work, model, fit_info, mlm_info, args, by_split):
    """--stop-after-fit: the fitted weights and what the report needs of the fit, in work beside
    the tokenizer that train_tokenizer left there (spm.model), for --from-fit."""
    path = os.path.join(work, FIT_FILE)
    torch.save({"encoder": dict(model.cfg), "state_dict": model.state_dict(), "fit": fit_info, "mlm": mlm_info,
                "device": args.device, "precision": args.precision, "args": vars(args), "rows": rows_digest(by_split)}, path)
    # The device tool brings back files of at most 16 MiB.
    if os.path.getsize(path) > 16 * 1024 * 1024:
        log("WARNING: %s is %.1f MiB, over the 16 MiB a device machine returns per file" % (path, os.path.getsize(path) / 2 ** 20))
    log("fit saved to %s; finish with --from-fit %s" % (os.path.join(work, FIT_FILE), work))


def fit_step(args, work, model, cfg, by_split, mlm_info, seed, build_epoch, loss_fn, validate):
    """The fit (or --from-fit's saved one); with --stop-after-fit, saved to work. Returns
    (fit_info, mlm_info), or None when the run stops here."""
    if args.from_fit:
        fit_info, mlm_info = fitted_model(args, cfg, model, by_split)
    else:
        fit_info = fit(model, build_epoch, loss_fn, validate, steps=args.steps, lr=args.lr,
                       token_budget=args.token_budget, seed=seed, evals_per_epoch=1)
    if args.stop_after_fit:
        save_fit(work, model, fit_info, mlm_info, args, by_split)
        return None
    return fit_info, mlm_info


def load_fit(work):
    return torch.load(os.path.join(work, FIT_FILE), map_location="cpu", weights_only=False)


def fitted_model(args, cfg, model, by_split):
    """--from-fit: the saved weights into `model` (built from the same arguments and data: the
    encoder config and the rows must match); returns (fit_info, mlm_info)."""
    fitted = load_fit(args.from_fit)
    if fitted.get("rows") != rows_digest(by_split):
        raise SystemExit("--from-fit: the rows differ from the fit's (another ../shared/data, or other data arguments)")
    if fitted["encoder"] != dict(cfg):
        raise SystemExit("--from-fit: the saved encoder %s differs from these arguments' %s" % (fitted["encoder"], dict(cfg)))
    # The data, windows and evaluation must be the fit's: every recipe argument the same, except where and how it ran.
    here, saved = vars(args), fitted["args"]
    differ = sorted(k for k in set(here) | set(saved) if k not in RUN_PLACE_ARGS and here.get(k) != saved.get(k))
    if differ:
        raise SystemExit("--from-fit: arguments differ from the fit's: " + ", ".join("%s %r (fit: %r)" % (k, here.get(k), saved.get(k)) for k in differ))
    model.load_state_dict(fitted["state_dict"])
    log("weights from %s (fitted on %s, %s)" % (args.from_fit, fitted["device"], fitted["precision"]))
    return fitted["fit"], fitted["mlm"]


def smoke_subset(rows, rng, per_label, labels):
    """At most per_label rows of each label, kept in their order."""
    out = []
    for lab in labels:
        pool = [r for r in rows if r["label"] == lab]
        idx = rng.permutation(len(pool))[:per_label]
        out += [pool[i] for i in sorted(idx)]
    return out


def rows_by_split(rows, rng, smoke, labels, per_train, per_eval, eval_only):
    """The task's rows by split; with --smoke, a few per label (train, validation, test) and a
    random eval_only sample."""
    by_split = {s: [r for r in rows if r["split"] == s] for s in SPLIT_NAMES}
    if smoke:
        by_split["train"] = smoke_subset(by_split["train"], rng, per_train, labels)
        for s in ("validation", "test"):
            by_split[s] = smoke_subset(by_split[s], rng, per_eval, labels)
        by_split["eval_only"] = [by_split["eval_only"][i] for i in rng.permutation(len(by_split["eval_only"]))[:eval_only]]
    log("rows: " + ", ".join("%s=%d" % (k, len(v)) for k, v in by_split.items()))
    return by_split


def train_tokenizer(texts, work, out, vocab, smoke, from_fit=None):
    """SentencePiece on the train texts -> tokenizer.json in out, spm.model beside it (the parity
    tests' reference); with from_fit, that run's spm.model instead of a new one (its weights index
    that vocabulary). Returns (processor, path of the spm.model)."""
    import sentencepiece as spm
    import sp_tokenizer_json
    t0 = time.time()
    if from_fit:
        spm_path = os.path.join(work, "spm.model")
        if os.path.abspath(os.path.join(from_fit, "spm.model")) != os.path.abspath(spm_path):
            shutil.copyfile(os.path.join(from_fit, "spm.model"), spm_path)
    else:
        spm_path = sp_tokenizer_json.train_sentencepiece(texts, os.path.join(work, "spm"), vocab_size=vocab,
                                                         hard_vocab_limit=not smoke)
    sp_tokenizer_json.write(spm_path, out)
    shutil.copyfile(spm_path, os.path.join(out, "spm.model"))
    sp = spm.SentencePieceProcessor(model_file=spm_path)
    log("tokenizer: vocab %d, %.0f s" % (sp.get_piece_size(), time.time() - t0))
    return sp, spm_path


def export_and_check(model, cfg, meta, sp, spm_path, args, work, write_config):
    """Checkpoint to work, model.onnx + config.json (write_config()) to args.out, then the checks
    in node: ONNX against PyTorch, tokenizer.json against SentencePiece; then the weights quantized
    to int8 (quantize_onnx.py; the float model kept in work). Returns (onnx path, ONNX check
    result, parity line, quantization report or None)."""
    from check_onnx import run_check
    from export_onnx import export
    save_checkpoint(os.path.join(work, "checkpoint.pt"), model, cfg, meta)
    onnx_path = os.path.join(args.out, "model.onnx")
    export(model, onnx_path)
    write_config()
    check = run_check(args.out, model, sp)
    log("ONNX check: " + json.dumps(check))
    parity = subprocess.run([sys.executable, os.path.join(HERE, "check_tokenizer_parity.py"), args.out,
                             "--spm", spm_path, "--data", args.data], capture_output=True, text=True)
    parity_res = parity.stdout.strip().splitlines()[-1] if parity.stdout.strip() else parity.stderr[-500:]
    log("tokenizer parity: " + parity_res)
    quant = None
    if not args.no_quantize:
        from quantize_onnx import quantize_dir
        quant = quantize_dir(args.out, args.data, os.path.join(work, "model.fp32.onnx"), update_report=False)
        log("quantization: " + json.dumps(quant))
    return onnx_path, check, parity_res, quant


def report_head(name, args, seed, model, by_split, fit_info, mlm_info, check, parity_res, quant, t_start):
    """The first members of training_report.json, the same for both models: run, data, timings,
    checks, size and latency at 128 tokens (measured now, on the exported model)."""
    from encoder_model import count_params
    sizes = {f: file_size(os.path.join(args.out, f)) for f in ("model.onnx", "tokenizer.json")}
    vocab_size = model.cfg.vocab_size
    lat = subprocess.run(["node", os.path.join(HERE, "bench_onnx.js"), os.path.join(args.out, "model.onnx"), "128", "1",
                          "100", "0", str(vocab_size)], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return {
        "model": name, "smoke": args.smoke, "seed": seed,
        "params": count_params(model), "encoder": dict(model.cfg), "vocab_size": vocab_size,
        "rows": {k: len(v) for k, v in by_split.items()},
        "train_minutes": fit_info["train_minutes"], "total_minutes": round((time.time() - t_start) / 60, 2),
        "fit": fit_info, "mlm_pretraining": mlm_info, "onnx_check": check, "tokenizer_parity": parity_res,
        "quantization": quant,
        "sizes_bytes": sizes, "size_mb_total": round(sum(sizes.values()) / 1e6, 2),
        "latency_128_tokens_ort_node": lat,
    }


def precision_text(rep):
    """The card's words for the precision the weights were fitted in."""
    fitted = rep["fit"].get("precision", rep["args"].get("precision", "bf16"))
    return "bf16 autocast" if fitted == "bf16" else "fp32"


def time_text(rep):
    """The card's words for how long the run took, and where its fit ran."""
    a = rep["args"]
    device = rep["fit"].get("device", "cpu")
    if a.get("from_fit"):
        return ("%s min fine-tuning on %s (--stop-after-fit), then %s min for the rest on %s CPU cores (--from-fit)"
                % (rep["train_minutes"], device, rep["total_minutes"], a.get("threads", 2)))
    where = "%s CPU cores" % a.get("threads", 2) if device == "cpu" else "%s CPU cores and %s" % (a.get("threads", 2), device)
    return "%s min fine-tuning, %s min end to end on %s" % (rep["train_minutes"], rep["total_minutes"], where)


def onnx_kind(rep):
    """How the card names model.onnx: int8 weights when the recipe quantized it."""
    q = rep.get("quantization")
    if not q:
        return "fp32 ONNX"
    return ("ONNX with int8 weights (static, per output channel, float32 logits; against the float model, "
            "probabilities moved by at most %.3f on %d validation segments, p99 %.3f; a segment's score does not "
            "depend on its batch)" % (q["max_abs_diff"], q["segments"], q["p99_abs_diff"]))


def write_report(out, report):
    with open(os.path.join(out, "training_report.json"), "w") as f:
        json.dump(rnd(report), f, indent=1)


def finish_run(report, args, t_start):
    """The last log lines; exit 2 when the ONNX check failed."""
    log("sizes %s latency %s total %.1f min" % (report["sizes_bytes"], report["latency_128_tokens_ort_node"],
                                                (time.time() - t_start) / 60))
    if not report["onnx_check"].get("ok"):
        log("WARNING: ONNX check failed")
        sys.exit(2)
    if args.smoke:
        log("smoke run OK: %s" % args.out)


def model_config(cfg, description, labels, onnx_outputs, window_tokens, segmenting, scores, training):
    """config.json: the fields the gateway reads (Hugging Face names, as Meta's exports carry them),
    with the model's own labels, segmenting, scores and training in their places."""
    from export_onnx import OPSET
    return {
        "architectures": ["DebertaV2ForSequenceClassification"],
        "model_type": "deberta-v2",
        "gateway_architecture": {
            "name": "PreLNEncoderClassifier",
            "description": description,
            "source": "guards/training/encoder_model.py",
            "pooling": "cls+mean+max",
            "layer_norm": "pre-LN",
        },
        **labels,
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_heads,
        "intermediate_size": cfg.intermediate_size,
        "hidden_act": "gelu",
        "max_position_embeddings": cfg.max_position_embeddings,
        "type_vocab_size": 0,
        "position_biased_input": True,
        "relative_attention": False,
        "layer_norm_eps": cfg.layer_norm_eps,
        "pad_token_id": PAD, "cls_token_id": CLS, "sep_token_id": SEP, "unk_token_id": UNK,
        "onnx": {"file": "model.onnx", "opset": OPSET, "inputs": ["input_ids", "attention_mask"],
                 "outputs": onnx_outputs, "dtype": "float32"},
        "fine_windows": {"max_tokens": window_tokens,
                         "rule": "a text longer than max_tokens is also scored in windows of whole lines and sentences "
                                 "(guards/text/fineWindows.ts, guards/training/fine_windows.py)"},
        "segmenting": segmenting,
        "scores": scores,
        "training": training,
    }


def write_config(out, conf):
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(conf, f, indent=2)
        f.write("\n")


def padding_words(texts, rng, n_words):
    """n_words words of texts drawn at random, in order (empty for n_words <= 0)."""
    out = []
    while len(out) < n_words:
        out += texts[int(rng.integers(len(texts)))].split()
    return " ".join(out[:n_words])


def pct(x):
    return "n/a" if x is None else "%.1f%%" % (100 * x)


def mlm_line(mlm, masking_note=""):
    """The model card's line on masked-LM pre-training."""
    if not mlm:
        return "* No pre-training: the encoder starts from random weights."
    return ("* Before fine-tuning, the encoder is pre-trained as a masked language model for %d steps on every "
            "train-split text of both tasks, unlabelled (sequences of %d tokens, %d%% masked%s): %.1f min, final "
            "loss %.3f." % (mlm["steps"], mlm["seq_len"], int(100 * mlm["mask_rate"]), masking_note, mlm["minutes"],
                            mlm["final_loss"]))
