"""Connecting Humanic to Resend: the credentials in effect and what the account allows."""
