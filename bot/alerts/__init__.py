"""Push alerts: the alert cycle and its policy (service.py, Telegram-free), topic matching (topics.py), the
SQLite state (store.py), messages (render.py), paced exactly-once sending (outbox.py) and the commands, button
and jobs (handlers.py).

May import: index/, bot.config, the shared leaves (bot.access, bot.conversations, bot.messages, bot.events) and,
of sources/, only bot/sources/intake.py (the cycle polls feeds and ingests the inbox); never chat/.
Imported by the wiring (bot/app.py); sources/ reach it only through the Protocols in bot/events.py, which
`AlertService` (announce/withdraw) and `AlertStore` (feed state) satisfy.
"""
