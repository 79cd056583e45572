"""The agent: the action language, prompts, the loop, memory and trajectories, and the CLI."""
