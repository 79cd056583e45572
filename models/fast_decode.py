"""Fast CPU decoding for Qwen2.5-VL checkpoints loaded by transformers: one prefill, then a hand-written step.

Why: on the embedded model (hidden 128, 4 layers) ``model.generate`` spends about 5 ms of CPU per token, and
calling the model's own forward with a static cache still 2-2.5 ms, when the arithmetic of a step is a few
microseconds. The rest is Python and dispatch: logits processors, stopping criteria, cache objects, masks, ~40
small modules. ``FastDecoder`` runs the language model over the model's own weights, ~15 torch calls a layer:

- prefill: the vision tower (``get_image_features``) and the 3-D M-RoPE positions (``get_rope_index``) come from
  the HF model; the decoder layers run here over the prompt and write their keys and values into one
  preallocated cache tensor. The last layer runs its attention output and MLP for the last position only.
- decode: tokens written after the prompt have 1-D positions ``slot + rope_delta``, the same in the three M-RoPE
  sections, so the rotary embedding is the plain one; it is applied as one matmul per layer with a [heads, d, d]
  matrix (rotation for the q and k heads, identity for the v heads), and k and v go into the cache with one
  copy. q, k and v come from one fused matmul, gate and up from another, residual adds ride on ``addmm``.
- a step then costs what reading the weights and the cache costs: each matrix is copied with its longer side
  contiguous, which MKL streams about twice as fast as the other layout when multiplying a single row.

What it returns is what ``models.hf.TransformersModel.generate`` gets from HF generate: the new token ids
[rows, steps] (finished rows padded, as HF does) and the logprob of each under the raw next-token distribution
(log-softmax at temperature 1). Token selection follows HF exactly: suppressed ids at -inf, argmax, or softmax of
logits / temperature and ``torch.multinomial`` over all rows every step, so a fixed torch seed draws the same
samples as HF generate (the logits agree to ~1e-6). n samples share one prefill: the prompt's cache is copied to
n rows, where HF generate runs the prompt n times. ``benchmarks/model_speed.py`` measures both paths.

Only what is tested here is taken: Qwen2.5-VL, float32, on the CPU, no sliding window, default rope, SiLU.
``supports(model)`` says so; the caller falls back to HF generate otherwise. The weight copies are rebuilt
whenever a parameter changes (an optimizer step updates them in place; ``_version`` says so).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SUPPORTED_CLASSES = ("Qwen2_5_VLForConditionalGeneration",)


def supports(model) -> bool:
    """Whether ``FastDecoder`` reproduces ``model``'s greedy decoding (else use HF generate)."""
    if type(model).__name__ not in SUPPORTED_CLASSES:
        return False
    try:    # another transformers version may lay the model out differently: then HF generate it is
        cfg = model.config.get_text_config()
        lm = model.model.language_model
        rope = getattr(cfg, "rope_parameters", None) or {}
        attn, mlp = lm.layers[0].self_attn, lm.layers[0].mlp
        return (lm.embed_tokens.weight.device.type == "cpu" and lm.embed_tokens.weight.dtype == torch.float32
                and cfg.hidden_act == "silu" and rope.get("rope_type", "default") == "default"
                and lm.rotary_emb.attention_scaling == 1.0
                and all(t == "full_attention" for t in getattr(cfg, "layer_types", None) or [])
                and attn.q_proj.bias is not None and attn.o_proj.bias is None
                and mlp.gate_proj.bias is None and mlp.down_proj.bias is None)
    except AttributeError:
        return False


