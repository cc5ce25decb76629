"""The task runner: the run loop and the tools the model may call."""
