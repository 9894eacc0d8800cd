"""The Telegram side of briefbot, grouped by capability; the engine is index/ (it never imports bot/).

- wiring, at the top: app.py (builds the Application from the packages), cli.py (`briefbot`), config.py (settings);
- capabilities: chat/ (questions → answers), alerts/ (subscriptions → pushed briefs), sources/ (where briefs
  come from: channel posts, uploads and links, the inbox, feeds);
- shared leaves any of them may import: access.py (allow-list, operators), conversations.py (follow-up threads:
  chat/ answers in them, alerts/' "Ask about this" opens one), messages.py (Telegram text and sending basics),
  events.py (the Protocols sources/ use to reach alerts/).
Imports run one way: wiring → capabilities → shared leaves and config → index/. The capability packages do not
import each other, except alerts/ → bot/sources/intake.py; tests/test_imports.py checks all of this.
"""
