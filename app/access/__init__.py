"""Who may do what: the actor, its permissions, and which 小区 it sees."""
