"""Page scripts through the page's own DevTools session: Playwright's ``page.evaluate``, at a third of its cost.

Every observation, every reward check and every teacher's look at the DOM is a script call, several an episode.
Playwright's ``evaluate`` wraps each in its utility script and round trips (about 3.5 ms of CPU and 5-15 ms of
wall time here); one ``Runtime.evaluate`` on a DevTools session costs about 1 ms. ``run_script`` keeps Playwright's
meaning: a function is called with the argument (JSON), a promise is awaited, and the result comes back in
Playwright's own wire format (``serialize`` below follows its utility script's serializer), decoded by
Playwright's own ``parse_result`` (it travels as one JSON string, which costs the client far less than a nested
reply), so callers get exactly what ``page.evaluate`` gives them: ``None`` for
``undefined``, ``nan`` and ``inf``, ``"ref: <Node>"`` for a DOM node. An error thrown by the script is raised as
Playwright's ``Error``. What this path cannot take (an argument JSON cannot carry, a script that is not an
expression) goes to ``page.evaluate`` unchanged, before anything has run.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright._impl.js_handle import parse_result  # Playwright's own decoder of its wire format

SERIALIZE_JS = r"""
(value) => {
  const visited = new Map(); let lastId = 0;
  const is = (o, name) => { try { return Object.prototype.toString.call(o) === `[object ${name}]`; } catch (e) { return false; } };
  const inst = (o, name) => { try { return o instanceof globalThis[name]; } catch (e) { return false; } };
  const typed = {i8: 'Int8Array', ui8: 'Uint8Array', ui8c: 'Uint8ClampedArray', i16: 'Int16Array', ui16: 'Uint16Array',
                 i32: 'Int32Array', ui32: 'Uint32Array', f32: 'Float32Array', f64: 'Float64Array',
                 bi64: 'BigInt64Array', bui64: 'BigUint64Array'};
  const b64 = a => btoa(Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).map(b => String.fromCharCode(b)).join(''));
  const outer = v => {
    if (v && typeof v === 'object') {
      if (inst(v, 'Window')) return {s: 'ref: <Window>'};
      if (inst(v, 'Document')) return {s: 'ref: <Document>'};
      if (inst(v, 'Node')) return {s: 'ref: <Node>'};
    }
    return inner(v);
  };
  const inner = v => {
    if (typeof v === 'symbol' || Object.is(v, undefined)) return {v: 'undefined'};
    if (Object.is(v, null)) return {v: 'null'};
    if (Object.is(v, NaN)) return {v: 'NaN'};
    if (Object.is(v, Infinity)) return {v: 'Infinity'};
    if (Object.is(v, -Infinity)) return {v: '-Infinity'};
    if (Object.is(v, -0)) return {v: '-0'};
    if (typeof v === 'boolean') return {b: v};
    if (typeof v === 'number') return {n: v};
    if (typeof v === 'string') return {s: v};
    if (typeof v === 'bigint') return {bi: v.toString()};
    if (inst(v, 'Error') || (() => { try { return Object.getPrototypeOf(v).name === 'Error'; } catch (e) { return false; } })()) {
      const stack = v.stack && v.stack.startsWith(v.name + ': ' + v.message) ? v.stack : `${v.name}: ${v.message}\n${v.stack}`;
      return {e: {n: v.name, m: v.message, s: stack}};
    }
    if (inst(v, 'Date') || is(v, 'Date')) return {d: v.toJSON()};
    if (inst(v, 'URL') || is(v, 'URL')) return {u: v.toJSON()};
    if (inst(v, 'RegExp') || is(v, 'RegExp')) return {r: {p: v.source, f: v.flags}};
    for (const [k, name] of Object.entries(typed)) if (inst(v, name) || is(v, name)) return {ta: {b: b64(v), k}};
    if (inst(v, 'ArrayBuffer') || is(v, 'ArrayBuffer')) return {ab: {b: b64(new Uint8Array(v))}};
    const seen = visited.get(v);
    if (seen) return {ref: seen};
    if (Array.isArray(v)) {
      const id = ++lastId; visited.set(v, id);
      return {a: Array.from({length: v.length}, (_, i) => outer(v[i])), id};
    }
    if (typeof v === 'object') {
      const id = ++lastId; visited.set(v, id);
      const o = [];
      for (const k of Object.keys(v)) {
        let item;
        try { item = v[k]; } catch (e) { continue; }
        o.push({k, v: k === 'toJSON' && typeof item === 'function' ? {o: [], id: 0} : outer(item)});
      }
      let json;
      try { if (o.length === 0 && v.toJSON && typeof v.toJSON === 'function') json = {value: v.toJSON()}; } catch (e) {}
      return json ? inner(json.value) : {o, id};
    }
    return {v: 'undefined'};  // a function: Python has no such value
  };
  try { return outer(value); } catch (e) { return {v: 'undefined'}; }
}
"""

NAVIGATION_ERRORS = ("Execution context was destroyed", "Not attached to an active page",
                     "Cannot find context with specified id", "Cannot find default execution context",
                     "Inspected target navigated or closed", "Unable to capture screenshot")
"""What a script call or a screenshot says when the document went away under it (a navigation)."""


def _expression(js: str, arg: Any) -> str | None:
    """The expression that runs ``js`` as page.evaluate would, catching what it throws; None when the argument
    is not plain JSON."""
    try:
        arg_json = json.dumps(arg, allow_nan=True)
    except (TypeError, ValueError):
        return None
    return f"""(async () => {{
  let value;
  try {{
    const f = ({js}
    );
    value = typeof f === 'function' ? await f({arg_json}) : await f;
  }} catch (e) {{
    return JSON.stringify({{error: e instanceof Error ? `${{e.name}}: ${{e.message}}` : String(e)}});
  }}
  return JSON.stringify({{value: ({SERIALIZE_JS})(value)}});
}})()"""


async def run_script(session, page, js: str, arg: Any = None) -> Any:
    """``page.evaluate(js, arg)`` through ``session`` (a DevTools session of ``page``)."""
    expression = _expression(js, arg)
    if expression is None:
        return await page.evaluate(js, arg)
    reply = await session.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                    "returnByValue": True})
    if "exceptionDetails" in reply:  # it did not compile (a statement, not an expression): nothing ran
        return await page.evaluate(js, arg)
    out = json.loads(reply["result"]["value"])  # one string: Playwright maps a nested reply node by node
    if "error" in out:
        raise PlaywrightError(out["error"])
    return parse_result(out["value"])
