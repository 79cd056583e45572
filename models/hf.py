"""A local Hugging Face VLM (Qwen2.5-VL family, or anything AutoModelForImageTextToText + AutoProcessor load).

``TransformersModel(path)`` generates from OpenAI-style messages (``core.model``) and, for training, scores given
completions and encodes (prompt, completion) batches for a loss. It runs on the CPU here and on a GPU elsewhere.

Log-probabilities, everywhere in this module, are those of the model's raw next-token distribution (log-softmax
of the logits at temperature 1, before suppression or sampling warpers), as vLLM reports them by default. So the
``logprobs`` of a generation and ``score`` of the same text agree, whatever temperature sampled it. The one
exception is a checkpoint with constrained references (models/constrain.py): its generations report the masked
distribution they were sampled from, which ``token_logprobs(batch, allowed_masks(...))`` reproduces.

Loading without torchvision: the stock Qwen-VL processors include a video processor that needs torchvision, which
does not import next to torch 2.13 CPU. When ``AutoProcessor`` fails for that reason, ``load_processor`` builds the
same processor class from the tokenizer and the PIL image processor, without the video part.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch

from core.messages import decode_image
from core.model import Generation
from models.card import Card
from models.constrain import ReferenceConstraint
from models.fast_decode import FastDecoder
from models.fast_decode import supports as fast_decode_supports
from models.reply_pattern import PatternConstraint, pattern_for
from models.reply_pattern import Session as PatternSession

# Tokens that stand for pixels: a model must never write them (a random one samples <|image_pad|> at once).
VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
                 "<|image|>", "<image>", "<video>")


@lru_cache(maxsize=None)
def _image_only_class(stock: type) -> type:
    """``stock`` (a ProcessorMixin with a video_processor) without its video_processor, under the same name.

    ProcessorMixin takes its sub-processors from ``__init__``'s signature; this one names none for video, so the
    ``None`` the stock ``__init__`` passes on for it is dropped. ``save_pretrained`` records ``stock.__name__``.
    """
    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        stock.__init__(self, image_processor, tokenizer, None, chat_template=chat_template, **kwargs)

    return type(stock.__name__, (stock,), {"__init__": __init__, "__module__": __name__,
                                           "__qualname__": stock.__name__, "__doc__": _image_only_class.__doc__})


def image_only_processor(processor_class: str | type, image_processor, tokenizer, chat_template: str | None = None):
    """Build the processor ``processor_class`` (e.g. ``"Qwen2_5_VLProcessor"``) without a video processor."""
    import transformers

    stock = getattr(transformers, processor_class) if isinstance(processor_class, str) else processor_class
    cls = _image_only_class(stock) if "video_processor" in stock.get_attributes() else stock
    return cls(image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template)


def load_processor(path: str | Path):
    """``AutoProcessor.from_pretrained(path)``, or, where torchvision is missing, the same processor without video."""
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer
    from transformers.utils import is_torchvision_available

    try:
        return AutoProcessor.from_pretrained(path)
    except ImportError:
        if is_torchvision_available():
            raise
    cfg_path = Path(path) / "processor_config.json"
    processor_class = json.loads(cfg_path.read_text())["processor_class"] if cfg_path.exists() else None
    if processor_class is None:
        processor_class = json.loads((Path(path) / "tokenizer_config.json").read_text())["processor_class"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    image_processor = AutoImageProcessor.from_pretrained(path)
    template_path = Path(path) / "chat_template.jinja"
    template = template_path.read_text() if template_path.exists() else tokenizer.chat_template
    return image_only_processor(processor_class, image_processor, tokenizer, template)


def _template_messages(messages: list[dict]) -> list[dict]:
    """OpenAI-style messages as HF chat templates expect them: image parts become ``{"type": "image"}``."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = [{"type": "image"} if p.get("type") == "image_url" else p for p in content]
        out.append({**m, "content": content if content is not None else ""})
    return out


