"""Training: the one trainer (`trainer.fit`), crash-safe checkpointing, multi-worker training, schedules."""
