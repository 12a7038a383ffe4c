"""The web app behind `adpilot serve`: inbox, chat, reports and change log (FastAPI, Jinja2 templates, htmx)."""
