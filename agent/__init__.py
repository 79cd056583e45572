"""The agent: the loop, its memory, prompts and trajectories, and the benchmark harness that plays many episodes."""
