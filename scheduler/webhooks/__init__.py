"""Webhooks: the event outbox, Standard Webhooks signing and at-least-once delivery."""
