"""Offline OCR: the text lines on a screenshot, read with rapidocr's bundled ONNX models.

The desktop has no DOM, so its element list starts from the text OCR finds (envs/screen_elements.py adds the
fields). ``rapidocr`` (3.x) ships its detection and recognition models inside the wheel and runs them with
onnxruntime: nothing is downloaded, ever.
``rapidocr_onnxruntime`` (1.x, PP-OCRv4 models, also in its wheel) is used when that is what is installed.

Two choices make it fast on a desktop screen:

- only the part of the screen that differs from the background is read (windows on a plain root window
  are a fraction of a 1024x768 screen), and
- text is detected at its own scale (no resizing): desktop text is small and already sharp.

Results are cached per screenshot (by a hash of its pixels), so an unchanged screen costs nothing.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

import numpy as np
from PIL import Image

INSTALL_HINT = "pip install 'screenwise[desktop]'"
MARGIN = 8  # pixels of background kept around the content box: the detector misses text touching an edge
MIN_SCORE = 0.5

_engine = None
_engine_lock = threading.Lock()
_cache: OrderedDict[str, list[tuple[str, tuple[int, int, int, int], float]]] = OrderedDict()
CACHE_SIZE = 64


def ocr_engine():
    """The shared OCR engine, created on first use (loading the models takes about a second)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _make_engine()
        return _engine


def ocr_threads() -> int:
    """onnxruntime threads: ``SCREENWISE_OCR_THREADS``, else half the cores (at most 4).

    Its worker threads spin while they wait; on a 2-core machine shared with other work, 1 thread read these
    screens in a third of the wall time of 2 (and half the CPU).
    """
    return int(os.environ.get("SCREENWISE_OCR_THREADS") or max(1, min(4, (os.cpu_count() or 2) // 2)))


def _make_engine():
    try:
        from rapidocr import RapidOCR
    except ImportError:
        try:
            from rapidocr_onnxruntime import RapidOCR as OldRapidOCR
        except ImportError as e:
            raise ImportError(f"desktop OCR needs rapidocr and onnxruntime: {INSTALL_HINT}") from e
        old = OldRapidOCR(use_cls=False, det_limit_type="max", det_limit_side_len=2000,
                          intra_op_num_threads=ocr_threads())

        def read_old(arr):
            result, _ = old(arr)
            return [(text, box, float(score)) for box, text, score in (result or [])]

        return read_old
    engine = RapidOCR(params={
        "Global.log_level": "error",  # not "warning": an empty screen is normal, not worth a line
        "Global.use_cls": False,  # desktop text is upright: skip the rotation classifier
        "Det.limit_type": "max", "Det.limit_side_len": 2000,  # detect at the screen's own scale
        "EngineConfig.onnxruntime.intra_op_num_threads": ocr_threads(),
    })
    try:  # rapidocr loads its inference engine on the first call: fail here, with the fix, if it is missing
        engine(np.full((32, 32, 3), 255, np.uint8))
    except ImportError as e:
        raise ImportError(f"desktop OCR needs onnxruntime: {INSTALL_HINT}") from e

    def read(arr):
        out = engine(arr)
        if out.txts is None:
            return []
        return list(zip(out.txts, out.boxes, (float(s) for s in out.scores)))

    return read


def content_box(arr: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box around everything that differs from the background (the colour shared by the four corners).

    None when the screen is all background; the whole screen when the corners disagree (a wallpaper).
    """
    h, w = arr.shape[:2]
    corners = arr[[0, 0, h - 1, h - 1], [0, w - 1, 0, w - 1]]
    if not (corners == corners[0]).all():
        return 0, 0, w, h
    differs = (arr != corners[0]).any(axis=2)
    rows, cols = np.flatnonzero(differs.any(axis=1)), np.flatnonzero(differs.any(axis=0))
    if rows.size == 0:
        return None
    return (max(0, int(cols[0]) - MARGIN), max(0, int(rows[0]) - MARGIN),
            min(w, int(cols[-1]) + 1 + MARGIN), min(h, int(rows[-1]) + 1 + MARGIN))


def ocr_lines(image: Image.Image) -> list[tuple[str, tuple[int, int, int, int], float]]:
    """(text, bbox, score) for each line of text, bbox = (x0, y0, x1, y1) in the image's pixels, top to bottom."""
    arr = np.asarray(image.convert("RGB"))
    key = hashlib.sha1(arr.tobytes()).hexdigest() + f"{arr.shape}"
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    lines = []
    box = content_box(arr)
    if box is not None:
        x0, y0, x1, y1 = box
        read = ocr_engine()
        h, w = arr.shape[:2]
        for text, quad, score in read(np.ascontiguousarray(arr[y0:y1, x0:x1])):
            text = " ".join(str(text).split())
            if not text or score < MIN_SCORE:
                continue
            quad = np.asarray(quad, dtype=float)
            bx0 = min(max(int(np.floor(quad[:, 0].min())) + x0, 0), w - 1)
            by0 = min(max(int(np.floor(quad[:, 1].min())) + y0, 0), h - 1)
            bx1 = max(min(int(np.ceil(quad[:, 0].max())) + x0, w), bx0 + 1)
            by1 = max(min(int(np.ceil(quad[:, 1].max())) + y0, h), by0 + 1)
            lines.append((text, (bx0, by0, bx1, by1), score))
        lines.sort(key=lambda line: (line[1][1] // 8, line[1][0]))  # reading order, rows within 8 px
    _cache[key] = lines
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return lines

