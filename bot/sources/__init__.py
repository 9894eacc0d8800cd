"""Where briefs come from: source channels' posts, operators' documents and links (publish.py, Telegram-free;
handlers.py), the inbox folder (inbox.py) and RSS/Atom feeds (feeds.py).

May import: index/, bot.config and the shared leaves (bot.access, bot.messages, bot.events); never chat/ or
alerts/: what it needs of the alerts it names as Protocols in bot/events.py (`BriefsPublished`, `FeedStore`),
and bot/app.py hands it the objects. Imported by the wiring and, through intake.py only, by alerts/.
"""
