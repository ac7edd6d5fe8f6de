"""Access: users, tokens, releasability, audit chain, hand-over."""
