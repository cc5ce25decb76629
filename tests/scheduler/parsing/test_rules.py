"""The rules parser, table-driven with a fixed clock: Thursday 2026-11-26 10:00 in Berlin.

POSITIVE_CASES and NEGATIVE_PHRASES are module-level so benchmarks/rules_parser.py can time them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from core.errors import NotUnderstoodError, ScheduleError
from scheduler.parsing.rules import parse_rules
from scheduler.schedules.schedule import ParsedRequest, Schedule
from storage.records import TaskKind

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)  # a Thursday, CET (+01:00)


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


@dataclass(frozen=True)
class Case:
    text: str
    schedule: Schedule
    prompt: str
    source: str = "rules"
    now: datetime = NOW
    chat_timezone: str = TZ


def cron(
    text: str,
    expression: str,
    prompt: str,
    *,
    zone: str = TZ,
    source: str = "rules",
    chat_timezone: str = TZ,
) -> Case:
    schedule = Schedule(kind=TaskKind.CRON, timezone=zone, cron=expression)
    return Case(text, schedule, prompt, source=source, chat_timezone=chat_timezone)


def once(text: str, run_at: datetime, prompt: str, *, zone: str = TZ, now: datetime = NOW) -> Case:
    return Case(text, Schedule(kind=TaskKind.ONCE, timezone=zone, run_at=run_at), prompt, now=now)


def interval(text: str, seconds: int, prompt: str) -> Case:
    schedule = Schedule(kind=TaskKind.INTERVAL, timezone=TZ, every_seconds=seconds, run_at=NOW)
    return Case(text, schedule, prompt)


DAILY = [
    cron("every day at 9am check the news", "0 9 * * *", "Check the news"),
    cron("daily at 7:30 send me the weather", "30 7 * * *", "Send me the weather"),
    cron("each day at 18:00 log my mood", "0 18 * * *", "Log my mood"),
    cron("every morning summarize my inbox", "0 8 * * *", "Summarize my inbox"),
    cron("each evening at 7 write in my journal", "0 19 * * *", "Write in my journal"),
    cron("every evening check the stock market", "0 18 * * *", "Check the stock market"),
    cron("every night at 22:30 remind me to sleep", "30 22 * * *", "Remind me to sleep"),
    cron("every afternoon stretch", "0 14 * * *", "Stretch"),
    cron("remind me to take my pills every day at 8", "0 8 * * *", "Remind me to take my pills"),
    cron("everyday at 6am go running", "0 6 * * *", "Go running"),
    cron("summarize Hacker News daily", "0 9 * * *", "Summarize Hacker News"),
    cron("Daily: post a motivational quote", "0 9 * * *", "Post a motivational quote"),
    cron("at 9am every day: check the weather in Paris", "0 9 * * *", "Check the weather in Paris"),
    cron("every day at noon eat lunch", "0 12 * * *", "Eat lunch"),
    cron("every day at midnight back up the notes", "0 0 * * *", "Back up the notes"),
    cron("every day at 9 o'clock read the headlines", "0 9 * * *", "Read the headlines"),
    cron("every day at nine pm review the day", "0 21 * * *", "Review the day"),
    cron("every single day at 7 drink water", "0 7 * * *", "Drink water"),
    cron("every day in the morning list my tasks", "0 8 * * *", "List my tasks"),
    cron("every day at 5 in the afternoon walk the dog", "0 17 * * *", "Walk the dog"),
    cron("each day at 12:15pm eat", "15 12 * * *", "Eat"),
    cron("every day at 12am run the backup", "0 0 * * *", "Run the backup"),
    cron("every day at 9.30pm plan the next day", "30 21 * * *", "Plan the next day"),
    cron("every day at 09:05 check the mail", "5 9 * * *", "Check the mail"),
    cron("daily news at 9", "0 9 * * *", "News"),
    cron("every 1 day at 10 water the plants", "0 10 * * *", "Water the plants"),
    cron("every night take the trash out", "0 21 * * *", "Take the trash out"),
    cron("every day at 6 P.M. call home", "0 18 * * *", "Call home"),
    cron("every evening at 6:30 read", "30 18 * * *", "Read"),
]

WEEKDAYS_AND_WEEKENDS = [
    cron(
        "every weekday at 9am summarize the top Hacker News stories",
        "0 9 * * 1-5",
        "Summarize the top Hacker News stories",
    ),
    cron(
        "on weekdays at 8:45 post the stand-up reminder",
        "45 8 * * 1-5",
        "Post the stand-up reminder",
    ),
    cron("monday to friday at 7 check traffic", "0 7 * * 1-5", "Check traffic"),
    cron("mon-fri at 17:00 log hours", "0 17 * * 1-5", "Log hours"),
    cron("weekdays at 6:30pm cook dinner", "30 18 * * 1-5", "Cook dinner"),
    cron("every working day at 9 check the tickets", "0 9 * * 1-5", "Check the tickets"),
    cron("every weekday morning read the news", "0 8 * * 1-5", "Read the news"),
    cron("on weekends at 10 water the garden", "0 10 * * 0,6", "Water the garden"),
    cron("every weekend at 11am call grandma", "0 11 * * 0,6", "Call grandma"),
    cron("weekends at 9 go hiking", "0 9 * * 0,6", "Go hiking"),
    cron("every saturday and sunday at 10 clean the flat", "0 10 * * 0,6", "Clean the flat"),
    cron("from monday to friday at 8 stand up", "0 8 * * 1-5", "Stand up"),
    cron("monday through friday at 9:15 check email", "15 9 * * 1-5", "Check email"),
    cron("every morning on weekdays at 7 run", "0 7 * * 1-5", "Run"),
    cron("every business day at 16:30 send the report", "30 16 * * 1-5", "Send the report"),
    cron("every weekday at 9am: standup time", "0 9 * * 1-5", "Standup time"),
    cron("on weekday mornings meditate", "0 8 * * 1-5", "Meditate"),
    cron("daily standup reminder at 9:45 on weekdays", "45 9 * * 1-5", "Standup reminder"),
]

NAMED_DAYS = [
    cron("every monday at 10 plan the week", "0 10 * * 1", "Plan the week"),
    cron("every monday and thursday at 10 go to the gym", "0 10 * * 1,4", "Go to the gym"),
    cron("on tuesdays water the plants", "0 9 * * 2", "Water the plants"),
    cron("mon, wed and fri at 7am swim", "0 7 * * 1,3,5", "Swim"),
    cron(
        "every tuesday and friday at 18:00 take out the trash", "0 18 * * 2,5", "Take out the trash"
    ),
    cron("sundays at 20:00 review the week", "0 20 * * 0", "Review the week"),
    cron("every sun at 8 call mom", "0 8 * * 0", "Call mom"),
    cron("on mondays and wednesdays at 6pm practice guitar", "0 18 * * 1,3", "Practice guitar"),
    cron("every friday at 5pm send the weekly report", "0 17 * * 5", "Send the weekly report"),
    cron("every saturday morning buy groceries", "0 8 * * 6", "Buy groceries"),
    cron("every thursday evening watch the game", "0 18 * * 4", "Watch the game"),
    cron("every wednesday at noon eat salad", "0 12 * * 3", "Eat salad"),
    cron("tue/thu at 19:00 yoga", "0 19 * * 2,4", "Yoga"),
    cron("every monday, wednesday, and friday at 6 lift weights", "0 6 * * 1,3,5", "Lift weights"),
    cron("fri-mon at 9 relax", "0 9 * * 0,1,5,6", "Relax"),
    cron("weekly on monday at 9 review goals", "0 9 * * 1", "Review goals"),
    cron("every week on friday at 16:00 do timesheets", "0 16 * * 5", "Do timesheets"),
    cron("Every Monday at 9am summarize the week ahead", "0 9 * * 1", "Summarize the week ahead"),
    cron("send my weekly summary on fridays at 17:00", "0 17 * * 5", "Send my weekly summary"),
    cron("every tue, wed, thu at 8 commute", "0 8 * * 2-4", "Commute"),
    cron("on monday and thursday at 10 call the team", "0 10 * * 1,4", "Call the team"),
]

SEVERAL_TIMES = [
    cron("every day at 9 and 17 check the servers", "0 9,17 * * *", "Check the servers"),
    cron("every day at 9:00 and 9:30 take a break", "0,30 9 * * *", "Take a break"),
    cron("daily at 8am and 8pm take medicine", "0 8,20 * * *", "Take medicine"),
    cron("every day at 9, 13 and 17 drink water", "0 9,13,17 * * *", "Drink water"),
    cron("every weekday at 10:30 and 15:30 stretch", "30 10,15 * * 1-5", "Stretch"),
    cron("every monday at 9 and at 14 check mail", "0 9,14 * * 1", "Check mail"),
]

PERIODS = [
    cron("remind me to drink water every 2 hours", "0 */2 * * *", "Remind me to drink water"),
    cron("every 15 minutes check the queue", "*/15 * * * *", "Check the queue"),
    cron("every 15 min ping the server", "*/15 * * * *", "Ping the server"),
    cron("every 5 minutes check the website", "*/5 * * * *", "Check the website"),
    cron("every minute ping", "* * * * *", "Ping"),
    cron("every 1 minute ping", "* * * * *", "Ping"),
    cron("every 30 mins stretch", "*/30 * * * *", "Stretch"),
    cron("every half hour check the oven", "*/30 * * * *", "Check the oven"),
    cron(
        "every half an hour look away from the screen", "*/30 * * * *", "Look away from the screen"
    ),
    cron("every quarter hour check", "*/15 * * * *", "Check"),
    cron("every 2h check the builds", "0 */2 * * *", "Check the builds"),
    cron("every 3 hours check the inbox", "0 */3 * * *", "Check the inbox"),
    cron("every 6 hrs rotate logs", "0 */6 * * *", "Rotate logs"),
    cron("every 12 hours sync", "0 */12 * * *", "Sync"),
    cron("every 20 minutes refresh", "*/20 * * * *", "Refresh"),
    cron("every two hours look outside", "0 */2 * * *", "Look outside"),
    cron("every ten minutes breathe", "*/10 * * * *", "Breathe"),
    cron("hourly check the build status", "0 * * * *", "Check the build status"),
    cron("every hour check the build", "0 * * * *", "Check the build"),
    cron("check the build hourly", "0 * * * *", "Check the build"),
    cron("every 1 hour check", "0 * * * *", "Check"),
    cron(
        "every 30 minutes on weekdays check the dashboard", "*/30 * * * 1-5", "Check the dashboard"
    ),
    cron(
        "every 2 hours on weekends check the garden sensor",
        "0 */2 * * 0,6",
        "Check the garden sensor",
    ),
    cron("every hour on mondays check", "0 * * * 1", "Check"),
    interval("every 7 minutes check", 420, "Check"),
    interval("every 45 minutes stand up", 2700, "Stand up"),
    interval("every 90 minutes take a break", 5400, "Take a break"),
    interval("every 60 minutes check", 3600, "Check"),
    interval("every 5 hours check the mail", 18000, "Check the mail"),
    interval("every 24 hours rotate the keys", 86400, "Rotate the keys"),
    interval("every 600 seconds ping", 600, "Ping"),
    interval("every 3 days water the cactus", 259200, "Water the cactus"),
    interval("every 2 weeks pay the cleaner", 1209600, "Pay the cleaner"),
    interval("every week review the budget", 604800, "Review the budget"),
    interval("weekly: clean the fridge", 604800, "Clean the fridge"),
]

WINDOWS = [
    cron(
        "every hour from 9 to 17 on weekdays check the dashboard",
        "0 9-17 * * 1-5",
        "Check the dashboard",
    ),
    cron(
        "every 30 minutes between 9am and 5pm check the queue", "*/30 9-16 * * *", "Check the queue"
    ),
    cron("every 2 hours from 8 to 20 drink water", "0 8-20/2 * * *", "Drink water"),
    cron("every 15 minutes from 9 to 17 check", "*/15 9-16 * * *", "Check"),
    cron("every hour between 8am and 6pm look up", "0 8-18 * * *", "Look up"),
    cron("every hour from 9:30 to 17 stretch", "30 9-16 * * *", "Stretch"),
    cron("every 3 hours from 6 to 22 check", "0 6-21/3 * * *", "Check"),
    cron(
        "every 20 minutes from 10:00 to 12:00 on weekdays refresh", "*/20 10,11 * * 1-5", "Refresh"
    ),
    cron("hourly from 9 to 18 check", "0 9-18 * * *", "Check"),
    cron("every hour 9am-5pm check", "0 9-17 * * *", "Check"),
    cron("every 120 minutes from 8 to 12 check", "0 8-12/2 * * *", "Check"),
    cron(
        "Every hour between 9 and 17 check if the site is up",
        "0 9-17 * * *",
        "Check if the site is up",
    ),
    cron("every 10 minutes between 8 and 9 check the train", "*/10 8 * * *", "Check the train"),
]

MONTHLY = [
    cron("monthly pay the rent", "0 9 1 * *", "Pay the rent"),
    cron("pay the rent monthly", "0 9 1 * *", "Pay the rent"),
    cron("every month send the invoice", "0 9 1 * *", "Send the invoice"),
    cron("on the 15th of every month at 8 pay the bills", "0 8 15 * *", "Pay the bills"),
    cron("every month on the 1st send the report", "0 9 1 * *", "Send the report"),
    cron("on the last day of the month review expenses", "0 9 L * *", "Review expenses"),
    cron(
        "on the last day of every month at 18:00 close the books", "0 18 L * *", "Close the books"
    ),
    cron("on the first monday of every month plan the sprint", "0 9 * * 1#1", "Plan the sprint"),
    cron("on the second tuesday of each month join the meetup", "0 9 * * 2#2", "Join the meetup"),
    cron("on the 1st and 15th of every month at 10 pay the card", "0 10 1,15 * *", "Pay the card"),
    cron("monthly on the 15th at 10:30 check the meter", "30 10 15 * *", "Check the meter"),
    cron("every 15th of the month renew the pass", "0 9 15 * *", "Renew the pass"),
    cron("on the first of every month back up the photos", "0 9 1 * *", "Back up the photos"),
    cron("on the third friday of the month at 17:00 have drinks", "0 17 * * 5#3", "Have drinks"),
    cron("monthly on the first monday at 10 review OKRs", "0 10 * * 1#1", "Review OKRs"),
    cron("on the 4th thursday of every month at 19:00 book club", "0 19 * * 4#4", "Book club"),
    cron("every month on the last day send the bill", "0 9 L * *", "Send the bill"),
    cron("every month on the 15 water the bonsai", "0 9 15 * *", "Water the bonsai"),
    cron("every 3rd of the month check the bill", "0 9 3 * *", "Check the bill"),
    cron("every month on 15th pay the gym", "0 9 15 * *", "Pay the gym"),
]

YEARLY = [
    cron("every year on March 3 wish Anna happy birthday", "0 9 3 3 *", "Wish Anna happy birthday"),
    cron("every December 24 at 18:00 light the candles", "0 18 24 12 *", "Light the candles"),
    cron("annually on 1 jan review my goals", "0 9 1 1 *", "Review my goals"),
    cron("yearly on 24 dec send greetings", "0 9 24 12 *", "Send greetings"),
    cron("every year on the 1st of may at 8 celebrate", "0 8 1 5 *", "Celebrate"),
    cron("every 14th of february buy flowers", "0 9 14 2 *", "Buy flowers"),
    cron("on july 4 every year fire up the grill", "0 9 4 7 *", "Fire up the grill"),
    cron("every march 3rd call dad", "0 9 3 3 *", "Call dad"),
    cron("every february 29 celebrate the leap day", "0 9 29 2 *", "Celebrate the leap day"),
]

ONE_SHOTS = [
    once("today at 11am call the bank", berlin(2026, 11, 26, 11), "Call the bank"),
    once("today at 18:30 buy milk", berlin(2026, 11, 26, 18, 30), "Buy milk"),
    once("tonight call mom", berlin(2026, 11, 26, 21), "Call mom"),
    once("tonight at 11 check the oven", berlin(2026, 11, 26, 23), "Check the oven"),
    once("this evening water the plants", berlin(2026, 11, 26, 18), "Water the plants"),
    once("this afternoon at 3 pick up the kids", berlin(2026, 11, 26, 15), "Pick up the kids"),
    once(
        "tomorrow remind me to pay the bill", berlin(2026, 11, 27, 9), "Remind me to pay the bill"
    ),
    once("tomorrow morning go to the gym", berlin(2026, 11, 27, 8), "Go to the gym"),
    once("tomorrow at 3pm dentist", berlin(2026, 11, 27, 15), "Dentist"),
    once("remind me tomorrow at 9 to call Anna", berlin(2026, 11, 27, 9), "Remind me to call Anna"),
    once("at 9 tomorrow call the plumber", berlin(2026, 11, 27, 9), "Call the plumber"),
    once("tomorrow evening at 7 cook", berlin(2026, 11, 27, 19), "Cook"),
    once("tomorrow night take the trash out", berlin(2026, 11, 27, 21), "Take the trash out"),
    once(
        "the day after tomorrow at 10 submit the form", berlin(2026, 11, 28, 10), "Submit the form"
    ),
    once("next monday send the report", berlin(2026, 11, 30, 9), "Send the report"),
    once("next thursday at 14:00 review", berlin(2026, 12, 3, 14), "Review"),
    once("next friday at 17:00 leave early", berlin(2026, 11, 27, 17), "Leave early"),
    once("on friday buy wine", berlin(2026, 11, 27, 9), "Buy wine"),
    once("on thursday at 11 call Bob", berlin(2026, 11, 26, 11), "Call Bob"),
    once("on thursday at 9 call Bob", berlin(2026, 12, 3, 9), "Call Bob"),
    once("friday at 6pm drinks", berlin(2026, 11, 27, 18), "Drinks"),
    once("on saturday morning clean", berlin(2026, 11, 28, 8), "Clean"),
    once("this friday at 8 pm dinner", berlin(2026, 11, 27, 20), "Dinner"),
    once("in 2 minutes check the tea", NOW + timedelta(minutes=2), "Check the tea"),
    once(
        "remind me in 2 minutes to check the oven",
        NOW + timedelta(minutes=2),
        "Remind me to check the oven",
    ),
    once("in half an hour stretch", NOW + timedelta(minutes=30), "Stretch"),
    once("in 10 minutes call back", NOW + timedelta(minutes=10), "Call back"),
    once("in an hour and a half leave", NOW + timedelta(minutes=90), "Leave"),
    once(
        "in 2 hours and 30 minutes check the roast", NOW + timedelta(minutes=150), "Check the roast"
    ),
    once("in an hour check the laundry", NOW + timedelta(hours=1), "Check the laundry"),
    once("in 90 seconds flip the pancake", NOW + timedelta(seconds=90), "Flip the pancake"),
    once("in 3 days follow up with Sam", berlin(2026, 11, 29, 10), "Follow up with Sam"),
    once("in 3 days at 9 follow up", berlin(2026, 11, 29, 9), "Follow up"),
    once("in 1 week renew the parking permit", berlin(2026, 12, 3, 10), "Renew the parking permit"),
    once("10 minutes from now check the laundry", NOW + timedelta(minutes=10), "Check the laundry"),
    once("on December 24 buy a tree", berlin(2026, 12, 24, 9), "Buy a tree"),
    once("on 24 December at 20:00 open presents", berlin(2026, 12, 24, 20), "Open presents"),
    once("dec 24 call grandma", berlin(2026, 12, 24, 9), "Call grandma"),
    once("on december 24th at 6pm cook", berlin(2026, 12, 24, 18), "Cook"),
    once(
        "on 2026-12-31 at 23:00 open the champagne", berlin(2026, 12, 31, 23), "Open the champagne"
    ),
    once("on 2027-01-15 renew the passport", berlin(2027, 1, 15, 9), "Renew the passport"),
    once("on nov 20 pay the tax", berlin(2027, 11, 20, 9), "Pay the tax"),
    once("on 26 november at 11 meet Ann", berlin(2026, 11, 26, 11), "Meet Ann"),
    once("on february 29 celebrate", berlin(2028, 2, 29, 9), "Celebrate"),
    once("Thursday, December 24 at 18:00 dinner", berlin(2026, 12, 24, 18), "Dinner"),
    once("December 31, 2026 at 23:59 toast", berlin(2026, 12, 31, 23, 59), "Toast"),
    once("at 8pm call mom", berlin(2026, 11, 26, 20), "Call mom"),
    once("at 8am call mom", berlin(2026, 11, 27, 8), "Call mom"),
    once("remind me at 8pm to call mom", berlin(2026, 11, 26, 20), "Remind me to call mom"),
    once("at noon eat", berlin(2026, 11, 26, 12), "Eat"),
    once("at midnight lock the door", berlin(2026, 11, 27, 0), "Lock the door"),
    once("at 9:30pm take out the trash", berlin(2026, 11, 26, 21, 30), "Take out the trash"),
    once("at 10:01 start the call", berlin(2026, 11, 26, 10, 1), "Start the call"),
    once("at 9:59 start the call", berlin(2026, 11, 27, 9, 59), "Start the call"),
    once("8pm call mom", berlin(2026, 11, 26, 20), "Call mom"),
    once("remind me in 2 minutes", NOW + timedelta(minutes=2), "Remind me"),
    once(
        "remind me next tuesday at 3pm about the meeting",
        berlin(2026, 12, 1, 15),
        "Remind me about the meeting",
    ),
]

OTHER_CLOCKS = [
    # Monday 2026-11-30 10:00: "next monday" is a week away, "on monday" today if still ahead.
    once("next monday call", berlin(2026, 12, 7, 9), "Call", now=berlin(2026, 11, 30, 10)),
    once("on monday at 11 call", berlin(2026, 11, 30, 11), "Call", now=berlin(2026, 11, 30, 10)),
    once("on monday at 9 call", berlin(2026, 12, 7, 9), "Call", now=berlin(2026, 11, 30, 10)),
    # After 20:00, "at 8pm" is tomorrow.
    once("at 8pm call mom", berlin(2026, 11, 27, 20), "Call mom", now=berlin(2026, 11, 26, 21)),
    # December 24 has passed: next year.
    once("on december 24 call", berlin(2027, 12, 24, 9), "Call", now=berlin(2026, 12, 25, 10)),
    # Spring forward (2027-03-28 02:00 -> 03:00): 02:30 does not exist, it runs at 03:00.
    once(
        "tomorrow at 2:30 water the plants",
        datetime(2027, 3, 28, 3, 0, tzinfo=BERLIN),
        "Water the plants",
        now=berlin(2027, 3, 27, 10),
    ),
    # "in 2 hours" across the gap is two hours of real time.
    once(
        "in 2 hours check",
        datetime(2027, 3, 28, 4, 30, tzinfo=BERLIN),
        "Check",
        now=datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN),
    ),
    # Fall back (2026-10-25 03:00 -> 02:00): the first 02:30 (+02:00).
    once(
        "tomorrow at 2:30 check",
        datetime(2026, 10, 25, 0, 30, tzinfo=ZoneInfo("UTC")),
        "Check",
        now=berlin(2026, 10, 24, 10),
    ),
    # `now` in another offset than the chat's zone.
    once(
        "in 5 minutes check",
        NOW + timedelta(minutes=5),
        "Check",
        now=NOW.astimezone(ZoneInfo("America/New_York")),
    ),
]

ZONES = [
    cron(
        "every day at 9 New York time check the markets",
        "0 9 * * *",
        "Check the markets",
        zone="America/New_York",
    ),
    cron("every day at 9 in New York time check", "0 9 * * *", "Check", zone="America/New_York"),
    cron(
        "every weekday at 9am Tokyo time post the summary",
        "0 9 * * 1-5",
        "Post the summary",
        zone="Asia/Tokyo",
    ),
    once(
        "tomorrow at 9 London time call the office",
        local("Europe/London", 2026, 11, 27, 9),
        "Call the office",
        zone="Europe/London",
    ),
    cron("every day at 18:00 UTC post the report", "0 18 * * *", "Post the report", zone="UTC"),
    cron("every day at 9 GMT ping", "0 9 * * *", "Ping", zone="GMT"),
    cron(
        "every monday at 8 Berlin time plan",
        "0 8 * * 1",
        "Plan",
        zone="Europe/Berlin",
        chat_timezone="UTC",
    ),
    cron(
        "every day at 9 Europe/Berlin check",
        "0 9 * * *",
        "Check",
        zone="Europe/Berlin",
        chat_timezone="UTC",
    ),
    cron(
        "every day at 7 America/Argentina/Buenos_Aires read the news",
        "0 7 * * *",
        "Read the news",
        zone="America/Argentina/Buenos_Aires",
    ),
    once("at 10am in UTC deploy", local("UTC", 2026, 11, 26, 10), "Deploy", zone="UTC"),
    cron("every day at 18:00Z sync", "0 18 * * *", "Sync", zone="UTC"),
    cron(
        "every day at 9 los angeles time standup",
        "0 9 * * *",
        "Standup",
        zone="America/Los_Angeles",
    ),
    cron("every day at 9 local time stretch", "0 9 * * *", "Stretch"),
    cron(
        "every day at 8 Buenos Aires time drink mate",
        "0 8 * * *",
        "Drink mate",
        zone="America/Argentina/Buenos_Aires",
    ),
    once(
        "tomorrow at 9 in Tokyo time call Kenji",
        local("Asia/Tokyo", 2026, 11, 27, 9),
        "Call Kenji",
        zone="Asia/Tokyo",
    ),
    cron("every day at 9 in europe/london check", "0 9 * * *", "Check", zone="Europe/London"),
    cron("UTC time: every day at 6 rotate", "0 6 * * *", "Rotate", zone="UTC"),
    cron(
        "every day at 08:00 Europe/Paris: weather report",
        "0 8 * * *",
        "Weather report",
        zone="Europe/Paris",
    ),
]

EXPLICIT_CRON = [
    cron("0 9 * * 1-5 summarize HN", "0 9 * * 1-5", "Summarize HN", source="cron"),
    cron("0 9 * * 7 x", "0 9 * * 7", "X", source="cron"),
    cron("*/5 * * * * ping the server", "*/5 * * * *", "Ping the server", source="cron"),
    cron("0 9 L * * pay rent", "0 9 L * *", "Pay rent", source="cron"),
    cron("0 9 * * 1#1 plan the month", "0 9 * * 1#1", "Plan the month", source="cron"),
    cron("0 9 * * MON-FRI check mail", "0 9 * * MON-FRI", "Check mail", source="cron"),
    cron("30 8 1 jan * happy new year", "30 8 1 jan *", "Happy new year", source="cron"),
    cron("0 0 * * 0: weekly cleanup", "0 0 * * 0", "Weekly cleanup", source="cron"),
    cron(
        "0 9,17 * * 1,3,5 check every door", "0 9,17 * * 1,3,5", "Check every door", source="cron"
    ),
    cron("0 9 * * 1-5 UTC summarize HN", "0 9 * * 1-5", "Summarize HN", source="cron", zone="UTC"),
    cron("@daily summarize HN", "0 0 * * *", "Summarize HN", source="cron"),
    cron("  15 14 1 * *   pay the rent", "15 14 1 * *", "Pay the rent", source="cron"),
]

PROMPTS = [
    cron("remind me, every day at 9, to stretch", "0 9 * * *", "Remind me to stretch"),
    cron("check the weather every day at 9!", "0 9 * * *", "Check the weather"),
    cron(
        "what's the weather in Berlin? every day at 8", "0 8 * * *", "What's the weather in Berlin?"
    ),
    cron("every day at 9 give me today's agenda", "0 9 * * *", "Give me today's agenda"),
    cron(
        "every evening at 9 tell me the weather for tomorrow",
        "0 21 * * *",
        "Tell me the weather for tomorrow",
    ),
    cron(
        "every day at 9 summarize https://news.ycombinator.com/news?p=2",
        "0 9 * * *",
        "Summarize https://news.ycombinator.com/news?p=2",
    ),
    cron(
        "every day at 9 check https://example.com/daily/every-monday-at-9",
        "0 9 * * *",
        "Check https://example.com/daily/every-monday-at-9",
    ),
    cron("every day at 9 tell me the top 10 stories", "0 9 * * *", "Tell me the top 10 stories"),
    cron(
        "every morning at 8 tell me what's in the news",
        "0 8 * * *",
        "Tell me what's in the news",
    ),
    cron("every morning send me the daily digest", "0 8 * * *", "Send me the daily digest"),
    cron("EVERY DAY AT 9AM SHOUT THE NEWS", "0 9 * * *", "SHOUT THE NEWS"),
    cron("  every   day   at   9   stretch   a   bit  .", "0 9 * * *", "Stretch a bit"),
    cron("every day at 9 stretch a bit.", "0 9 * * *", "Stretch a bit."),
    cron("(every day at 9) check the logs", "0 9 * * *", "Check the logs"),
    cron("every day at 9 **summarize** the logs", "0 9 * * *", "**summarize** the logs"),
    cron("every day at 9 <b>bold</b> move", "0 9 * * *", "<b>bold</b> move"),
    cron("my daily briefing every morning at 7", "0 7 * * *", "My daily briefing"),
    cron("the weekly report every friday at 5pm", "0 17 * * 5", "The weekly report"),
    cron("every day at 9 buy 1.5 kg of rice", "0 9 * * *", "Buy 1.5 kg of rice"),
    cron("every day at 9 email me at bob@example.com", "0 9 * * *", "Email me at bob@example.com"),
    cron("every day at 9: check mail\nand answer it", "0 9 * * *", "Check mail\nand answer it"),
    cron(
        "every day at 9 remind me to read for 10 minutes",
        "0 9 * * *",
        "Remind me to read for 10 minutes",
    ),
    cron("every day at 9 — check the mail", "0 9 * * *", "Check the mail"),
]

POSITIVE_CASES: list[Case] = [
    *DAILY,
    *WEEKDAYS_AND_WEEKENDS,
    *NAMED_DAYS,
    *SEVERAL_TIMES,
    *PERIODS,
    *WINDOWS,
    *MONTHLY,
    *YEARLY,
    *ONE_SHOTS,
    *OTHER_CLOCKS,
    *ZONES,
    *EXPLICIT_CRON,
    *PROMPTS,
]

NEGATIVE_PHRASES: list[str] = [
    # no schedule at all
    "hello",
    "hi there",
    "Hello!",
    "good morning",
    "what time is it?",
    "how are you",
    "thanks",
    "what can you do?",
    "summarize the news",
    "",
    "   ",
    "remind me",
    "tell me the weather in Paris",
    # nonsense times and periods
    "every day at 25:00 check",
    "every day at 9:75 check",
    "at 13pm check",
    "at 0am check",
    "at 24:00 check",
    "every 0 minutes check",
    "every 0 hours check",
    "in 0 minutes check",
    "every february 30 check",
    "on 2026-02-30 check",
    # several times one cron can't express
    "every day at 9 and 17:30 check",
    "every monday at 9 and 17:30 check",
    # in the past
    "today at 8am check",
    "today at 10:00 check",
    "this morning check",
    "this thursday at 9 check",
    "on 2025-12-31 check",
    # leftovers and modifiers
    "every day except sunday at 9 check",
    "every day at 9 until friday check",
    "every other day check",
    "twice a day check",
    "every day at 9 or 10 check",
    "every day around 9 check",
    "every day at 9ish check",
    "every day at 9.30 check",
    "every day at lunch check",
    "every monday at 9 starting next week check",
    "every day for 2 weeks at 9 check",
    "every day at 9 but not on weekends check",
    "summarize daily news every morning",
    "last monday check",
    "every day at 9 tell me about monday",
    "every day at 9 check 24/7 uptime",
    "on 12/31 at 9 check",
    "in 2 months check",
    "every day at 9 quote John 3:16",
    "tomorrow week check",
    "every fortnight check",
    "every day at 9 in Paris check",
    "every 2nd day check",
    "every day 10 UTC check",
    "every monday 5 tips",
    "every 10 minutes for an hour check",
    "every 15 minutes during business hours check",
    "9 to 5 every weekday check",
    "at 12 noon check",
    # conflicts and contradictions
    "tomorrow at 9 every day check",
    "tomorrow and friday check",
    "every morning at 9pm check",
    "tomorrow morning at 9pm check",
    "tonight at 1 check",
    "every evening at 06:30 check",
    "at 9am and 5 check",
    "friday, december 24 check",
    "is it going to rain today? every day at 7am",
    # things cron can't say exactly
    "every 2 days at 9 back up",
    "every week at 9 check",
    "every 2 weeks on monday check",
    "every 2 hours at 9 check",
    "from 9 to 17 check",
    "every 45 minutes from 9 to 17 check",
    "every hour from 20 to 6 check",
    "last friday of the month party",
    "on the 15th pay the rent",
    "every second tuesday meet",
    "every year check",
    "every 90 minutes on weekdays check",
    # zones
    "every day at 9 Foo time check",
    "every day at 9 in Narnia time check",
    "every day at 9 EST check",
    "every day at 9 UTC+2 check",
    "every day at 9 Europe/Narnia check",
    "every day at 9am Berlin check",
    # nothing to do
    "every day at 9",
    "0 9 * * 1-5",
    "tomorrow",
    "today check",
]


def _parse(text: str, *, now: datetime = NOW, timezone: str = TZ) -> ParsedRequest:
    return parse_rules(text, now=now, timezone=timezone)


def test_the_tables_are_big_enough() -> None:
    assert len(POSITIVE_CASES) >= 160
    assert len(NEGATIVE_PHRASES) >= 40
    texts = [case.text for case in POSITIVE_CASES if case.now == NOW]
    assert len(set(texts)) == len(texts), "a phrase is listed twice"


@pytest.mark.parametrize("case", POSITIVE_CASES, ids=lambda case: case.text[:60])
def test_positive(case: Case) -> None:
    result = _parse(case.text, now=case.now, timezone=case.chat_timezone)

    assert _comparable(result.schedule) == _comparable(case.schedule)
    assert result.prompt == case.prompt
    assert result.source == case.source
    if result.schedule.run_at is not None:
        assert result.schedule.run_at.tzinfo == ZoneInfo(case.schedule.timezone)


def _comparable(schedule: Schedule) -> tuple[object, ...]:
    # The instant in UTC: PEP 495 makes a time in a DST fold unequal to any other zone's.
    run_at = None if schedule.run_at is None else schedule.run_at.astimezone(UTC)
    return (schedule.kind, schedule.timezone, schedule.cron, run_at, schedule.every_seconds)


@pytest.mark.parametrize("text", NEGATIVE_PHRASES)
def test_negative(text: str) -> None:
    with pytest.raises(NotUnderstoodError) as raised:
        _parse(text)
    reason = str(raised.value)
    assert reason
    assert len(reason) < 300


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("today at 8am call", "already passed today"),
        ("every 2 days at 9 back up", "daylight saving"),
        ("every day at 9 and 17:30 check", "a task for each time"),
        ("every day at 9", "what to do"),
        ("hello", "couldn't find a schedule"),
        ("every day at 25:00 check", "“25:00” is not a valid time"),
        ("every 0 minutes check", "Every 0"),
        ("every day at 9 Foo time check", "Foo time"),
        ("every day except sunday at 9 check", "“except”"),
        ("friday, december 24 check", "is a Thursday, not a Friday"),
        ("last friday of the month party", "last <weekday>"),
    ],
)
def test_the_reason_says_why(text: str, reason: str) -> None:
    with pytest.raises(NotUnderstoodError, match=re.escape(reason)):
        _parse(text)


def test_rule_crons_are_canonical_and_valid() -> None:
    # Numbers, not names; `L` only as the day of the month, `#` only in the day of the week.
    canonical = re.compile(
        r"^[0-9*][0-9,*/-]* [0-9*][0-9,*/-]* (?:[0-9*][0-9,*/-]*|L) [0-9*][0-9,*/-]* "
        r"(?:[0-9*][0-9,*/-]*|[0-6]#[1-5])$"
    )
    checked = 0
    for case in POSITIVE_CASES:
        expression = case.schedule.cron
        if expression is None or case.source != "rules":
            continue
        assert canonical.match(expression), expression
        assert croniter.is_valid(expression), expression
        checked += 1
    assert checked > 100


def test_interval_counts_from_now_in_the_schedule_zone() -> None:
    result = _parse("every 7 minutes check", now=NOW.astimezone(ZoneInfo("UTC")))

    assert result.schedule.run_at == NOW
    assert result.schedule.run_at is not None
    assert result.schedule.run_at.tzinfo == BERLIN


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_rules("every day at 9 check", now=datetime(2026, 11, 26, 10), timezone=TZ)  # noqa: DTZ001


def test_an_unknown_chat_zone_is_a_schedule_error() -> None:
    with pytest.raises(ScheduleError):
        parse_rules("every day at 9 check", now=NOW, timezone="Mars/Olympus")


_FUZZ_VOCABULARY = (
    "every day at 9 am pm monday mon-fri weekdays in 2 minutes hours from to between and , : "
    "tomorrow today tonight the 1st 15th of month last first on december 24 2026-12-31 utc tokyo "
    "time new york europe/berlin noon midnight 25:00 9:75 13pm 0 * */5 L 1#1 @daily next this "
    "morning evening hourly daily weekly monthly each week year half an hour 17:30 18:00z <b> ** "
    "https://x.y/every-day check news call mom İ ’ – \x00 \n"
)
_FUZZ_WORDS = _FUZZ_VOCABULARY.split(" ")


def _fuzz_texts(rng: random.Random) -> list[str]:
    texts = []
    for _ in range(3000):
        shape = rng.random()
        if shape < 0.5:
            texts.append(" ".join(rng.choice(_FUZZ_WORDS) for _ in range(rng.randint(1, 14))))
        elif shape < 0.8:
            texts.append("".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(0, 60))))
        else:
            alphabet = "every day at 9:0am,-/.#*@ \n\t\x00İ'’–<>[]()"
            texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))))
    long_texts = [
        "a" * 10_000,
        " " * 10_000,
        "9" * 10_000,
        "every " * 2_000,
        "at 9 " * 2_000,
        "monday, " * 1_500,
        "1st and " * 1_200,
        "time " * 2_000,
        "@" * 10_000,
        "a@b." * 2_500,
        "9:" * 5_000,
        "every day at 9 " + "x" * 10_000,
        "from 9 to " * 1_000,
        "new york time " * 700,
        "<b>" * 3_000,
        "\x00\x01\x1b" * 3_000,
        "mon-" * 2_500,
        "a-" * 5_000,
        "9-" * 5_000,
    ]
    return texts + long_texts


def _outcome(text: str) -> ParsedRequest | NotUnderstoodError:
    try:
        return _parse(text)
    except NotUnderstoodError as error:
        return error


def test_fuzz_only_declines_or_parses() -> None:
    zone_names = {"Europe/Berlin"}
    for text in _fuzz_texts(random.Random(20261126)):
        result = _outcome(text)  # anything else raised fails the test
        if isinstance(result, NotUnderstoodError):
            assert str(result)
            continue
        schedule = result.schedule
        assert result.prompt
        assert result.prompt == result.prompt.strip()
        assert result.source in ("rules", "cron")
        ZoneInfo(schedule.timezone)
        zone_names.add(schedule.timezone)
        if schedule.kind is TaskKind.CRON:
            assert schedule.cron is not None
            assert len(schedule.cron.split()) == 5
            assert schedule.run_at is None
            assert schedule.every_seconds is None
        elif schedule.kind is TaskKind.ONCE:
            assert schedule.run_at is not None
            assert schedule.run_at.utcoffset() is not None
            assert schedule.cron is None
            assert schedule.every_seconds is None
        else:
            assert schedule.every_seconds is not None
            assert schedule.every_seconds > 0
            assert schedule.run_at == NOW
    assert "UTC" in zone_names  # the fuzz reached the zone matchers
