"""The HTTP API's routes, one router per resource (chats, tasks, runs, parse, usage, tokens);
web/api.py includes them all."""
