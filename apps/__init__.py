"""The applications, the top floor: the ``screenwise`` command line, the chat, the web UI and the viewer.
Nothing imports them; they import the agent, the envs, the models and (``screenwise train``) the training scripts."""
