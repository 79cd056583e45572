"""Decision latency of the embedded model, end to end, side by side in one run: HF generate vs the fast path.

A decision is what ``Agent.decide`` costs on the compact prompt (``AgentConfig(prompt="compact")``):

    render    Memory.render_compact on a real MiniWoB observation (screenshot to PNG, element notes)
    generate  TransformersModel.generate: chat template + processor ("preprocess"), vision tower and prompt
              ("prefill"), then the reply token by token
    parse     core.actions.parse_response (a random model rarely writes a valid action; the failure is timed)

Both paths run in one TransformersModel (``model.fast = None`` is HF generate), on the same observations,
interleaved observation by observation, so machine noise hits both alike. Every reply has exactly
``--max-tokens`` tokens: the stop ids are swapped for <|image_pad|>, which the model never writes (it is
suppressed); a random model would otherwise stop at random lengths. ``preprocess`` and ``prefill`` come from two
extra calls per decision (the processor alone; generate with max_tokens=1); ms/token is (generate - that) / (N-1).
"@55 tok" projects the decision to a 55-token reply, the middle of the embedded model's usual 40-70.

Times are CPU seconds of this process (``time.process_time``; torch on 1 thread, the browser closed before
timing), median and p90. On a shared machine wall time mostly measures the neighbours; it is recorded too.

    .venv/bin/python benchmarks/model_speed.py                     # embedded model (or a default tiny one) + sizes
    .venv/bin/python benchmarks/model_speed.py --model DIR --sizes ''   # one model only
    .venv/bin/python benchmarks/model_speed.py --seeds 1 --repeats 1    # quicker

Then, for the trained checkpoint (``--model`` or the embedded one), real decisions as the agent makes them (the
model's own reply lengths) with its reference constraint on and off, interleaved: the constraint's cost.

Prints one table per model and writes benchmarks/results/model_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TASKS = ["click-button", "enter-text", "click-checkboxes", "click-tab-2", "email-inbox", "social-media"]
SIZES = "128x4,192x6,256x8"       # hidden x layers; head_dim 32, 2 kv heads, the default vision tower
PARTS = ["render", "preprocess", "prefill", "ms_per_token", "generate", "parse", "decision", "decision_at_55"]
TYPICAL_REPLY = 55


def observations(tasks: list[str], seeds: list[int]) -> list[tuple[str, object, str]]:
    """(instruction, screenshot, notes) of the first screen of each task and seed, from a real BrowserEnv."""
    from agent.memory import observation_notes
    from envs.browser import BrowserEnv
    from envs.tasks import miniwob_task

    env, out = BrowserEnv(), []
    try:
        for name in tasks:
            for seed in seeds:
                obs, _ = env.reset(seed=seed, options={"task": miniwob_task(name)})
                out.append((obs.instruction, obs.screenshot, observation_notes(obs, [], True)))
    finally:
        env.close()
    return out


def models_to_time(model_dir: str | None, sizes: str, root: Path) -> list[tuple[str, Path]]:
    """(label, directory): the model asked for (or the embedded one, or a default tiny one), then the sizes."""
    from models import EMBEDDED_DIR
    from models.tiny import build_tiny_qwen25vl

    out, labels = [], set()
    if model_dir:
        out.append((Path(model_dir).name, Path(model_dir)))
    elif (EMBEDDED_DIR / "config.json").exists():
        out.append(("embedded", EMBEDDED_DIR))
    else:
        build_tiny_qwen25vl(root / "default")
        out.append(("default 128x4", root / "default"))
        labels.add("128x4")
    for size in filter(None, sizes.split(",")):
        if size in labels:
            continue
        hidden, layers = map(int, size.split("x"))
        build_tiny_qwen25vl(root / size, hidden=hidden, layers=layers, heads=hidden // 32, kv_heads=2)
        out.append((size, root / size))
    return out


def time_model(path: Path, obs: list, max_tokens: int, repeats: int) -> dict:
    """Per path ("hf", "fast"): lists of CPU ms (and wall ms) per part, one entry per timed decision."""
    import torch

    from core.actions import ActionParseError, parse_response
    from agent.memory import Memory
    from models.hf import TransformersModel

    model = TransformersModel(path, threads=1)
    fast = model.fast
    assert fast is not None, f"{path}: no fast path for this model"
    model.stop_ids = [model.tokenizer.convert_tokens_to_ids("<|image_pad|>")]   # never written: fixed lengths
    memory = Memory(task_prompt="")

    def decide(instruction, screenshot, notes, path_name):
        model.fast = fast if path_name == "fast" else None
        t = {}
        c0, w0 = time.process_time(), time.perf_counter()
        messages = memory.render_compact(instruction, screenshot, notes)
        c1 = time.process_time()
        [g] = model.generate(messages, max_tokens=max_tokens)
        c2 = time.process_time()
        try:
            parse_response(g.text)
        except ActionParseError:
            pass
        c3, w3 = time.process_time(), time.perf_counter()
        t.update(render=c1 - c0, generate=c2 - c1, parse=c3 - c2, decision=c3 - c0, wall_decision=w3 - w0)
        c = time.process_time()
        inputs = model._prompt_inputs(messages)
        t["preprocess"] = time.process_time() - c
        c = time.process_time()
        model.generate(messages, max_tokens=1)
        first = time.process_time() - c
        t["prefill"] = first - t["preprocess"]
        t["ms_per_token"] = (t["generate"] - first) / (max_tokens - 1)
        t["decision_at_55"] = t["decision"] - (max_tokens - TYPICAL_REPLY) * t["ms_per_token"]
        return {k: v * 1e3 for k, v in t.items()}, g.token_ids, inputs["input_ids"].shape[1]

    decide(*obs[0], "hf"), decide(*obs[0], "fast")          # warm-up: first-call allocations, lazy imports
    runs = {"hf": [], "fast": []}
    same, prompt_tokens = 0, []
    for i, o in enumerate(obs):
        ids = {}
        for r in range(repeats):
            for name in (("hf", "fast") if (i + r) % 2 == 0 else ("fast", "hf")):
                t, ids[name], n_prompt = decide(*o, name)
                runs[name].append(t)
        same += ids["hf"] == ids["fast"]
        prompt_tokens.append(n_prompt)
    model.fast = fast
    return {"runs": runs, "identical_greedy": same, "prompt_tokens": prompt_tokens,
            "params": sum(p.numel() for p in model.model.parameters()),
            "text_config": {k: getattr(model.model.config.get_text_config(), k) for k in
                            ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                             "intermediate_size")},
            "torch_threads": torch.get_num_threads()}


def time_real(path: Path, obs: list, repeats: int) -> dict:
    """Real decisions of a trained checkpoint as the agent makes them (its own stop tokens and reply lengths),
    with its reference constraint (models/constrain.py) on and off, interleaved."""
    from core.actions import ActionParseError, parse_response
    from agent.memory import Memory
    from models.constrain import ReferenceConstraint
    from models.hf import TransformersModel

    model = TransformersModel(path, threads=1)
    table = model.constraint or ReferenceConstraint(model.tokenizer)
    memory = Memory(task_prompt="")
    runs = {"constrained": [], "free": []}
    for i, (instruction, screenshot, notes) in enumerate(obs * repeats):
        for mode in (("constrained", "free") if i % 2 == 0 else ("free", "constrained")):
            model.constraint = table if mode == "constrained" else None
            c0 = time.process_time()
            [g] = model.generate(memory.render_compact(instruction, screenshot, notes), max_tokens=128)
            try:
                parse_response(g.text)
            except ActionParseError:
                pass
            runs[mode].append({"decision": (time.process_time() - c0) * 1e3, "tokens": len(g.token_ids)})
    return {mode: {"decision_ms": summary([r["decision"] for r in rs]),
                   "reply_tokens": summary([r["tokens"] for r in rs])} for mode, rs in runs.items()}


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
            "min": ordered[0]}


def table(label: str, result: dict, n_obs: int, max_tokens: int) -> str:
    s = {name: {part: summary([t[part] for t in runs]) for part in PARTS + ["wall_decision"]}
         for name, runs in result["runs"].items()}
    cfg, tokens = result["text_config"], result["prompt_tokens"]
    lines = [f"{label}: hidden {cfg['hidden_size']} x {cfg['num_hidden_layers']} layers, "
             f"{result['params'] / 1e6:.2f}M params; prompt {min(tokens)}-{max(tokens)} tokens "
             f"(median {statistics.median(tokens):.0f}); reply {max_tokens} tokens; identical greedy replies "
             f"{result['identical_greedy']}/{n_obs}",
             f"  {'CPU ms, median [p90]':<24}{'HF generate':>20}{'fast path':>20}{'HF / fast':>11}"]
    for part in PARTS + ["wall_decision"]:
        hf, fast = s["hf"][part], s["fast"][part]
        name = {"decision_at_55": f"decision @{TYPICAL_REPLY} tok", "wall_decision": "decision, wall"}.get(part, part)
        ratio = hf["median"] / fast["median"] if fast["median"] > 0 else float("nan")
        lines.append(f"  {name:<24}{hf['median']:>10.2f} [{hf['p90']:>7.2f}]{fast['median']:>10.2f} "
                     f"[{fast['p90']:>7.2f}]{ratio:>11.2f}")
    # the least-disturbed run: closest to what an idle machine gives
    hf, fast = s["hf"]["decision_at_55"]["min"], s["fast"]["decision_at_55"]["min"]
    lines.append(f"  {f'min decision @{TYPICAL_REPLY} tok':<24}{hf:>20.2f}{fast:>20.2f}{hf / fast:>11.2f}")
    return "\n".join(lines), s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help="model directory (default: models/embedded/checkpoint, else a tiny build)")
    p.add_argument("--sizes", default=SIZES, help="tiny sizes to build and time, hidden x layers, comma-separated")
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--seeds", type=int, default=3, help="observations per task")
    p.add_argument("--repeats", type=int, default=2, help="decisions per observation and path")
    p.add_argument("--max-tokens", type=int, default=96, help="reply length (stop ids are disabled)")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "model_speed.json"))
    p.add_argument("--no-real", dest="real", action="store_false",
                   help="skip the trained model's real replies (constraint on / off)")
    args = p.parse_args()

    from models import EMBEDDED_DIR

    import torch
    import transformers

    torch.set_num_threads(1)
    load_before = os.getloadavg()
    obs = observations(args.tasks.split(","), list(range(args.seeds)))
    report = {"config": vars(args), "machine": {"cpus": os.cpu_count(), "load_avg_before": load_before,
                                                "torch": torch.__version__, "transformers": transformers.__version__},
              "clock": "process CPU time (time.process_time), ms; torch on 1 thread", "models": []}
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in models_to_time(args.model, args.sizes, Path(tmp)):
            result = time_model(path, obs, args.max_tokens, args.repeats)
            text, stats = table(label, result, len(obs), args.max_tokens)
            print(text + "\n", flush=True)
            report["models"].append({
                "label": label, "path": str(path) if args.model or label == "embedded" else None,
                "params": result["params"], "text_config": result["text_config"],
                "prompt_tokens": summary(result["prompt_tokens"]), "identical_greedy": result["identical_greedy"],
                "decisions_per_path": len(result["runs"]["hf"]), "hf": stats["hf"], "fast": stats["fast"],
                "ratio_hf_over_fast": {part: stats["hf"][part]["median"] / stats["fast"][part]["median"]
                                       for part in PARTS + ["wall_decision"] if stats["fast"][part]["median"] > 0}})
        trained = Path(args.model) if args.model else EMBEDDED_DIR
        if (trained / "config.json").exists() and args.real:
            real = time_real(trained, obs, args.repeats)
            c, f = real["constrained"], real["free"]
            print(f"{trained}: real replies (median {c['reply_tokens']['median']:.0f} tokens constrained, "
                  f"{f['reply_tokens']['median']:.0f} free): decision {c['decision_ms']['median']:.1f} ms with "
                  f"the reference constraint, {f['decision_ms']['median']:.1f} ms without "
                  f"(p90 {c['decision_ms']['p90']:.1f} / {f['decision_ms']['p90']:.1f})", flush=True)
            report["real_replies"] = {"model": str(trained), **real}
    report["machine"]["load_avg_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
