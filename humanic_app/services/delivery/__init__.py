"""Delivery: the outbox dispatcher, the send-time gate, and the senders (Resend, local outbox)."""
