"""Model backends behind one small protocol (models/base.py), and the embedded tiny VLM.

``load_model(spec)`` understands:

- ``embedded``: the checkpoint shipped in this repo (models/embedded/checkpoint), run with transformers;
- ``teacher``: the privileged scripted teachers (needs the env: ``load_model("teacher", env=env)``);
  ``teacher:student`` answers in the embedded model's form (element references, short thoughts);
  ``teacher:visible`` does too, and searches where the privileged teacher would look behind closed panels
  (envs/teachers/visible.py);
- ``hf:DIR`` or a directory: any local HF VLM of the Qwen2.5-VL family, run with transformers;
- ``http://HOST:PORT/v1`` or ``openai:URL``: an OpenAI-compatible server (``#MODEL`` picks the model id);
- ``vllm:DIR``: vLLM in-process (GPU hosts, ``pip install 'screenwise[gpu]'``);
- ``scripted:FILE``: replies read from a JSON list of strings, returned in turn (demos, terminal tests).

Heavy libraries are imported only when the backend that needs them is chosen.
"""

from __future__ import annotations

from pathlib import Path

EMBEDDED_DIR = Path(__file__).parent / "embedded" / "checkpoint"
TEACHER_SPECS = ("teacher", "teacher:student", "teacher:visible")
CARD = "screenwise.json"  # in a checkpoint dir: how the model wants to be prompted


def model_card(spec: str) -> dict:
    """What a local checkpoint says about itself (coord_space, prompt, element_refs); {} when nothing."""
    import json

    path = Path(str(EMBEDDED_DIR) if spec == "embedded" else spec.removeprefix("hf:")) / CARD
    return json.loads(path.read_text()) if path.is_file() else {}


def load_model(spec: str, env=None, coord_space: str | None = None):
    kw = {"coord_space": coord_space} if coord_space else {}
    if spec in TEACHER_SPECS:
        from models.teacher import TeacherModel

        if env is None:
            raise ValueError("the teacher model reads the page: load_model('teacher', env=env)")
        return TeacherModel(env, student=spec != "teacher", visible=spec == "teacher:visible")
    if spec.startswith("scripted:"):
        import json

        from models.scripted import ScriptedModel

        replies = json.loads(Path(spec.removeprefix("scripted:")).read_text())
        if not (isinstance(replies, list) and replies and all(isinstance(r, str) for r in replies)):
            raise ValueError(f"{spec}: the file must hold a JSON list of reply strings")
        return ScriptedModel(replies, name=spec)
    card = model_card(spec)
    if card.get("coord_space"):
        kw.setdefault("coord_space", card["coord_space"])
    if spec == "embedded":
        if not (EMBEDDED_DIR / "config.json").exists():
            raise FileNotFoundError(f"no embedded checkpoint at {EMBEDDED_DIR}; train one with train/recipe.py")
        spec = f"hf:{EMBEDDED_DIR}"
    if spec.startswith(("http://", "https://", "openai:")):
        from models.openai_compat import OpenAICompatModel

        url = spec.removeprefix("openai:")
        url, _, model = url.partition("#")
        return OpenAICompatModel(url, model=model, **kw)
    if spec.startswith("vllm:"):
        from models.vllm_backend import VLLMModel

        return VLLMModel(spec.removeprefix("vllm:"), **kw)
    path = spec.removeprefix("hf:")
    if spec.startswith("hf:") or Path(path).is_dir():
        if not Path(path).is_dir():
            raise FileNotFoundError(f"no model directory at {path}")
        from models.hf import TransformersModel

        return TransformersModel(path, **kw)
    raise ValueError(f"unknown model spec {spec!r}: use embedded, teacher, hf:DIR, http://HOST:PORT/v1, vllm:DIR "
                     "or scripted:FILE")
