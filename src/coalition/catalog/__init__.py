"""The catalog of item types donors can pledge and the recipient can require."""
