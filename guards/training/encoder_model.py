"""A small pre-LN transformer encoder classifier (BERT-style, trained from scratch).

* token embeddings + learned absolute position embeddings (max 512), no token types;
* ``num_layers`` pre-LN blocks (multi-head self-attention, GELU feed-forward), final LN;
* pooling = concat([CLS] vector, masked mean, masked max) -> dense + tanh -> heads.
  The max-pool lets a short payload anywhere in a long window drive the score.
* heads: ``logits`` [batch, num_labels]; optionally ``category_logits`` [batch, num_categories]
  (multi-label, sigmoid) for the content-safety model; in training, the category loss's
  gradient into the shared encoder can be scaled down (``category_grad_scale``).

Inputs are ``input_ids`` and ``attention_mask`` (int64, [batch, seq]); written with plain
ops (matmul/softmax/layer_norm) so it exports cleanly to ONNX (see export_onnx.py).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1.0e4  # additive attention mask value (fp32-safe)


class EncoderConfig(dict):
    """Plain dict of hyper-parameters (stored in config.json under ``encoder``)."""

    def __init__(self, vocab_size=8000, hidden_size=256, num_layers=4, num_heads=4,
                 intermediate_size=1024, max_position_embeddings=512, num_labels=3,
                 num_categories=0, dropout=0.1, attention_dropout=0.0, pad_token_id=0,
                 layer_norm_eps=1e-7, category_grad_scale=1.0):
        super().__init__(vocab_size=vocab_size, hidden_size=hidden_size, num_layers=num_layers,
                         num_heads=num_heads, intermediate_size=intermediate_size,
                         max_position_embeddings=max_position_embeddings, num_labels=num_labels,
                         num_categories=num_categories, dropout=dropout,
                         attention_dropout=attention_dropout, pad_token_id=pad_token_id,
                         layer_norm_eps=layer_norm_eps, category_grad_scale=category_grad_scale)

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.h = cfg.num_heads
        self.d = cfg.hidden_size // cfg.num_heads
        self.qkv = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size)
        self.out = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.drop = nn.Dropout(cfg.attention_dropout)

    def forward(self, x, bias):
        b, t, c = x.shape
        qkv = self.qkv(x).view(b, t, 3, self.h, self.d).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * (1.0 / math.sqrt(self.d)), qkv[1], qkv[2]  # [b, h, t, d]
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) + bias, dim=-1)
        if self.training and self.drop.p > 0:
            att = self.drop(att)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, t, c)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, bias):
        x = x + self.drop(self.attn(self.ln1(x), bias))
        x = x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))
        return x


class EncoderClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden_size
        self.tok = nn.Embedding(cfg.vocab_size, h, padding_idx=cfg.pad_token_id)
        self.pos = nn.Embedding(cfg.max_position_embeddings, h)
        self.emb_ln = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        self.emb_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.num_layers)])
        self.ln_f = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        self.pool = nn.Linear(3 * h, h)
        self.head_drop = nn.Dropout(cfg.dropout)
        self.classifier = nn.Linear(h, cfg.num_labels)
        self.category_classifier = nn.Linear(h, cfg.num_categories) if cfg.num_categories else None
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def hidden_states(self, input_ids, attention_mask):
        """Final (layer-normed) token states [b, t, h] and the float mask [b, t]."""
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.emb_drop(self.emb_ln(self.tok(input_ids) + self.pos(pos)))
        maskf = attention_mask.to(x.dtype)  # [b, t]
        bias = ((1.0 - maskf) * NEG)[:, None, None, :]
        for blk in self.blocks:
            x = blk(x, bias)
        return self.ln_f(x), maskf

    def forward(self, input_ids, attention_mask):
        x, maskf = self.hidden_states(input_ids, attention_mask)
        m3 = maskf.unsqueeze(-1)
        cls = x[:, 0]
        mean = (x * m3).sum(1) / m3.sum(1).clamp(min=1.0)
        mx = (x + (1.0 - m3) * NEG).max(dim=1)[0]
        pooled = torch.tanh(self.pool(torch.cat([cls, mean, mx], dim=-1)))
        pooled = self.head_drop(pooled)
        logits = self.classifier(pooled)
        if self.category_classifier is not None:
            g = self.cfg.get("category_grad_scale", 1.0)
            if self.training and g != 1.0:
                # same value; the category loss reaches the shared encoder scaled by g, so the
                # category head does not pull the encoder away from the safe/unsafe task
                pooled = pooled.detach() + g * (pooled - pooled.detach())
            return logits, self.category_classifier(pooled)
        return logits


def count_params(model):
    return sum(p.numel() for p in model.parameters())


class MaskedLMHead(nn.Module):
    """Pre-training only (not exported): predicts masked tokens from the encoder's token states,
    with the output projection tied to the token embeddings."""

    def __init__(self, encoder):
        super().__init__()
        h = encoder.cfg.hidden_size
        self.encoder = encoder
        self.dense = nn.Linear(h, h)
        self.ln = nn.LayerNorm(h, eps=encoder.cfg.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(encoder.cfg.vocab_size))

    def forward(self, input_ids, attention_mask, positions):
        """Logits [n, vocab] at the (batch, position) pairs in ``positions`` ([n, 2])."""
        x, _ = self.encoder.hidden_states(input_ids, attention_mask)
        sel = x[positions[:, 0], positions[:, 1]]
        sel = self.ln(F.gelu(self.dense(sel)))
        return sel @ self.encoder.tok.weight.t() + self.bias
