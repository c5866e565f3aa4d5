"""Scheduled posts: schedules → slots → drafts → owners' review → posting exactly once per slot.

slots (when), timewords (chat time phrases), store (drafts and posts in SQLite), drafting (what a post
says), scheduler (tick: draft, review, post), commands (the owners' chat commands).
"""
