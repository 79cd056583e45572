"""Does the installed transformers load the embedded checkpoint, and decode it as the reference version does?

Run it in a venv that holds the transformers version under test (docs/experiments.md, "the first transformers that
loads the embedded checkpoint"):

    python3 -m venv /tmp/pin && /tmp/pin/bin/pip install torch==2.13.0 pillow numpy outlines-core transformers==5.18.0
    PYTHONPATH=$PWD /tmp/pin/bin/python benchmarks/pin_check.py

Prints one JSON line: the version, the checkpoint's rope_theta as loaded, and a greedy reply through HF generate.
"""

import json

import torch
import transformers

from models import EMBEDDED_DIR
from models.hf import TransformersModel

torch.set_num_threads(1)
model = TransformersModel(EMBEDDED_DIR, coord_space="pixels")
text_config = model.model.config.text_config
theta = getattr(text_config, "rope_theta", None) or (getattr(text_config, "rope_parameters", None) or {}).get("rope_theta")
messages = [{"role": "user", "content": [{"type": "text", "text": (
    "Task: Click on the \"no\" button.\nPrevious actions:\nnone\nElements:\n[0] button 'ok'\n[1] button 'no'")}]}]
model.fast = None  # HF generate: the path whose config handling changes between versions
print(json.dumps({"version": transformers.__version__, "rope_theta": theta,
                  "reply": model.generate(messages, max_tokens=60)[0].text}))
