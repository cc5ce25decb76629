"""The tools offered to the task model, one module per tool."""
