"""Answering: questions, follow-ups, buttons and inline queries → cited briefs (handlers.py), their Telegram
HTML (render.py) and the answers kept for the buttons (answers.py).

May import: index/, bot.config and the shared leaves bot.access, bot.conversations, bot.messages; never alerts/
or sources/. Imported by the wiring only (bot/app.py).
"""
