"""Who may see and do what: users, tokens, releasability and the audit chain."""
