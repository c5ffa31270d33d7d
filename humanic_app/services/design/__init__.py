"""Email design: the blocks a marketer composes an email of, the workspace's brand, and how both become the
HTML and text an email is sent with (services/composing.py personalises it per recipient)."""
