"""WSGI entry point: `flask --app wsgi ...` and production servers import `app` from here.

A configuration problem ends the process with one clear line, not a traceback (see quiz/startup.py).
"""
from quiz.startup import create_app_or_exit

app = create_app_or_exit()
