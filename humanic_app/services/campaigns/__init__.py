"""Campaigns: the document (schema), storing and changing campaigns (store), and the engine that turns
processed events into enrolments and scheduled messages."""