class FastDecoder:
    """Greedy and sampled decoding of a ``supports``-ed model; see the module docstring."""

    def __init__(self, model):
        self.model = model
        self.lm = model.model.language_model
        cfg = model.config.get_text_config()
        attn = self.lm.layers[0].self_attn
        self.heads, self.kv_heads, self.head_dim = attn.num_heads, attn.num_key_value_heads, attn.head_dim
        self.hidden = cfg.hidden_size
        self.scale = attn.scaling
        self.eps = self.lm.norm.variance_epsilon
        self._signature = None
        self._cos = self._sin = torch.empty(0)

    # -- weights ------------------------------------------------------------------------------------------------

    def _params(self) -> list[torch.Tensor]:
        return [*self.lm.parameters(), self.model.get_output_embeddings().weight]

    def _sync(self) -> None:
        """(Re)build the fused weights when any parameter was replaced or changed in place since the last build."""
        params = self._params()
        signature = [(p.data_ptr(), p._version) for p in params]
        if signature == self._signature:
            return
        # Matrices are [in, out] operands of x @ w, laid out for reading speed (see _in_out).
        layers = []
        for layer in self.lm.layers:
            a, mlp = layer.self_attn, layer.mlp
            linears = (a.q_proj, a.k_proj, a.v_proj, a.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj)
            if any(type(m) is not torch.nn.Linear for m in linears):
                raise RuntimeError("the model's linear layers were replaced (peft adapters?): FastDecoder would read "
                                   "the bare weights; use HF generate (TransformersModel.fast = None)")
            layers.append((
                layer.input_layernorm.weight.detach(),
                _in_out(a.q_proj.weight, a.k_proj.weight, a.v_proj.weight),               # [H, (h+2kv)*d]
                torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]).detach(),
                _in_out(a.o_proj.weight),                                                   # [h*d, H]
                layer.post_attention_layernorm.weight.detach(),
                _in_out(mlp.gate_proj.weight, mlp.up_proj.weight),                          # [H, 2I]
                _in_out(mlp.down_proj.weight),                                              # [I, H]
            ))
        self.layers = layers
        self.embed = self.lm.embed_tokens.weight.detach()                                  # [V, H]
        self.norm = self.lm.norm.weight.detach()
        self.lm_head = _in_out(self.model.get_output_embeddings().weight)                   # [H, V]
        self._signature = [(p.data_ptr(), p._version) for p in params]

    def _rotary_table(self, n: int) -> None:
        """cos/sin [n, d] of 1-D positions 0..n-1, computed as HF's rotary embedding does (float32)."""
        if self._cos.shape[0] >= n:
            return
        n = max(n, 2 * self._cos.shape[0], 1024)
        freqs = torch.arange(n, dtype=torch.long)[:, None].float() * self.lm.rotary_emb.inv_freq.float()
        emb = torch.cat([freqs, freqs], dim=-1)
        self._cos, self._sin = emb.cos(), emb.sin()

    # -- prefill ------------------------------------------------------------------------------------------------

    def _prompt_embeddings(self, inputs: dict) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Embeddings [1, P, H] with the image features in place, positions [3, 1, P], and the rope delta."""
        vl = self.model.model
        ids = inputs["input_ids"]
        if inputs.get("pixel_values_videos") is not None:
            raise ValueError("FastDecoder takes images, not videos: use HF generate")
        x = F.embedding(ids, self.embed)
        grid = inputs.get("image_grid_thw")
        if inputs.get("pixel_values") is None:
            positions = torch.arange(ids.shape[1]).view(1, 1, -1).expand(3, 1, -1)
            return x, positions, 0
        feats = torch.cat(vl.get_image_features(inputs["pixel_values"], grid, return_dict=True).pooler_output)
        mask = ids == vl.config.image_token_id
        if int(mask.sum()) != feats.shape[0]:
            raise ValueError(f"{int(mask.sum())} image tokens for {feats.shape[0]} image features")
        x = x.masked_scatter(mask[..., None], feats.to(x.dtype))
        types = inputs.get("mm_token_type_ids")
        types = types if types is not None else mask.int()
        positions, delta = vl.get_rope_index(ids, types, image_grid_thw=grid)
        return x, positions, int(delta[0, 0])

    def _prefill(self, x: torch.Tensor, positions: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
        """Run the prompt (x [1, P, H]) through the layers, fill cache[:, 0, :, :P]; logits [1, V] of the last."""
        P, h, kv, d = x.shape[1], self.heads, self.kv_heads, self.head_dim
        cos, sin = (c[0] for c in self.lm.rotary_emb(x, positions))    # [P, d]: M-RoPE recomposed by HF
        x = x[0]                                                        # [P, H]
        last = len(self.layers) - 1
        for i, (ln1, w_qkv, b_qkv, w_o, ln2, w_gu, w_down) in enumerate(self.layers):
            qkv = torch.addmm(b_qkv, F.rms_norm(x, (self.hidden,), ln1, self.eps), w_qkv)
            # [1, heads, P, d]: with no batch dim SDPA takes its slow math path, 5x slower on the CPU
            q, k, v = qkv.view(1, P, h + 2 * kv, d).transpose(1, 2).split([h, kv, kv], dim=1)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            cache[i, :1, :kv, :P] = k
            cache[i, :1, kv:, :P] = v
            if i == last:           # only the last position's output is read: attend from it alone
                x, q = x[-1:], q[:, :, -1:]
            a = F.scaled_dot_product_attention(q, k, v, is_causal=i != last, scale=self.scale, enable_gqa=True)
            x = torch.addmm(x, a[0].transpose(0, 1).reshape(x.shape[0], h * d), w_o)
            gate, up = (F.rms_norm(x, (self.hidden,), ln2, self.eps) @ w_gu).chunk(2, dim=-1)
            x = torch.addmm(x, F.silu(gate) * up, w_down)
        return F.rms_norm(x, (self.hidden,), self.norm, self.eps) @ self.lm_head

    # -- decode -------------------------------------------------------------------------------------------------

    def _step(self, tokens: torch.Tensor, slot: int, rot: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
        """Logits [B, V] after feeding ``tokens`` [B] into cache slot ``slot``; ``x @ rot[j]`` [h+2kv, d, d]
        applies the slot position's rotary to head j (identity for the v heads)."""
        h, kv, d = self.heads, self.kv_heads, self.head_dim
        B = tokens.shape[0]
        slots = cache[:, :, :, slot:slot + 1].unbind(0)                # L x [B, 2kv, 1, d]
        keys = cache[:, :, :kv, :slot + 1].unbind(0)                    # L x [B, kv, n, d]
        values = cache[:, :, kv:, :slot + 1].unbind(0)
        x = F.embedding(tokens, self.embed)                             # [B, H]
        for i, (ln1, w_qkv, b_qkv, w_o, ln2, w_gu, w_down) in enumerate(self.layers):
            qkv = torch.addmm(b_qkv, F.rms_norm(x, (self.hidden,), ln1, self.eps), w_qkv)
            qkv = torch.matmul(qkv.view(B, h + 2 * kv, 1, d), rot)     # [B, h+2kv, 1, d]: q, k rotated
            slots[i].copy_(qkv[:, h:])
            # the h // kv query heads of one kv head attend as that many query rows: no key repeat
            a = F.scaled_dot_product_attention(qkv[:, :h].view(B, kv, h // kv, d), keys[i], values[i],
                                               scale=self.scale)
            x = torch.addmm(x, a.view(B, h * d), w_o)                 # x + o_proj(a), one call
            gate, up = (F.rms_norm(x, (self.hidden,), ln2, self.eps) @ w_gu).chunk(2, dim=-1)
            x = torch.addmm(x, F.silu(gate) * up, w_down)
        return F.rms_norm(x, (self.hidden,), self.norm, self.eps) @ self.lm_head

    def _rotations(self, first: int, count: int) -> torch.Tensor:
        """[count, d, d]: for 1-D positions first.., ``x @ m`` is HF's x*cos + rotate_half(x)*sin."""
        d = self.head_dim
        self._rotary_table(first + count)
        cos, sin = self._cos[first:first + count], self._sin[first:first + count]          # [count, d]
        return torch.diag_embed(cos) + _half_turn(d) * sin[:, None, :]

    def _decoder(self, inputs: dict, rows: int, steps: int):
        """Prefill the prompt (batch 1) into a cache of ``rows`` rows with room for ``steps`` more tokens.

        Returns the prompt's next-token logits [1, V] and ``step(tokens [rows], t)``: the logits [rows, V] after
        feeding the t-th new token of each row (cache slot P+t, rotary position P+t+rope_delta).
        """
        if inputs["input_ids"].shape[0] != 1:
            raise ValueError("FastDecoder decodes one prompt (batch 1); n rows share it")
        self._sync()
        h, kv, d = self.heads, self.kv_heads, self.head_dim
        x, positions, delta = self._prompt_embeddings(inputs)
        P = x.shape[1]
        cache = torch.empty(len(self.layers), rows, 2 * kv, P + steps, d)   # every slot is written before read
        logits = self._prefill(x, positions, cache).float()
        if rows > 1:
            cache[:, 1:, :, :P] = cache[:, :1, :, :P]
        turns = self._rotations(P + delta, steps)
        is_v, eye = (torch.arange(h + 2 * kv) >= h + kv).view(-1, 1, 1), torch.eye(d)

        def step(tokens: torch.Tensor, t: int) -> torch.Tensor:
            # one [h+2kv, d, d] matrix per step: rotary on the q and k heads, identity on the v heads
            return self._step(tokens, P + t, torch.where(is_v, eye, turns[t]), cache).float()

        return logits, step

    @torch.inference_mode()
    def generate(self, inputs: dict, n: int = 1, temperature: float = 0.0, max_tokens: int = 256,
                 stop_ids=(), suppressed=(), pad_id: int = 0, constraint=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode ``n`` rows from one prompt (processor output with batch 1). Greedy at temperature 0.

        ``constraint`` (a models/constrain.py ``Session``) masks, row by row, the ids a reference may not
        continue with; the returned logprobs are then those of the masked distribution, the one sampled from
        (``TransformersModel.allowed_masks`` rebuilds the same masks for training).

        Returns ``(tokens, logprobs)``, both [n, steps]: steps end when every row has written a stop id or at
        ``max_tokens``; a row that stopped earlier is padded with ``pad_id`` (what HF generate returns).
        """
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")   # as HF generate
        steps = max_tokens
        logits, step = self._decoder(inputs, n, steps)
        logits = logits.expand(n, -1)
        bias = torch.zeros(logits.shape[-1])                            # -inf on the ids never to be written
        bias[[i for i in suppressed if i < bias.shape[0]]] = float("-inf")
        stop, running = set(stop_ids), [True] * n
        tokens, raw = [], []                                            # per step: n ids, logits [n, V]
        for t in range(steps):
            if constraint is not None:
                logits = logits.clone()
                for r in range(n):
                    allowed = constraint.allowed(r) if running[r] else None
                    if allowed is not None:
                        keep = logits[r, allowed]
                        logits[r] = float("-inf")
                        logits[r, allowed] = keep
            raw.append(logits)
            scores = logits + bias
            if temperature > 0:
                tok = torch.multinomial(F.softmax(scores / temperature, dim=-1), num_samples=1).squeeze(1)
            else:
                tok = scores.argmax(-1)
            ids = tok.tolist()
            if not all(running):                                        # HF writes padding after a stop
                ids = [i if r else pad_id for i, r in zip(ids, running)]
                tok = torch.tensor(ids)
            tokens.append(ids)
            if constraint is not None:
                for r, i in enumerate(ids):
                    constraint.push(r, i)
            running = [r and i not in stop for r, i in zip(running, ids)]
            if t + 1 == steps or not any(running):
                break
            logits = step(tok, t)
        tokens = torch.tensor(tokens, dtype=torch.long).T                                  # [n, steps]
        logprobs = torch.log_softmax(torch.stack(raw, 1), -1).gather(-1, tokens[..., None])[..., 0]
        return tokens, logprobs

    @torch.inference_mode()
    def forced_logits(self, inputs: dict, token_ids: list[int]) -> torch.Tensor:
        """Raw logits [len(token_ids) + 1, V]: after the prompt, then after each given token, through the same
        prefill and decode steps as ``generate``. What the tests hold against the HF forward."""
        logits, step = self._decoder(inputs, 1, len(token_ids) + 1)
        out = [logits] + [step(torch.tensor([tok]), t) for t, tok in enumerate(token_ids)]
        return torch.cat(out)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _half_turn(d: int) -> torch.Tensor:
    """R [d, d] with x @ R == rotate_half(x) for a row vector x."""
    r = torch.zeros(d, d)
    half = torch.arange(d // 2)
    r[half + d // 2, half] = -1.0
    r[half, half + d // 2] = 1.0
    return r


def _in_out(*weights: torch.Tensor) -> torch.Tensor:
    """nn.Linear weights [out, in], stacked along out, copied into one ``x @ w`` operand [in, out] whose longer
    side is contiguous (a transposed view when in > out): MKL streams the product of one row with it about twice
    as fast as with the other layout, and a decode step is bound by reading the weights."""
    w = torch.cat(weights).detach()                                                   # [out, in], a copy
    return w.t().contiguous() if w.shape[0] > w.shape[1] else w.t()
