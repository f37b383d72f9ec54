"""Editing a course's content after it was created: rename, move and remove modules and lessons."""
