"""Users and sign-in: passwords, sessions, throttling."""