class TransformersModel:
    """A local HF vision-language model behind the ``Model``/``TrainableModel`` protocol.

    ``dtype`` None keeps the checkpoint's dtype; ``threads`` sets torch's (process-wide) CPU thread count, None
    leaves it alone. ``coord_space`` says how the model writes coordinates (core/coords.py).
    """

    def __init__(self, path: str | Path, device: str = "cpu", dtype: str | torch.dtype | None = None,
                 coord_space: str = "qwen25", threads: int | None = 1, name: str | None = None,
                 constrain_references: bool | None = None, card: Card | None = None):
        from transformers import AutoModelForImageTextToText
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a model of a few MB loads at once; the callers show their own progress
        if threads is not None:
            torch.set_num_threads(threads)
        self.path = str(path)
        self.name = name or Path(path).name
        self.coord_space = coord_space
        self.device = torch.device(device)
        self.processor = load_processor(path)
        self.tokenizer = self.processor.tokenizer
        dtype = getattr(torch, dtype) if isinstance(dtype, str) and dtype != "auto" else dtype
        self.model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype or "auto").to(self.device).eval()
        # The same tokens as HF generate without its per-token overhead (models/fast_decode.py); None: HF generate.
        self.fast = FastDecoder(self.model) if fast_decode_supports(self.model) else None

        vocab = self.tokenizer.get_vocab()
        n_logits = self.model.get_output_embeddings().weight.shape[0]
        # Vision placeholders, and logit rows past the tokenizer (padding of the embedding matrix), are never written.
        self.suppressed = sorted({vocab[t] for t in VISION_TOKENS if t in vocab}
                                 | set(range(len(self.tokenizer), n_logits)))
        eos = self.model.generation_config.eos_token_id
        eos = [eos] if isinstance(eos, int) else list(eos or [])
        if self.tokenizer.eos_token_id is not None and self.tokenizer.eos_token_id not in eos:
            eos.insert(0, self.tokenizer.eos_token_id)
        self.stop_ids: list[int] = eos
        # The token that closes an assistant turn (<|im_end|> for Qwen): what score() appends to a finished completion.
        self.end_id: int = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else eos[0]
        pad = self.tokenizer.pad_token_id
        self.pad_id: int = pad if pad is not None else eos[-1]
        # Element references limited to what the prompt lists (models/constrain.py); the card decides by default.
        self.card = card or Card.of_directory(path) or Card()
        if constrain_references is None:
            constrain_references = self.card.constrain_references
        self.constraint = ReferenceConstraint(self.tokenizer) if constrain_references else None
        self.copy_content, self.quotes = self.card.copy_content, self.card.constrain_quotes
        self._patterns: PatternConstraint | None = None  # built on the first request that brings a pattern
        self.use_pattern = False
        """Hold replies to the card's pattern (models/reply_pattern.py) instead of the in-process masks: what a
        vLLM sampler does, so a trainer beside one (GRPO ``--vllm``) masks as it sampled. A card's
        ``constrain_reply`` asks the same for every decode."""

    # -- prompt -------------------------------------------------------------------------------------------------

    def prompt_text(self, messages: list[dict]) -> str:
        """The chat template applied to ``messages``, ending with the assistant's turn opening."""
        return self.processor.apply_chat_template(_template_messages(messages), tokenize=False,
                                                  add_generation_prompt=True)

    def _prompt_inputs(self, messages: list[dict], copies: int = 1) -> dict:
        """Processor output for ``copies`` identical rows of the prompt: input_ids [copies, P], pixels, grids."""
        images = [decode_image(p["image_url"]["url"]) for m in messages if isinstance(m.get("content"), list)
                  for p in m["content"] if p.get("type") == "image_url"]
        text = self.prompt_text(messages)
        inputs = self.processor(text=[text] * copies, images=images * copies or None, return_tensors="pt")
        return {k: v.to(self.device) for k, v in inputs.items()}

    # -- generation ---------------------------------------------------------------------------------------------

    follows_constraints = True

    def _session(self, messages: list[dict], rows: int, pattern: str | None):
        """The decode's constraint: the pattern a request brings (models/reply_pattern.py, as a server's
        structured output), else the card's in-process reference masks (models/constrain.py), else none."""
        if pattern is None and (self.use_pattern or self.card.constrain_reply):
            pattern = pattern_for(messages, self.card)
        if pattern is not None:
            if self._patterns is None:
                self._patterns = PatternConstraint(self.tokenizer, self.end_id)
            return self._patterns.session(pattern, rows)
        if self.constraint is None:
            return None
        return self.constraint.session(self.prompt_text(messages), rows, self.copy_content, self.quotes)

    @torch.no_grad()
    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0,
                 max_tokens: int = 256, pattern: str | None = None) -> list[Generation]:
        """``n`` completions. Greedy at temperature 0 (one decode, copied n times); plain temperature sampling
        otherwise (no top-k/top-p or repetition penalty, whatever the checkpoint's generation_config says).
        ``pattern``: a regular expression the reply must match (instead of the card's reference masks)."""
        inputs = self._prompt_inputs(messages)
        sample = temperature > 0
        rows = n if sample else 1
        session = self._session(messages, rows, pattern)
        if self.fast is not None:
            new, logps = self.fast.generate(inputs, n=rows, temperature=temperature,
                                            max_tokens=max_tokens, stop_ids=self.stop_ids,
                                            suppressed=self.suppressed, pad_id=self.pad_id, constraint=session)
        else:
            # Explicit values override the checkpoint's generation_config (Qwen's: top_k=1, repetition_penalty 1.05).
            how = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0, min_p=None, typical_p=1.0,
                       num_return_sequences=n) if sample else dict(do_sample=False)
            out = self.model.generate(
                **inputs, **how, max_new_tokens=max_tokens, repetition_penalty=1.0, no_repeat_ngram_size=0,
                suppress_tokens=self.suppressed, eos_token_id=self.stop_ids, pad_token_id=self.pad_id,
                output_logits=True, return_dict_in_generate=True,
                prefix_allowed_tokens_fn=self._allowed_fn(session, inputs["input_ids"].shape[1]))
            new = out.sequences[:, inputs["input_ids"].shape[1]:]                       # [rows, steps]
            logits = torch.stack(out.logits, dim=1).float()                             # [rows, steps, vocab]
            if session is not None:  # report the masked distribution, as the fast path does
                masks = torch.cat([self.allowed_masks(messages, row.tolist(), pattern) for row in new])
                logits = logits.masked_fill(~masks[..., :logits.shape[-1]], float("-inf"))
            logps = torch.log_softmax(logits, -1).gather(-1, new[..., None])[..., 0]  # [rows, steps]
        gens = [self._generation(new[i].tolist(), logps[i].tolist()) for i in range(new.shape[0])]
        return gens if sample else [Generation(g.text, list(g.token_ids), list(g.logprobs), g.finish_reason)
                                    for g in gens * n]

    def _allowed_fn(self, session, prompt_len: int):
        """HF generate's hook for the reference constraint: the row's ids so far -> the ids allowed next."""
        if session is None:
            return None
        everything = list(range(self.model.get_output_embeddings().weight.shape[0]))

        def allowed(row: int, ids: torch.Tensor) -> list[int]:
            written = ids[prompt_len:].tolist()
            if isinstance(session, PatternSession):  # a guide is advanced, not rewound: push what is new
                for token in written[session.pushed[row]:]:
                    session.push(row, token)
                session.pushed[row] = len(written)
            else:
                session.text[row] = b"".join(session.table.bytes[i] for i in written if i < len(session.table.bytes))
            return session.allowed(row) or everything

        return allowed

    def _generation(self, ids: list[int], logps: list[float]) -> Generation:
        """Cut at the first stop token (kept in token_ids, left out of the text)."""
        stop = next((i for i, t in enumerate(ids) if t in self.stop_ids), None)
        if stop is None:
            return Generation(self._decode(ids), ids, logps, "length")
        return Generation(self._decode(ids[:stop]), ids[:stop + 1], logps[:stop + 1], "stop")

    def _decode(self, ids: list[int]) -> str:
        # Special tokens stay: UI-TARS writes <|box_start|>(x,y)<|box_end|>, and score() must re-tokenize the text.
        return self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    # -- training side ------------------------------------------------------------------------------------------

    def completion_ids(self, completion: str | list[int], close: bool = True) -> list[int]:
        """Token ids of ``completion`` as the model would write it, plus the end-of-turn token when ``close``.

        A list of ints is taken as token ids already (e.g. ``Generation.token_ids``) and returned unchanged: text
        does not always round-trip to the same ids (a sampled stray byte decodes to U+FFFD), ids always do.
        """
        if not isinstance(completion, str):
            return list(completion)
        ids = self.tokenizer(completion, add_special_tokens=False)["input_ids"]
        return ids + [self.end_id] if close else ids

    def encode(self, messages: list[dict], completions: list[str | list[int]] | str, close: bool = True) -> dict:
        """One batch row per completion: the prompt (shared), then the completion's tokens, right-padded.

        A completion is text, or a list of token ids taken as they are (``close`` does not apply to those).

        Returns the model inputs (``input_ids`` [B, T], ``attention_mask`` [B, T], ``pixel_values`` [B*patches, D],
        ``image_grid_thw`` [B*images, 3], and whatever else the processor adds, e.g. ``mm_token_type_ids`` [B, T])
        plus ``completion_mask`` [B, T] (bool, True where ``input_ids`` holds a completion token, the closing
        end-of-turn token included when ``close``) and ``prompt_len`` (int P: completion tokens start at column P).
        The logprob of the token at column t comes from the logits at t-1; ``token_logprobs`` does that shift.
        """
        completions = [completions] if isinstance(completions, str) else list(completions)
        batch = self._prompt_inputs(messages, copies=len(completions))
        prompt_len = batch["input_ids"].shape[1]
        rows = [self.completion_ids(c, close) for c in completions]
        width = max(1, max(map(len, rows)))
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.bool)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = True
        ids, mask = ids.to(self.device), mask.to(self.device)
        for key, value in list(batch.items()):
            if torch.is_tensor(value) and value.shape[:2] == (len(rows), prompt_len) and key != "input_ids":
                # per-token side inputs: attention is on for the completion, token types are "text" (0)
                tail = mask.to(value.dtype) if key == "attention_mask" else torch.zeros_like(ids, dtype=value.dtype)
                batch[key] = torch.cat([value, tail], dim=1)
        batch["input_ids"] = torch.cat([batch["input_ids"], ids], dim=1)
        batch["completion_mask"] = torch.cat([torch.zeros_like(batch["input_ids"][:, :prompt_len], dtype=torch.bool),
                                              mask], dim=1)
        batch["prompt_len"] = prompt_len
        return batch

    def token_logprobs(self, batch: dict, allowed: torch.Tensor | None = None,
                       temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of the completion tokens of an ``encode`` batch, with gradients (for losses).

        Returns ``(logprobs, mask)``, both [B, C] for the C = T - P completion columns; ``mask`` is False on padding.
        Only the completion's logits are computed (``logits_to_keep``), so long prompts stay cheap. ``allowed``
        ([B, C, V] bool, from ``allowed_masks``) renormalises each position over the ids the reference
        constraint allowed there: the distribution a constrained generation sampled from. ``temperature`` divides
        the logits first: the logprobs of the tempered distribution a sampler at that temperature draws from.
        """
        inputs = {k: v for k, v in batch.items() if k not in ("completion_mask", "prompt_len")}
        prompt_len = batch["prompt_len"]
        width = inputs["input_ids"].shape[1] - prompt_len
        logits = self.model(**inputs, logits_to_keep=width + 1, use_cache=False).logits[:, :-1].float()  # [B, C, V]
        if temperature != 1.0:
            logits = logits / temperature
        if allowed is not None:
            logits = logits.masked_fill(~allowed[:, :width, :logits.shape[-1]], float("-inf"))
        targets = inputs["input_ids"][:, prompt_len:]                                                        # [B, C]
        logps = torch.log_softmax(logits, -1).gather(-1, targets[..., None])[..., 0]
        return logps, batch["completion_mask"][:, prompt_len:]

    def allowed_masks(self, messages: list[dict], token_ids: list[int],
                      pattern: str | None = None) -> torch.Tensor | None:
        """[1, len(token_ids), V] bool: what the constraint allowed before each token of a reply to ``messages``
        (all True where it was idle); None for a model without one. ``pattern``: the regular expression the
        sampler held the reply to (a vLLM sampler's structured output), instead of the card's masks."""
        session = self._session(messages, 1, pattern)
        if session is None:
            return None
        vocab = self.model.get_output_embeddings().weight.shape[0]
        mask = torch.ones(1, len(token_ids), vocab, dtype=torch.bool)
        for t, token in enumerate(token_ids):
            ids = session.allowed(0)
            if ids is not None:
                mask[0, t] = False
                mask[0, t, ids] = True
            session.push(0, token)
        return mask

    @torch.no_grad()
    def score(self, messages: list[dict], completions: list[str | list[int]],
              close: bool = True) -> list[list[float]]:
        """Per-token log-probabilities of each completion as the assistant's reply to ``messages``.

        One value per token of ``completion_ids(c, close)``: the text's tokens, then the end-of-turn token when
        ``close`` (a finished turn, which is how ``generate`` ends a "stop" generation). Passing a generation's
        ``token_ids`` scores exactly what was sampled. One batched forward pass.
        """
        if not completions:
            return []
        logps, mask = self.token_logprobs(self.encode(messages, completions, close))
        return [row[m].tolist() for row, m in zip(logps, mask)]
