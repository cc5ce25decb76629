"""All of the bot's handlers, registered in one place (`register`)."""
