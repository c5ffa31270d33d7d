"""Domain logic. Nothing here imports Reflex; every function takes keyword-only arguments."""
