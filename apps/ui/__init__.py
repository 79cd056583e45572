"""``screenwise ui``: the assistant and the runs in a browser tab. See app.py (routes, guard, server),
assistant.py (the chat's loop and hooks, answered from a tab), board.py (what every tab sees), runs.py (run
directories and their status) and static/ (the two pages)."""
