"""vLLM in-process, for fast generation on a CUDA host (rollouts for GRPO, benchmarks on big models).

The same directory that ``TransformersModel`` loads is served here: vLLM lists
``Qwen2_5_VLForConditionalGeneration``, so the tiny checkpoint from ``models.tiny`` is a valid vLLM model.
vLLM is imported lazily; it needs its own environment (``pip install 'screenwise[gpu]'`` on a CUDA host).

Log-probabilities are vLLM's default raw ones (before temperature and bias), like ``TransformersModel``'s.

A card that asks for constrained references gets each reply held to its pattern (models/reply_pattern.py) through
vLLM's structured outputs, as ``vllm serve`` does for ``OpenAICompatModel``'s requests.
"""

from __future__ import annotations

import math

from core.model import Generation
from models.card import Card
from models.hf import VISION_TOKENS
from models.reply_pattern import pattern_for


class VLLMModel:
    """A local model directory served by ``vllm.LLM``; ``llm_kwargs`` go to ``vllm.LLM`` as they are."""

    follows_constraints = True

    def __init__(self, path: str, coord_space: str = "qwen25", max_images: int = 4, dtype: str = "auto",
                 gpu_memory_utilization: float = 0.5, seed: int = 0, name: str | None = None,
                 card: Card | None = None, **llm_kwargs):
        try:
            from vllm import LLM
        except ImportError as e:
            raise ImportError("vLLM is not installed; on a CUDA host, in its own environment: "
                              "pip install 'screenwise[gpu]' (README, 'Serving on a GPU')") from e
        self.card = card or Card.of_directory(path) or Card(coord_space=coord_space)

        self.name = name or str(path).rstrip("/").rsplit("/", 1)[-1]
        self.coord_space = coord_space
        self.llm = LLM(model=str(path), dtype=dtype, gpu_memory_utilization=gpu_memory_utilization, seed=seed,
                       limit_mm_per_prompt={"image": max_images}, **llm_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        vocab = self.tokenizer.get_vocab()
        # A model that writes an image placeholder breaks the next prompt; vLLM takes a bias, not a suppress list.
        self.logit_bias = {vocab[t]: -100.0 for t in VISION_TOKENS if t in vocab}

    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0,
                 max_tokens: int = 256, pattern: str | None = None) -> list[Generation]:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        pattern = pattern or pattern_for(messages, self.card)
        structured = StructuredOutputsParams(regex=pattern) if pattern else None
        params = SamplingParams(n=n, temperature=temperature, top_p=1.0, top_k=-1, max_tokens=max_tokens,
                                logprobs=0, logit_bias=self.logit_bias or None, skip_special_tokens=False,
                                structured_outputs=structured)
        out = self.llm.chat(messages, params, use_tqdm=False)[0]
        gens = []
        for c in out.outputs:
            logps = [d[t].logprob if d and t in d else math.nan for t, d in zip(c.token_ids, c.logprobs or [])]
            gens.append(Generation(c.text, list(c.token_ids), logps, c.finish_reason or "stop"))
        return gens

    def score(self, messages: list[dict], completions: list[str]) -> list[list[float]]:
        """Log-probabilities of each completion's text tokens (no end-of-turn token), via prompt_logprobs."""
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=1, prompt_logprobs=0)
        convs = [messages + [{"role": "assistant", "content": c}] for c in completions]
        outs = self.llm.chat(convs, params, use_tqdm=False, add_generation_prompt=False,
                             continue_final_message=True)
        scores = []
        for c, out in zip(completions, outs):
            k = len(self.tokenizer.encode(c, add_special_tokens=False))
            ids, logps = out.prompt_token_ids[-k:] if k else [], out.prompt_logprobs[-k:] if k else []
            scores.append([d[t].logprob for t, d in zip(ids, logps)])
        return scores
