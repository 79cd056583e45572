"""The floor: the data and the seams every other package shares, importing nothing of ours.

- ``actions``: the primitive actions as frozen dataclasses, and the action language (parse, format);
- ``coords``: coordinate spaces, where a model's points land on the screen;
- ``env``: what an env returns and takes (``Observation``, ``Element``, ``ActionError``, ``EnvCrashed``), the
  ``Env``, ``Task`` and ``Executor`` protocols, the default step budget, and ``resolve_target`` (an element
  reference to a point);
- ``elements``: the element list as the model reads it;
- ``model``: the ``Model`` protocol, ``Generation`` and ``ModelError``;
- ``messages``: OpenAI-style chat messages with images.
"""
