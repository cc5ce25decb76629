"""From words to a schedule: the rules parser, the LLM parser and the request parser over both."""
