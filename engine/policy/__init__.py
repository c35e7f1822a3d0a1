"""Who may do what: pure rules over an actor and a task or case, no I/O (see roles and tasks)."""
