"""`python -m bot COMMAND`: build, train, run, serve, shell, evaluate (see `bot/cli.py`)."""

from bot.cli import main

main()
