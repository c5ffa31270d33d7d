"""Intake: a PostHog webhook delivery from its HTTP body to a stored event row, and nothing after that.

- `writer`: the web process's entry; judges each request on arrival and stores rounds of them (group commit).
- `judging`: token, signature, shape and mapping decide each request's answer and what gets stored.
- `payloads`: the body's shapes (default, REST hook, legacy text, custom, arrays) into events.
- `storing`: dedupe and store; on SQLite into the inbox, moved into the event table by the background worker.
- `inbox`: SQLite's inbox file, so the webhook never waits for processing's write lock.

Signatures are checked with services/signing.py, which stays outside: sources create signing secrets with
it and Resend's webhook verifies with it, and sources is what judging reads, so inside it would make
intake and sources import each other.
"""
