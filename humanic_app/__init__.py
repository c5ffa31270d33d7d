"""Humanic: PostHog events in, personalised emails out."""
