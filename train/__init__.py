"""Training: distillation (SFT) from the teachers, and GRPO on task-success rewards."""
