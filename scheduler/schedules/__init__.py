"""Schedule maths: standard cron, the schedule value, its time-zone rules and descriptions."""
