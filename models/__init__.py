"""Model backends behind one small protocol (core/model.py), and the embedded tiny VLM.

``resolve(spec) -> (model, card)`` is the one place that reads a model spec. It understands:

- ``embedded``: the checkpoint shipped in this repo (models/embedded/checkpoint), run with transformers;
- ``teacher``: the privileged scripted teachers (they read the page: ``resolve("teacher", env=env)``);
  ``teacher:student`` answers in the embedded model's form (element references, short thoughts);
  ``teacher:visible`` does too, and searches where the privileged teacher would look behind closed panels
  (envs/teachers/visible.py);
- ``hf:DIR`` or a directory: any local HF VLM of the Qwen2.5-VL family, run with transformers;
- ``http(s)://HOST:PORT/v1`` or ``openai:URL``: an OpenAI-compatible server (``#MODEL`` picks the model id);
- ``vllm:DIR``: vLLM in-process (GPU hosts, in vLLM's own environment);
- ``scripted:FILE``: replies read from a JSON list of strings, returned in turn (demos, terminal tests).

The card (models/card.py) comes with the model: from the checkpoint directory, from the server's
``/v1/models``, or from ``card=`` (a file); single fields are overridden by ``prompt=``, ``coord_space=``,
``element_refs=``. Heavy libraries are imported only when the backend that needs them is chosen.
"""

from __future__ import annotations

import json
from pathlib import Path

from models.card import Card, CardError
from models.scripted import ScriptedModel
from models.teacher import TeacherModel

EMBEDDED_DIR = Path(__file__).parent / "embedded" / "checkpoint"
TEACHER_SPECS = ("teacher", "teacher:student", "teacher:visible")
SPEC_HELP = ("embedded, teacher, teacher:student, teacher:visible, hf:DIR or a directory, "
             "http://HOST:PORT/v1[#MODEL], vllm:DIR, scripted:FILE")
STUDENT_FORM = Card(prompt="compact", coord_space="pixels", element_refs=True, mark_matches=True, field_labels=True)
"""The teachers speaking the embedded model's form read its prompt; the Named-in-the-task line and the fields'
labels are always on for them, so that the data they record teaches them."""


class SpecError(ValueError):
    """A model spec that names nothing loadable; the message says what would be."""


class BackendUnavailable(RuntimeError):
    """The spec is right, but its backend cannot run here (vLLM not installed, no GPU)."""


def spec_kind(spec: str) -> str:
    """teacher | scripted | http | vllm | hf (``embedded`` is hf). SpecError for anything else."""
    if spec in TEACHER_SPECS:
        return "teacher"
    if spec.startswith("scripted:"):
        return "scripted"
    if spec.startswith(("http://", "https://", "openai:")):
        return "http"
    if spec.startswith("vllm:"):
        return "vllm"
    if spec == "embedded" or spec.startswith("hf:") or Path(spec).is_dir():
        return "hf"
    raise SpecError(f"unknown model spec {spec!r}: use {SPEC_HELP}")


def needs_env(spec: str) -> bool:
    """The model reads the env it acts in (the teachers): one model per env, not one shared by all."""
    return spec_kind(spec) == "teacher"


def checkpoint_dir(spec: str) -> Path:
    """The directory of a local checkpoint spec (``embedded``, ``hf:DIR``, ``vllm:DIR``, a path)."""
    if spec == "embedded":
        if not (EMBEDDED_DIR / "config.json").exists():
            raise SpecError(f"no embedded checkpoint at {EMBEDDED_DIR}; train one with train/recipe.py")
        return EMBEDDED_DIR
    path = Path(spec.removeprefix("hf:").removeprefix("vllm:"))
    if not (path / "config.json").is_file():
        raise SpecError(f"{spec!r}: no model directory (config.json) at {path}")
    return path


def resolve(spec: str, env=None, card: Card | str | Path | None = None, prompt: str | None = None,
            coord_space: str | None = None, element_refs: bool | None = None, constrain_reply: bool | None = None):
    """``(model, card)`` for ``spec``. ``card`` (a Card or a card file) replaces the card the model carries;
    ``prompt``/``coord_space``/``element_refs``/``constrain_reply`` override single fields. Raises SpecError,
    CardError or BackendUnavailable with a one-line message."""
    kind = spec_kind(spec)
    given = Card.read(card) if isinstance(card, (str, Path)) else card
    if kind == "teacher":
        if env is None:
            raise SpecError(f"the {spec} model reads the page: resolve({spec!r}, env=env)")
        model, own = TeacherModel(env, student=spec != "teacher", visible=spec == "teacher:visible"), (
            STUDENT_FORM if spec != "teacher" else Card(coord_space="pixels"))
    elif kind == "scripted":
        model, own = _scripted(spec), Card(coord_space="pixels")
    elif kind == "http":
        from models.openai_compat import OpenAICompatModel  # the openai client takes a second or more to import

        url, _, name = spec.removeprefix("openai:").partition("#")
        model = OpenAICompatModel(url, model=name)
        served = model.served_card()
        own = Card.from_dict(served, f"{url} /v1/models card") if served else Card()
    else:
        directory = checkpoint_dir(spec)
        own = Card.of_directory(directory) or Card()
        model = None
    final = (given or own).replace(prompt=prompt, coord_space=coord_space, element_refs=element_refs,
                                   constrain_reply=constrain_reply)
    if model is None:
        model = _local(spec, kind, directory, final)
    model.coord_space = final.coord_space
    model.card = final
    if given is not None:
        given.fits(model.name, "the --card file")
    if final.constrain_references and not getattr(model, "follows_constraints", False):
        raise CardError(f"the card asks for constrained decoding, which the {spec} model cannot do")
    return model, final


def load_model(spec: str, env=None, coord_space: str | None = None):
    """The model alone (the Python API's short form of ``resolve``)."""
    return resolve(spec, env=env, coord_space=coord_space)[0]


def _scripted(spec: str):
    path = Path(spec.removeprefix("scripted:"))
    try:
        replies = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SpecError(f"{spec}: cannot read a JSON list of replies ({e})") from None
    if not (isinstance(replies, list) and replies and all(isinstance(r, str) for r in replies)):
        raise SpecError(f"{spec}: the file must hold a JSON list of reply strings")
    return ScriptedModel(replies, name=spec)


def _local(spec: str, kind: str, directory: Path, card: Card):
    if kind == "vllm":
        from models.vllm_backend import VLLMModel  # vLLM (GPU hosts), and torch below: only for the backend chosen

        try:
            return VLLMModel(str(directory), coord_space=card.coord_space, card=card)
        except ImportError as e:
            raise BackendUnavailable(f"{spec}: {e}") from None
    from models.hf import TransformersModel

    return TransformersModel(directory, coord_space=card.coord_space, card=card)


__all__ = ["BackendUnavailable", "Card", "CardError", "EMBEDDED_DIR", "SPEC_HELP", "SpecError", "TEACHER_SPECS",
           "checkpoint_dir", "load_model", "needs_env", "resolve", "spec_kind"]
