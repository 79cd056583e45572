"""OpenAI-style chat messages with images: building them from PIL images and reading them back."""

from __future__ import annotations

import base64
import io

from PIL import Image


def image_part(img: Image.Image) -> dict:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()}}


def text_part(text: str) -> dict:
    return {"type": "text", "text": text}


def decode_image(url: str) -> Image.Image:
    if not url.startswith("data:"):
        raise ValueError("only data: URLs are accepted for images")
    data = base64.b64decode(url.split(",", 1)[1])
    img = Image.open(io.BytesIO(data))
    img.load()
    return img.convert("RGB")


def images_in(messages: list[dict]) -> list[Image.Image]:
    """Every image in the messages, in order."""
    out = []
    for m in messages:
        if isinstance(m.get("content"), list):
            out += [decode_image(p["image_url"]["url"]) for p in m["content"] if p.get("type") == "image_url"]
    return out


def text_of(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if p.get("type") == "text")
