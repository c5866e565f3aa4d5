"""Answering: is this a question for the bot, can the knowledge answer it, and the reply itself."""
