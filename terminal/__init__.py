"""The terminal front door: `cronpilot chat` (try the bot without Telegram) and the operator's
`cronpilot tasks` / `cronpilot runs`, over the same application layer as bot/."""
